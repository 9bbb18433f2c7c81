"""Rich text with scripts, javascript: links and event handlers, however it got in, renders harmless."""

import json

import pytest

from django.urls import reverse

from cms.models import ArticlePage, PolicyPage, StandardPage
from cms.richtext import clean_html
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

EVIL = (
    '<p>正文<script>alert("x")</script></p>'
    '<p><a href="javascript:alert(1)">点我</a> <a href="JaVaScRiPt&#58;alert(2)">再点</a>'
    ' <a href=" java\tscript:alert(3)">三</a></p>'
    '<p onmouseover="alert(4)">悬停</p><img src="x" onerror="alert(5)">'
    '<iframe src="https://evil.example"></iframe><style>body{display:none}</style>'
    '<p><a href="https://www.mca.gov.cn/">民政部</a> <a href="tel:12349">12349</a></p>'
)


def assert_harmless(body: str) -> None:
    lowered = body.lower()
    for bad in ("<script>alert", "javascript:", "onerror=", "onmouseover=", "<iframe", "body{display:none}"):
        assert bad not in lowered, bad
    assert 'href="https://www.mca.gov.cn/"' in body and 'href="tel:12349"' in body


def test_clean_html_keeps_safe_markup():
    cleaned = clean_html(EVIL)
    assert_harmless(cleaned)
    assert "<p>正文</p>" in cleaned


def test_policy_full_text_saved_on_the_model_renders_harmless(client, policy):
    policy.full_text = EVIL
    policy.save_revision().publish()
    assert_harmless(client.get(policy.url).content.decode())


def test_stream_blocks_render_harmless(client, publicity):
    page = publicity.add_child(
        instance=ArticlePage(
            title="测试",
            slug="evil",
            date="2026-01-01",
            category="news",
            body=[
                ("paragraph", EVIL),
                (
                    "call_to_action",
                    {"title": "t", "text": "", "page": None, "url": "javascript:alert(6)", "button": "b"},
                ),
                ("quote", {"text": "<script>alert(7)</script>", "source": ""}),
            ],
        )
    )
    body = client.get(page.url).content.decode()
    assert_harmless(body)
    assert "&lt;script&gt;alert(7)" in body


def test_rich_text_posted_through_the_admin_renders_harmless(client, site, django_user_model):
    from allauth.mfa.models import Authenticator

    admin = UserFactory(phone="13700009999", is_superuser=True, is_staff=True)
    Authenticator.objects.create(user=admin, type=Authenticator.Type.TOTP, data={"secret": "x"})
    client.force_login(admin)
    page = StandardPage.objects.get(slug="about")
    contentstate = {
        "blocks": [
            {
                "key": "a1",
                "type": "unstyled",
                "depth": 0,
                "text": "<script>alert(1)</script> 链接",
                "inlineStyleRanges": [],
                "entityRanges": [{"offset": 27, "length": 2, "key": 0}],
            },
        ],
        "entityMap": {"0": {"type": "LINK", "mutability": "MUTABLE", "data": {"url": "javascript:alert(1)"}}},
    }
    data = {
        "title": "关于本站",
        "slug": "about",
        "intro": "<img src=x onerror=alert(1)>",
        "body-count": "1",
        "body-0-deleted": "",
        "body-0-order": "0",
        "body-0-type": "paragraph",
        "body-0-id": "p1",
        "body-0-value": json.dumps(contentstate),
        "action-publish": "action-publish",
    }
    response = client.post(reverse("wagtailadmin_pages:edit", args=[page.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    page.refresh_from_db()
    body = client.get(page.url).content.decode()
    assert "<script>alert(1)</script>" not in body and "javascript:" not in body.lower()
    assert "<img src=x" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body  # shown as text, not run


def test_policy_page_model_requires_nothing_dangerous_in_title(client, policy):
    policy.title = '<script>alert("t")</script>'
    policy.save_revision().publish()
    body = client.get(PolicyPage.objects.get(pk=policy.pk).url).content.decode()
    assert '<script>alert("t")</script>' not in body
