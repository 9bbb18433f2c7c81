"""Family contact reports count in the ledger's family-duty page, the supervision dashboard and the ranking."""

import datetime

import pytest
import time_machine

from django.urls import reverse

from portal.models import Region
from services.family.models import FamilyContactLog
from services.supervision import figures as sup
from services.tests.factories_care import OTHER_TOWNSHIP_VILLAGE, SAME_TOWNSHIP_VILLAGE, VILLAGE, make_elder

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 12, 4, 2, 0, tzinfo=datetime.UTC)
TOWNSHIP = "640422100000"


@pytest.fixture
def area():
    with time_machine.travel(NOW - datetime.timedelta(days=100), tick=False):
        called = make_elder(name="马奶奶", village=VILLAGE)
        silent = make_elder(name="李爷爷", village=VILLAGE)
        old = make_elder(name="杨奶奶", village=SAME_TOWNSHIP_VILLAGE)
        outside = make_elder(name="海爷爷", village=OTHER_TOWNSHIP_VILLAGE)
        gone = make_elder(name="王爷爷", village=VILLAGE, status="deceased")
    FamilyContactLog.objects.create(elder=called, kind="call", contact_date=datetime.date(2026, 11, 28))
    FamilyContactLog.objects.create(elder=old, kind="visit", contact_date=datetime.date(2026, 10, 1))  # 64 days
    FamilyContactLog.objects.create(elder=outside, kind="call", contact_date=datetime.date(2026, 12, 1))
    FamilyContactLog.objects.create(elder=gone, kind="call", contact_date=datetime.date(2026, 12, 1))
    return {"called": called, "silent": silent, "old": old, "outside": outside}


@time_machine.travel(NOW, tick=False)
def test_share_by_village_in_scope(township_officer, area):
    total, rows = sup.family_contact_shares(
        township_officer, Region.objects.get(code=TOWNSHIP), level="village", now=NOW
    )
    assert (total.active, total.contacted, total.pct) == (3, 1, "33%")
    by_code = {r.code: r for r in rows}
    assert (by_code[VILLAGE].active, by_code[VILLAGE].contacted) == (2, 1)
    assert (by_code[SAME_TOWNSHIP_VILLAGE].active, by_code[SAME_TOWNSHIP_VILLAGE].contacted) == (1, 0)
    assert OTHER_TOWNSHIP_VILLAGE not in by_code


@time_machine.travel(NOW, tick=False)
def test_dashboard_shows_the_new_section(client, township_officer, area):
    client.force_login(township_officer)
    page = client.get(reverse("services:supervision"), {"region": TOWNSHIP}).content.decode()
    assert "家属联系" in page or "近30天内家属报告过" in page
    assert "（3人中1人）" in page


@time_machine.travel(NOW, tick=False)
def test_ranking_has_the_family_column(client, township_officer, area):
    client.force_login(township_officer)
    response = client.get(reverse("services:supervision-ranking"), {"region": TOWNSHIP, "level": "village"})
    assert response.status_code == 200
    rows = {r.code: r for r in response.context["table"].data.data}
    assert rows[VILLAGE].family_share == pytest.approx(0.5)
    assert rows[SAME_TOWNSHIP_VILLAGE].family_share == 0
    assert "30天内家属联系" in response.content.decode()
    # sorting by the new column works on the list (no None in it)
    sorted_page = client.get(
        reverse("services:supervision-ranking"), {"region": TOWNSHIP, "level": "village", "sort": "-family_share"}
    )
    assert sorted_page.status_code == 200


@time_machine.travel(NOW, tick=False)
def test_family_duty_page_lists_elders_without_family_contact(client, liaison, area):
    client.force_login(liaison)
    response = client.get(reverse("services:duty-repeat-list"))
    silent = [e.name for e in response.context["family_silent"]]
    assert silent == ["李爷爷"]  # 马奶奶's family called; the others are outside the village or off the ledger
    page = response.content.decode()
    assert "从未报告" in page


@time_machine.travel(NOW, tick=False)
def test_family_duty_page_in_township_scope(client, township_officer, area):
    client.force_login(township_officer)
    silent = [e.name for e in client.get(reverse("services:duty-repeat-list")).context["family_silent"]]
    assert silent == ["李爷爷", "杨奶奶"]  # never reported first, then the longest silence
