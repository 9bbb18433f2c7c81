"""Supervision additions of the proof of care: the share confirmed and the referral counts on the dashboard,
and the fourth warning sign 关爱服务流于形式 in the ranking."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from django.urls import reverse

from portal.models import Region
from services.referrals import actions as referral_actions
from services.referrals.models import ReferralKind
from services.spotchecks import actions
from services.spotchecks.models import SpotCheck, SpotCheckOutcome
from services.supervision import figures as sup
from services.tests.factories_care import SAME_TOWNSHIP_VILLAGE, VILLAGE, make_elder
from services.tests.factories_proof import local, make_visit

NOW = local(datetime.date(2026, 11, 20), 10)
pytestmark = pytest.mark.django_db


@pytest.fixture
def checked(liaison, township_officer):
    """October in 吉强镇: 大营村 — 1 of 3 reached confirmed (and one unreachable); 中街社区 — 2 of 2 confirmed."""
    with time_machine.travel(NOW, tick=False):
        for village, n in ((VILLAGE, 4), (SAME_TOWNSHIP_VILLAGE, 2)):
            for i in range(n):
                make_visit(make_elder(village=village), visitor=liaison, at=local(datetime.date(2026, 10, 3 + i)))
        actions.draw_month(
            actor=township_officer,
            region=Region.objects.get(code="640422100000"),
            month=datetime.date(2026, 10, 1),
            share=Decimal(1),
        )
        ours = list(SpotCheck.objects.filter(village_id=VILLAGE).order_by("pk"))
        results = [SpotCheckOutcome.CONFIRMED, SpotCheckOutcome.NOT_HAPPENED, SpotCheckOutcome.PARTLY]
        for check, result in zip(ours, results, strict=False):
            actions.record_result(actor=township_officer, check=check, result=result, note="回访记录")
        for _ in range(3):
            actions.record_result(actor=township_officer, check=ours[3], result=actions.NO_ANSWER)
        for check in SpotCheck.objects.filter(village_id=SAME_TOWNSHIP_VILLAGE):
            actions.record_result(actor=township_officer, check=check, result=SpotCheckOutcome.CONFIRMED)
        visit = make_visit(make_elder(), visitor=liaison, at=local(datetime.date(2026, 11, 10)))
        referral_actions.refer(actor=liaison, kind=ReferralKind.LEGAL, reason="赡养纠纷", visit=visit)
    return ours


def test_the_ranking_shows_care_in_name_only_where_few_call_backs_confirm(client, township_officer, checked):
    client.force_login(township_officer)
    with time_machine.travel(NOW, tick=False):
        response = client.get("/services/supervision/ranking/")
    rows = {row.code: row for row in response.context["table"].data}
    assert sup.SIGN_FORMAL in rows[VILLAGE].sign_list  # 1 of 3 reached confirmed
    assert sup.SIGN_FORMAL not in rows[SAME_TOWNSHIP_VILLAGE].sign_list  # 2 of 2
    assert "关爱服务流于形式" in response.content.decode()


def test_the_sign_looks_back_three_months_only(township_officer, checked):
    region = Region.objects.get(code="640422100000")
    with time_machine.travel(local(datetime.date(2026, 12, 20)), tick=False):
        assert sup.formal_care_codes(township_officer, region.prefix, level="village") == {VILLAGE}
    with time_machine.travel(local(datetime.date(2027, 1, 5)), tick=False):
        assert sup.formal_care_codes(township_officer, region.prefix, level="village") == set()


def test_the_dashboard_shows_the_share_confirmed_and_the_referrals(client, township_officer, checked):
    client.force_login(township_officer)
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("services:supervision"), {"preset": "this_quarter"})
    proof = response.context["proof"]
    assert proof["spot"]["total"] == 6 and proof["spot"]["reached"] == 5 and proof["spot"]["confirmed"] == 3
    assert proof["spot_confirmed_pct"] == sup.percent(3 / 5)
    assert proof["referrals"]["total"] == 1 and proof["referrals"]["open"] == 1
    page = response.content.decode()
    assert "Proof that care happened" in page or "关爱落实核验" in page
