"""The header's large-text and language switches are GET (no per-visitor token on public pages) and only
ever send the visitor back to a page of this site."""

import pytest

from django.urls import reverse

pytestmark = pytest.mark.django_db

OFFSITE = ["//evil.com", "https://evil.com", "http://evil.com/x", "/\\evil.com", "javascript:alert(1)", "\\\\evil.com"]


def test_anonymous_header_has_no_token_and_sets_no_cookie(client, home_page):
    response = client.get("/policy/?page=2")
    body = response.content.decode()
    assert "csrfmiddlewaretoken" not in body
    assert not response.cookies
    assert '<form method="get" action="/a11y/toggle/"' in body
    assert '<input type="hidden" name="mode" value="on">' in body
    assert 'href="/i18n/lang/en/?next=/policy/%3Fpage%3D2" rel="nofollow"' in body


def test_signed_in_header_keeps_its_sign_out_form(client, home_page, township_officer):
    client.force_login(township_officer)
    body = client.get("/").content.decode()
    assert 'action="/accounts/logout/"' in body and "csrfmiddlewaretoken" in body
    # the staff links are in both copies of the navigation: the phone menu and the wide row
    assert body.count(f'href="{reverse("services:elder-list")}"') == 2


def test_large_text_link_sets_the_mode_and_returns_to_the_page(client, home_page):
    response = client.get(reverse("toggle_elder_mode"), {"mode": "on", "next": "/policy/?page=2"})
    assert response.status_code == 302
    assert response["Location"] == "/policy/?page=2"
    assert response.cookies["elder_mode"].value == "1"
    assert 'class="elder-mode"' in client.get("/").content.decode()
    # the same link again (double click, prefetch) keeps it on
    client.get(reverse("toggle_elder_mode"), {"mode": "on", "next": "/"})
    assert client.cookies["elder_mode"].value == "1"
    body = client.get("/").content.decode()
    assert '<input type="hidden" name="mode" value="off">' in body and 'aria-pressed="true"' in body
    client.get(reverse("toggle_elder_mode"), {"mode": "off", "next": "/"})
    assert 'class="elder-mode"' not in client.get("/").content.decode()


def test_large_text_without_mode_toggles_and_post_still_works(client):
    client.get(reverse("toggle_elder_mode"))
    assert client.cookies["elder_mode"].value == "1"
    client.post(reverse("toggle_elder_mode"), {"next": "/"})
    assert client.cookies["elder_mode"].value == "0"


def test_language_link_sets_the_language_and_returns(client, home_page):
    response = client.get(reverse("choose_language", args=["en"]), {"next": "/policy/"})
    assert response.status_code == 302 and response["Location"] == "/policy/"
    assert response.cookies["django_language"].value == "en"
    body = client.get("/").content.decode()
    assert '<html lang="en"' in body
    assert 'href="/i18n/lang/zh-hans/?next=/" rel="nofollow" lang="zh-Hans"' in body
    client.get(reverse("choose_language", args=["zh-hans"]))
    assert '<html lang="zh-Hans"' in client.get("/").content.decode()


def test_unknown_language_is_refused_and_changes_nothing(client):
    response = client.get("/i18n/lang/xx/", {"next": "/"})
    assert response.status_code == 404
    assert "django_language" not in response.cookies


def test_switches_accept_only_get_and_the_old_post(client):
    assert client.post(reverse("choose_language", args=["en"])).status_code == 405
    assert client.put(reverse("toggle_elder_mode")).status_code == 405


@pytest.mark.parametrize("target", OFFSITE)
def test_switches_never_redirect_off_site(client, target):
    for url in (reverse("toggle_elder_mode"), reverse("choose_language", args=["en"])):
        response = client.get(url, {"next": target})
        assert response.status_code == 302
        assert response["Location"] == "/", (url, target)
    response = client.post(reverse("toggle_elder_mode"), {"next": target})
    assert response["Location"] == "/"


def test_header_injection_in_next_is_refused(client):
    response = client.get(reverse("toggle_elder_mode"), {"next": "/x\r\nSet-Cookie: admin=1"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert "admin" not in response.cookies


def test_markup_in_next_is_escaped_in_the_page_and_the_redirect(client, home_page):
    attack = '"><script>alert(1)</script>'
    body = client.get("/", QUERY_STRING=f"x={attack}").content.decode()
    assert "<script>alert(1)</script>" not in body
    response = client.get(reverse("toggle_elder_mode"), {"mode": "on", "next": "/" + attack})
    assert "<script>" not in response["Location"] and response["Location"].startswith("/")


def test_robots_keeps_crawlers_off_the_switches(client):
    body = client.get("/robots.txt").content.decode()
    assert "Disallow: /a11y/" in body and "Disallow: /i18n/" in body
