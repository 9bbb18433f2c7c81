"""The public page cache (portal.cache): who is served from it, which variants it keeps apart, and which
changes empty it."""

import pytest

from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import Client, override_settings

from wagtail.models import PageViewRestriction

from cms.models import PolicyIndexPage, StandardPage
from portal.cache import HIT_HEADER, page_cache
from services.models import ServiceItem
from volunteers.activities import activity_signup
from volunteers.tests.conftest import make_activity, make_organisation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    """The test settings turn the cache off so other tests see fresh pages; these tests are about it."""
    settings.PUBLIC_PAGE_CACHE_SECONDS = 300
    page_cache().clear()


def cached(response) -> str | None:
    return response.get(HIT_HEADER)


def test_second_anonymous_get_is_served_from_the_cache_without_queries(client, site, django_assert_num_queries):
    first = client.get("/")
    assert first.status_code == 200 and cached(first) == "miss"
    with django_assert_num_queries(0):
        second = client.get("/")
    assert cached(second) == "hit"
    assert second.content == first.content
    assert "宁民发〔2018〕105号" in second.content.decode()
    assert "Cookie" in second["Vary"]
    assert not second.cookies


@pytest.mark.parametrize(
    "path",
    ["/policy/", "/policy/ningxia-2018-105/", "/care-services/", "/sitemap.xml", "/robots.txt", "/feeds/policies/"],
)
def test_public_pages_sitemap_robots_and_feeds_are_cached(client, site, path, django_assert_num_queries):
    assert cached(client.get(path)) == "miss"
    with django_assert_num_queries(0):
        assert cached(client.get(path)) == "hit"


def test_query_string_is_part_of_the_key(client, site):
    whole = client.get("/care-services/")
    county = client.get("/care-services/?county=640422000000")
    assert cached(county) == "miss"
    assert county.content != whole.content
    assert cached(client.get("/care-services/?county=640422000000")) == "hit"


def test_large_text_and_english_are_separate_entries(site):
    standard, elder, english = Client(), Client(), Client()
    elder.cookies["elder_mode"] = "1"
    english.cookies["django_language"] = "en"
    assert cached(standard.get("/")) == "miss"
    elder_first = elder.get("/")
    assert cached(elder_first) == "miss" and 'class="elder-mode"' in elder_first.content.decode()
    english_first = english.get("/")
    assert cached(english_first) == "miss" and '<html lang="en"' in english_first.content.decode()
    # each variant is then served from its own entry
    assert 'class="elder-mode"' in elder.get("/").content.decode()
    body = standard.get("/").content.decode()
    assert 'class="elder-mode"' not in body and '<html lang="zh-Hans"' in body
    again = english.get("/")
    assert cached(again) == "hit" and '<html lang="en"' in again.content.decode()


def test_signed_in_user_never_gets_the_anonymous_copy(client, site, township_officer):
    client.get("/")  # fills the cache
    officer = Client()
    officer.force_login(township_officer)
    response = officer.get("/")
    assert cached(response) is None
    body = response.content.decode()
    assert 'action="/accounts/logout/"' in body  # their own header, with their sign-out form
    assert "private" in response["Cache-Control"] and "Cookie" in response["Vary"]


def test_signed_in_user_never_fills_the_cache(client, site, township_officer):
    officer = Client()
    officer.force_login(township_officer)
    officer.get("/")
    officer.get("/")
    response = client.get("/")
    assert cached(response) == "miss"
    assert 'action="/accounts/logout/"' not in response.content.decode()


def test_a_visitor_with_a_session_cookie_is_not_served_from_the_cache(client, site):
    client.get("/")
    client.cookies["sessionid"] = "anything"
    assert cached(client.get("/")) is None


def test_pending_messages_are_neither_served_nor_stored(client, site, rf):
    storage = CookieStorage(rf.get("/"))
    client.cookies["messages"] = storage._encode([Message(constants.INFO, "只给这位访客的提示")])
    response = client.get("/")
    assert "只给这位访客的提示" in response.content.decode()
    assert cached(response) is None
    other = Client().get("/")
    assert cached(other) == "miss" and "只给这位访客的提示" not in other.content.decode()


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/", "/search/?query=%E7%95%99%E5%AE%88"])
def test_sign_in_sign_up_and_search_are_never_cached(client, site, path):
    client.get(path)
    assert cached(client.get(path)) is None


def test_cache_can_be_turned_off(client, site):
    with override_settings(PUBLIC_PAGE_CACHE_SECONDS=0):
        client.get("/")
        assert cached(client.get("/")) is None


