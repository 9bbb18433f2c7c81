import datetime

import pytest

import cms.demo
import services.catalogue.demo
from cms.models import ArticleIndexPage, ArticlePage, HomePage, PolicyIndexPage, PolicyPage, StandardPage
from services.models import ServiceCategory, ServiceItem

pytestmark = pytest.mark.django_db


def test_home_shows_policy_publicity_services_and_hotline(client, site):
    body = client.get("/").content.decode()
    assert "农村留守老年人关爱服务" in body
    assert "宁民发〔2018〕105号" in body
    assert "孝亲敬老宣传" in body and "常回家看看" in body
    assert "关爱服务清单" in body and "生活照料" in body
    assert 'href="tel:12349"' in body
    assert '<meta property="og:title"' in body and '<meta name="description"' in body


def test_home_hides_activities_when_there_are_none(client, site, monkeypatch):
    monkeypatch.setattr("volunteers.activities.activities_upcoming", lambda **kwargs: [])
    assert "近期活动" not in client.get("/").content.decode()


def test_home_lists_upcoming_activities(client, site, monkeypatch):
    class Activity:
        title = "重阳节健康义诊"
        start = datetime.datetime(2026, 12, 2, 9, 0, tzinfo=datetime.UTC)
        address = "大营村委会"

        def get_absolute_url(self):
            return "/volunteers/activities/1/"

    monkeypatch.setattr("volunteers.activities.activities_upcoming", lambda **kwargs: [Activity()])
    body = client.get("/").content.decode()
    assert "近期活动" in body and "重阳节健康义诊" in body and 'href="/volunteers/activities/1/"' in body


def test_policy_page_shows_the_full_text_and_its_facts(client, policy):
    response = client.get(policy.url)
    body = response.content.decode()
    assert response.status_code == 200
    assert "宁民发〔2018〕105号" in body
    assert "2018年11月13日" in body
    assert "现行有效" in body
    assert "宁夏回族自治区民政厅" in body and "宁夏回族自治区老龄工作委员会办公室" in body
    # the full text, from its first paragraph to its last
    assert "为贯彻落实民政部等 9 部门" in body
    assert "建立农村留守老年人定期巡访制度" in body
    assert "加快建立健全农村留守老年人关爱服务体系。" in body
    assert "关于加强农村留守老年人关爱服务工作的意见（摘要）" in body  # related policy
    assert 'data-read-aloud="#policy-text"' in body and "hidden" in body
    assert '<meta property="og:type" content="article">' in body


def test_the_national_opinion_is_honestly_a_summary(client, site):
    national = PolicyPage.objects.get(document_number="民发〔2017〕193号")
    body = client.get(national.url).content.decode()
    assert "本页只是摘要，不是文件原文" in body
    assert not national.full_text


def test_policy_index_filters_by_validity_and_ignores_unknown_values(client, site):
    index = PolicyIndexPage.objects.get()
    PolicyPage.objects.filter(document_number="民发〔2017〕193号").update(validity=PolicyPage.Validity.REPEALED)
    assert len(client.get(index.url, {"validity": "repealed"}).context["policies"].object_list) == 1
    assert len(client.get(index.url, {"validity": "<x>"}).context["policies"].object_list) == 2


def test_article_index_filters_by_category_and_tag(client, publicity):
    law = client.get(publicity.url, {"category": "law"}).context["articles"].object_list
    assert [a.title for a in law] == ["法律小课堂：子女的赡养义务有哪些"]
    tagged = client.get(publicity.url, {"tag": "巡访"}).context["articles"].object_list
    assert [a.slug for a in tagged] == ["cun-lianluoren-xunfang"]  # from the county section below
    assert client.get(publicity.url, {"category": "nope", "page": "x"}).status_code == 200


def test_article_page_has_read_aloud_and_tags(client, site):
    article = ArticlePage.objects.get(slug="laonianren-quanyi-shanyang")
    body = client.get(article.url).content.decode()
    assert "赡养人不得以放弃继承权" in body
    assert 'data-read-aloud="#article-text"' in body
    assert "?tag=" in body


def test_elder_mode_class_reaches_cms_pages(client, policy):
    client.cookies["elder_mode"] = "1"
    assert 'class="elder-mode"' in client.get(policy.url).content.decode()


def test_sitemap_robots_and_feeds(client, policy, list_page):
    sitemap = client.get("/sitemap.xml").content.decode()
    assert policy.url in sitemap and "/care-services/item/" in sitemap
    robots = client.get("/robots.txt")
    assert robots["Content-Type"].startswith("text/plain")
    assert "Sitemap: http://testserver/sitemap.xml" in robots.content.decode()
    policies = client.get("/feeds/policies/").content.decode()
    assert "宁民发〔2018〕105号" in policies and "<rss" in policies
    publicity = client.get("/feeds/publicity/").content.decode()
    assert "常回家看看" in publicity


def test_policy_stylesheet_has_a_print_section(client):
    from pathlib import Path

    css = (Path(__file__).resolve().parents[2] / "static" / "css" / "cms.css").read_text()
    assert "@media print" in css


def _many_policies_and_articles(site, n):
    index = PolicyIndexPage.objects.get()
    publicity = ArticleIndexPage.objects.get(slug="publicity")
    for i in range(n):
        index.add_child(instance=PolicyPage(title=f"政策 {i}", slug=f"p{i}", document_number=f"测〔2026〕{i}号"))
        publicity.add_child(instance=ArticlePage(title=f"文章 {i}", slug=f"a{i}", date="2026-01-01", category="news"))
    care = ServiceCategory.objects.first()
    for i in range(n):
        ServiceItem.objects.create(category=care, name=f"服务 {i}", description="x")


def test_home_and_policy_query_counts_do_not_grow(client, site, policy, django_assert_max_num_queries, settings):
    settings.PUBLIC_PAGE_CACHE_SECONDS = 0  # counts the rendering, not the page cache (cms/tests/test_cms_cache.py)
    client.get("/")
    with django_assert_max_num_queries(14) as few:
        client.get("/")
    with django_assert_max_num_queries(14):
        client.get(policy.url)
    _many_policies_and_articles(site, 30)
    policy.related_policies.set(PolicyPage.objects.exclude(pk=policy.pk))
    policy.save()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/").status_code == 200
    with django_assert_max_num_queries(14):
        assert client.get(policy.url).status_code == 200
    with django_assert_max_num_queries(14):
        assert client.get(PolicyIndexPage.objects.get().url).status_code == 200
    with django_assert_max_num_queries(14):
        assert client.get(ArticleIndexPage.objects.get(slug="publicity").url).status_code == 200


def test_standard_page_and_unknown_pages(client, site):
    about = StandardPage.objects.get(slug="about")
    assert "12349" in client.get(about.url).content.decode()
    assert client.get("/no-such-page/").status_code == 404
    assert HomePage.objects.count() == 1


def test_demo_seeding_twice_gives_no_duplicates(db):
    for _ in range(2):
        services.catalogue.demo.seed()
        cms.demo.seed()
    assert PolicyPage.objects.filter(document_number="宁民发〔2018〕105号").count() == 1
    assert PolicyPage.objects.count() == 2
    assert ArticlePage.objects.count() >= 5
    assert set(ArticlePage.objects.values_list("category", flat=True)) == {"model", "health", "law", "news"}
    items = ServiceItem.objects.filter(published=True)
    assert items.count() >= 20
    assert items.values("category").distinct().count() == 9
    assert items.filter(regions__level="county").exists()
