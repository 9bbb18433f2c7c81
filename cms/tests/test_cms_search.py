import time

import pytest

from django.urls import reverse

from cms.models import ArticlePage
from cms.search import MAX_QUERY_LENGTH, QUERY_EMPTY, QUERY_TRUNCATED, query_terms, segment_for_index

pytestmark = pytest.mark.django_db

SEARCH = "/search/"


def test_segmenting_cuts_chinese_into_characters_and_pairs():
    assert segment_for_index("留守老人, Care 2018") == "留 守 老 人 留守 守老 老人 care 2018"
    assert query_terms("留守老人") == ["留守", "守老", "老人"]
    assert query_terms("孝") == ["孝"]
    assert query_terms("！？。，、…") == []


@pytest.mark.parametrize("word", ["留守", "赡养", "巡访", "委托照顾协议"])
def test_a_word_inside_the_policy_body_finds_the_policy(client, policy, word):
    response = client.get(SEARCH, {"query": word})
    assert response.status_code == 200
    titles = [r.title for r in response.context["results"]]
    assert policy.title in titles
    assert f"<mark>{word}</mark>" in response.content.decode()


def test_q_is_read_as_well_as_query(client, policy):
    response = client.get(SEARCH, {"q": "宁民发"})
    assert policy.title in [r.title for r in response.context["results"]]
    assert reverse("cms:search") == SEARCH


def test_a_word_on_no_page_finds_nothing(client, site):
    response = client.get(SEARCH, {"query": "火星探测器"})
    assert response.status_code == 200
    assert response.context["results"].paginator.count == 0
    assert "没有找到" in response.content.decode()


def test_a_new_article_is_found_once_published(client, publicity):
    article = publicity.add_child(
        instance=ArticlePage(
            title="测试", slug="t", date="2026-01-01", category="news", body=[("paragraph", "<p>谷雨时节种胡麻</p>")]
        )
    )
    response = client.get(SEARCH, {"query": "胡麻"})
    assert [r.pk for r in response.context["results"]] == [article.pk]
    article.unpublish()
    response = client.get(SEARCH, {"query": "胡麻"})
    assert response.context["results"].paginator.count == 0


def test_search_pages_through_many_results(client, publicity):
    for n in range(23):
        publicity.add_child(
            instance=ArticlePage(
                title=f"秋收 {n}",
                slug=f"a{n}",
                date="2026-01-01",
                category="news",
                body=[("paragraph", "<p>秋收互助</p>")],
            )
        )
    first = client.get(SEARCH, {"query": "秋收"})
    assert first.context["results"].paginator.count == 23
    assert len(first.context["results"].object_list) == 10
    third = client.get(SEARCH, {"query": "秋收", "page": 3})
    assert len(third.context["results"].object_list) == 3
    assert client.get(SEARCH, {"query": "秋收", "page": "abc"}).context["results"].number == 1
    assert client.get(SEARCH, {"query": "秋收", "page": "999"}).context["results"].number == 3


def test_a_2000_character_query_answers_quickly_with_a_notice(client, site):
    start = time.perf_counter()
    response = client.get(SEARCH, {"query": "留守老人关爱服务" * 250})
    assert time.perf_counter() - start < 3
    assert response.status_code == 200
    assert str(QUERY_TRUNCATED % {"count": MAX_QUERY_LENGTH}) in response.content.decode()


@pytest.mark.parametrize("query", ["！？。，、……", "'\"<>;--", "%_%", "*", "\x00"])
def test_punctuation_only_queries_answer_with_a_hint(client, site, query):
    response = client.get(SEARCH, {"query": query})
    assert response.status_code == 200
    assert response.context["results"] is None
    assert str(QUERY_EMPTY) in response.content.decode()


def test_query_is_escaped_in_the_results_page(client, site):
    body = client.get(SEARCH, {"query": "<script>alert(1)</script>留守"}).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body


def test_service_items_are_found_too(client, list_page):
    response = client.get(SEARCH, {"query": "助餐"})
    names = [i.name for i in response.context["service_items"]]
    assert "农村老饭桌助餐" in names
    assert f"{list_page.url}item/" in response.content.decode()
