"""Issue 16, item 1: the public concern report is linked from the home page and the public pages about care."""

import pytest

from django.urls import reverse

from cms.models import ArticleIndexPage, ArticlePage, PolicyIndexPage, PolicyPage

pytestmark = pytest.mark.django_db


def test_the_home_page_links_the_concern_report(client, site):
    html = client.get("/").content.decode()
    report = reverse("services:alert-report")
    # the hero's button, the callout and the footer's emergency line
    assert html.count(f'href="{report}"') >= 3
    assert reverse("services:alert-report-status") in html


@pytest.mark.parametrize("which", ["policy", "policy_index", "publicity", "article", "list_page"])
def test_the_policy_publicity_and_service_list_pages_link_it(client, site, list_page, which):
    page = {
        "policy": lambda: PolicyPage.objects.live().first(),
        "policy_index": lambda: PolicyIndexPage.objects.live().first(),
        "publicity": lambda: ArticleIndexPage.objects.get(slug="publicity"),
        "article": lambda: ArticlePage.objects.live().first(),
        "list_page": lambda: list_page,
    }[which]()
    assert page is not None
    response = client.get(page.url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="report-concern"' in html
    assert html.count(f'href="{reverse("services:alert-report")}"') >= 2  # the callout and the footer
