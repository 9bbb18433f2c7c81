"""Issue 16, item 7: one money style and one date style on screen (portal.formatting, {% load portal_format %})."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from django.template import Context, Template
from django.utils import translation

from portal.formatting import cn_date, cn_datetime, money, yuan


def test_money_is_grouped_with_two_decimals_half_up():
    assert money(Decimal("3680")) == "3,680.00"
    assert money(Decimal("1234567.005")) == "1,234,567.01"
    assert money(Decimal("-12.5")) == "-12.50"
    assert money(None) == "—"
    with translation.override("zh-hans"):
        assert yuan(Decimal("3680")) == "3,680.00 元"
    with translation.override("en"):
        assert yuan(Decimal("3680")) == "3,680.00 yuan"


def test_dates_the_chinese_way_on_their_local_day():
    late_utc = datetime.datetime(2026, 11, 29, 17, 30, tzinfo=datetime.UTC)  # 30 November in Ningxia
    with translation.override("zh-hans"):
        assert cn_date(datetime.date(2026, 3, 5)) == "2026年3月5日"
        assert cn_date(late_utc) == "2026年11月30日"
        assert cn_datetime(late_utc.astimezone(ZoneInfo("Asia/Shanghai"))) == "2026年11月30日 01:30"


def test_the_template_filters():
    html = Template("{% load portal_format %}{{ a|money }} | {{ d|cn_date }}").render(
        Context({"a": Decimal("3680.00"), "d": datetime.date(2026, 12, 4)})
    )
    with translation.override("zh-hans"):
        html_zh = Template("{% load portal_format %}{{ d|cn_date }}").render(Context({"d": datetime.date(2026, 12, 4)}))
    assert html.startswith("3,680.00 | ") and html_zh == "2026年12月4日"


@pytest.mark.django_db
def test_my_page_shows_hours_and_no_division_code(client, liaison):
    """Issue 16, item 7: 我的 mixed minutes with hours and showed the 12-digit region code."""
    from django.urls import reverse

    client.force_login(liaison)
    response = client.get(reverse("portal:me"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "640422100201" not in html
    assert "Minutes at activities" not in html and "参加活动分钟" not in html


@pytest.mark.django_db
def test_favicon_is_not_a_404(client):
    """Issue 16, item 11: /favicon.ico answered 404."""
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("img/favicon.svg")
