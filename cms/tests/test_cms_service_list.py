import pytest

from portal.models import Region
from services.models import ServiceCategory, ServiceItem

pytestmark = pytest.mark.django_db

XIJI, JIQIANG, XINGLONG, YINCHUAN_XINGQING = "640422000000", "640422100000", "640422101000", "640104000000"


def names(response):
    return {item.name for _, rows in response.context["groups"] for item in rows}


def test_list_is_grouped_by_category_in_policy_order(client, list_page):
    response = client.get(list_page.url)
    assert response.status_code == 200
    categories = [c.name for c, _ in response.context["groups"]]
    assert categories == [
        "生活照料",
        "精神慰藉",
        "安全监护",
        "权益维护",
        "健康管理",
        "康复护理",
        "紧急援助",
        "文体娱乐",
        "法律援助",
    ]
    assert response.context["item_count"] == ServiceItem.objects.filter(published=True).count()
    assert response.context["notices"] == []


def test_county_filter_keeps_items_of_that_county_and_everywhere(client, list_page):
    response = client.get(list_page.url, {"county": YINCHUAN_XINGQING})
    shown = names(response)
    assert "定期巡访" in shown  # covers all of Ningxia
    assert "农村老饭桌助餐" not in shown  # 西吉县 and 海原县 only
    assert "农村老饭桌助餐" in names(client.get(list_page.url, {"county": XIJI}))
    body = client.get(list_page.url, {"county": XIJI}).content.decode()
    assert 'value="640422000000" selected' in body and "吉强镇" in body  # township choices appear


def test_township_filter(client, list_page):
    shown = names(client.get(list_page.url, {"county": XIJI, "township": JIQIANG}))
    assert "慢性病送药上门" in shown  # 西吉县 (and both townships)
    item = ServiceItem.objects.get(name="农村老饭桌助餐")
    item.regions.set([Region.objects.get(code=XINGLONG)])
    assert "农村老饭桌助餐" not in names(client.get(list_page.url, {"county": XIJI, "township": JIQIANG}))
    assert "农村老饭桌助餐" in names(client.get(list_page.url, {"township": XINGLONG}))  # county derived from code


@pytest.mark.parametrize(
    "params",
    [
        {"county": "abc"},
        {"county": "640422100201"},  # a village, not a county
        {"county": "110101000000"},  # Beijing
        {"county": "' OR 1=1 --"},
        {"county": "6" * 500},
        {"county": XIJI, "township": "640104001000"},  # township of another county
        {"township": "x"},
    ],
)
def test_unknown_filter_values_give_a_list_and_a_notice(client, list_page, params):
    response = client.get(list_page.url, params)
    assert response.status_code == 200
    assert response.context["notices"], params
    assert response.context["item_count"] > 0
    assert "请注意" in response.content.decode() or "注意" in response.content.decode()


def test_each_item_has_its_own_page(client, list_page):
    item = ServiceItem.objects.get(name="心理疏导")
    response = client.get(f"{list_page.url}item/{item.pk}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "心理疏导" in body and "乡镇社会工作站" in body and "西吉县" in body
    assert f'href="{list_page.url}item/{item.pk}/"' in client.get(list_page.url).content.decode()


def test_unpublished_or_missing_items_are_404(client, list_page):
    item = ServiceItem.objects.get(name="心理疏导")
    item.published = False
    item.save()
    assert client.get(f"{list_page.url}item/{item.pk}/").status_code == 404
    assert client.get(f"{list_page.url}item/999999/").status_code == 404
    assert client.get(f"{list_page.url}item/abc/").status_code == 404
    assert "心理疏导" not in names(client.get(list_page.url))


def test_item_text_is_escaped(client, list_page):
    care = ServiceCategory.objects.get(name="生活照料")
    item = ServiceItem.objects.create(
        category=care, name="<script>alert(1)</script>", description="<img src=x onerror=alert(1)>"
    )
    for url in (list_page.url, f"{list_page.url}item/{item.pk}/"):
        body = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in body and "<img src=x" not in body


def test_service_list_query_count_does_not_grow(client, list_page, django_assert_max_num_queries, settings):
    settings.PUBLIC_PAGE_CACHE_SECONDS = 0  # counts the rendering, not the page cache (cms/tests/test_cms_cache.py)
    client.get(list_page.url, {"county": XIJI})
    with django_assert_max_num_queries(12) as few:
        client.get(list_page.url, {"county": XIJI})
    categories = list(ServiceCategory.objects.all())
    regions = list(Region.objects.filter(level="county"))
    for n in range(60):
        item = ServiceItem.objects.create(category=categories[n % 9], name=f"服务 {n}", description="说明")
        item.regions.set(regions[: n % 4])
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(list_page.url, {"county": XIJI})
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(list_page.url)
    assert response.context["item_count"] > 60