def test_publishing_a_page_shows_at_once(client, policy):
    assert cached(client.get(policy.url)) == "miss"
    policy.title = "新标题：政策已修订"
    policy.save_revision().publish()
    response = client.get(policy.url)
    assert cached(response) == "miss"
    assert "新标题：政策已修订" in response.content.decode()


def test_a_draft_is_never_shown_to_visitors(client, policy):
    client.get(policy.url)
    policy.title = "尚未发布的草稿标题"
    policy.save_revision()
    assert "尚未发布的草稿标题" not in client.get(policy.url).content.decode()


def test_unpublished_moved_and_deleted_pages_leave_the_cache(client, site, policy):
    assert client.get(policy.url).status_code == 200
    policy.unpublish()
    assert client.get(policy.url).status_code == 404

    page = StandardPage(title="缓存测试页", slug="cache-test")
    site.add_child(instance=page)
    assert client.get("/cache-test/").status_code == 200
    client.get("/cache-test/")
    page.move(PolicyIndexPage.objects.get(), pos="last-child")
    old_address = client.get("/cache-test/")  # not the cached copy: Wagtail's redirect to the new place
    assert old_address.status_code == 301 and old_address["Location"] == "/policy/cache-test/"
    assert client.get("/policy/cache-test/").status_code == 200

    client.get("/policy/cache-test/")
    page.refresh_from_db()
    page.delete()
    assert client.get("/policy/cache-test/").status_code == 404


def test_a_new_view_restriction_takes_the_page_out_of_the_cache(client, policy):
    client.get(policy.url)
    PageViewRestriction.objects.create(
        page=policy,
        restriction_type=PageViewRestriction.PASSWORD,
        password="x",  # noqa: S106
    )
    response = client.get(policy.url)
    body = response.content.decode()
    assert "为贯彻落实民政部等 9 部门" not in body
    assert "csrfmiddlewaretoken" in body  # the password form: per visitor, so never stored
    assert cached(client.get(policy.url)) is None


def test_a_service_item_change_shows_on_the_list(client, list_page):
    client.get("/care-services/")
    item = ServiceItem.objects.get(name="心理疏导")
    item.name = "心理疏导（新）"
    item.save()
    response = client.get("/care-services/")
    assert cached(response) == "miss" and "心理疏导（新）" in response.content.decode()
    item.regions.add("640422000000")  # a coverage change alone (m2m) also counts
    assert cached(client.get("/care-services/")) == "miss"
    item.delete()
    assert "心理疏导（新）" not in client.get("/care-services/").content.decode()


def test_a_new_or_cancelled_activity_shows_on_the_home_page(client, site, volunteer):
    assert "重阳节登山" not in client.get("/").content.decode()
    organisation = make_organisation(admin=volunteer)
    activity = make_activity(organisation=organisation, title="重阳节登山")
    assert "重阳节登山" in client.get("/").content.decode()
    activity.status = "cancelled"
    activity.save()
    assert "重阳节登山" not in client.get("/").content.decode()


def test_staff_and_personal_prefixes_are_never_cached(client, site):
    for path in ("/volunteers/signup/", "/admin/login/", "/portal/workbench/", "/services/elders/", "/volunteers/me/"):
        client.get(path)
        assert cached(client.get(path)) is None, path


@pytest.mark.parametrize(
    "path", ["/volunteers/organisations/", "/volunteers/activities/", "/volunteers/activities.ics"]
)
def test_public_directory_and_activity_list_are_cached(client, site, path, django_assert_num_queries):
    assert cached(client.get(path)) == "miss"
    with django_assert_num_queries(0):
        assert cached(client.get(path)) == "hit"


def test_an_approved_organisation_shows_in_the_cached_directory_at_once(client, site, volunteer):
    organisation = make_organisation(admin=volunteer, status="pending", name="兴隆村互助幸福院")
    assert "兴隆村互助幸福院" not in client.get("/volunteers/organisations/").content.decode()
    organisation.status = "approved"
    organisation.save()
    assert "兴隆村互助幸福院" in client.get("/volunteers/organisations/").content.decode()


def test_a_sign_up_refreshes_the_places_left_on_the_cached_activity_list(client, site, volunteer):
    activity = make_activity(organisation=make_organisation(admin=volunteer), title="重阳节登山")
    assert cached(client.get("/volunteers/activities/")) == "miss"
    assert cached(client.get("/volunteers/activities/")) == "hit"
    activity_signup(user=volunteer, activity=activity)
    assert cached(client.get("/volunteers/activities/")) == "miss"
