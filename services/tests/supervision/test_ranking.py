"""The warning-sign ranking (底数不清 / 巡访不实 / 处置不及时): order, the stale-days setting, sorting, links, scope."""

import datetime

import pytest

from django.urls import reverse
from django.utils import timezone

from services.care.state import refresh_elders
from services.models import Elder
from services.supervision import figures as sup
from services.tests.factories_care import (
    OTHER_TOWNSHIP_VILLAGE,
    SAME_TOWNSHIP_VILLAGE,
    VILLAGE,
    add_supporter,
    make_elder,
)
from services.tests.supervision.test_dashboard import alert

pytestmark = pytest.mark.django_db

URL = "/services/supervision/ranking/"
TOWNSHIP = "640422100000"  # 吉强镇
OTHER_TOWNSHIP = "640422101000"  # 兴隆镇


def fresh_elder(village: str, **fields) -> Elder:
    """An elder with a reachable supporter, just visited at home: no warning sign of its own."""
    elder = make_elder(village=village, **fields)
    add_supporter(elder)
    now = timezone.now()
    Elder.objects.filter(pk=elder.pk).update(last_visit_at=now, last_home_visit_at=now)
    refresh_elders([elder.pk])
    return Elder.objects.get(pk=elder.pk)


def age_ledger(elder: Elder, days: int) -> None:
    Elder.objects.filter(pk=elder.pk).update(updated_at=timezone.now() - datetime.timedelta(days=days))


@pytest.fixture
def places():
    """大营村: an overdue alert and a stale entry; 中街社区: one elder overdue a visit; 兴隆村: all in order."""
    late = fresh_elder(VILLAGE)
    alert(late, created=timezone.now() - datetime.timedelta(hours=5), ack_after=1, due=timezone.now())
    stale = fresh_elder(VILLAGE)
    age_ledger(stale, 120)
    overdue = fresh_elder(SAME_TOWNSHIP_VILLAGE)
    Elder.objects.filter(pk=overdue.pk).update(
        last_visit_at=timezone.now() - datetime.timedelta(days=45),
        last_home_visit_at=timezone.now() - datetime.timedelta(days=45),
    )
    refresh_elders([overdue.pk])
    fine = fresh_elder(OTHER_TOWNSHIP_VILLAGE)
    return {"late": late, "stale": stale, "overdue": overdue, "fine": fine}


def ranked(client, user, query=None):
    client.force_login(user)
    response = client.get(URL, query or {})
    assert response.status_code == 200
    return response, list(response.context["table"].data)


def test_villages_ranked_by_warning_signs(client, township_officer, places):
    response, rows = ranked(client, township_officer)
    top = rows[:2]
    assert [r.code for r in top] == [VILLAGE, SAME_TOWNSHIP_VILLAGE]
    assert top[0].sign_list == [sup.SIGN_LEDGER, sup.SIGN_ALERTS]
    assert (top[0].alerts_overdue, top[0].stale, top[0].overdue_visits) == (1, 1, 0)
    assert top[1].sign_list == [sup.SIGN_VISITS]
    # villages of the township without any elder on the ledger show 底数不清 too, after those two
    rest = rows[2:]
    assert rest and all(r.active == 0 and r.sign_list == [sup.SIGN_LEDGER] for r in rest)
    assert OTHER_TOWNSHIP_VILLAGE not in [r.code for r in rows]  # another township: not in scope
    page = response.content.decode()
    assert f"/services/alerts/?state=overdue&amp;area={VILLAGE}" in page
    assert f"/services/visits/due/?when=overdue&amp;area={SAME_TOWNSHIP_VILLAGE}" in page


def test_stale_days_is_a_setting(client, township_officer, places, settings):
    settings.SUPERVISION_LEDGER_STALE_DAYS = 200
    _response, rows = ranked(client, township_officer)
    first = next(r for r in rows if r.code == VILLAGE)
    assert first.stale == 0 and first.sign_list == [sup.SIGN_ALERTS]
    settings.SUPERVISION_LEDGER_STALE_DAYS = 30
    _response, rows = ranked(client, township_officer)
    assert next(r for r in rows if r.code == VILLAGE).stale == 1


def test_townships_of_a_county(mfa_client, county_officer, places):
    response = mfa_client(county_officer).get(URL, {"level": "township"})
    rows = list(response.context["table"].data)
    assert all(r.level == "township" for r in rows)
    by_code = {r.code: r for r in rows}
    assert by_code[TOWNSHIP].position == 1  # 吉强镇: all three signs
    assert by_code[TOWNSHIP].sign_list == [sup.SIGN_LEDGER, sup.SIGN_VISITS, sup.SIGN_ALERTS]
    assert by_code[OTHER_TOWNSHIP].active == 1 and by_code[OTHER_TOWNSHIP].overdue_visits == 0


def test_columns_sort(client, township_officer, places):
    _response, rows = ranked(client, township_officer, {"sort": "-overdue_visits"})
    assert rows[0].code == SAME_TOWNSHIP_VILLAGE
    _response, rows = ranked(client, township_officer, {"sort": "-stale"})
    assert rows[0].code == VILLAGE
    _response, rows = ranked(client, township_officer, {"sort": "name"})
    codes = [r.code for r in rows]
    assert codes == sorted(codes)
    _response, rows = ranked(client, township_officer, {"sort": "-days_since"})
    assert rows[0].code == VILLAGE  # its stale entry is 120 days old
    _response, rows = ranked(client, township_officer, {"sort": "days_since"})
    assert rows[0].active == 0  # no ledger at all: shown as "—", sorted first
    _response, rows = ranked(client, township_officer, {"sort": "no-such-column"})
    assert rows[0].code == VILLAGE  # ignored: the ranking's own order


def test_bad_level_and_region(client, township_officer, places):
    _response, rows = ranked(client, township_officer, {"level": "<b>x</b>"})
    assert rows and all(r.level == "village" for r in rows)
    client.force_login(township_officer)
    assert client.get(URL, {"region": OTHER_TOWNSHIP}).status_code == 404


def test_dashboard_shows_the_top_of_the_ranking(client, township_officer, places):
    client.force_login(township_officer)
    response = client.get(reverse("services:supervision"))
    preview = response.context["ranking_preview"]
    assert preview[0][0].code == VILLAGE and len(preview) == 5
    assert str(sup.SIGN_LABELS[sup.SIGN_ALERTS]) in [str(label) for label in preview[0][1]]


def test_the_sign_labels_are_not_said_twice_in_chinese(client, township_officer, places):
    """Issue 16, item 7: "底数不清（底数不清）" on the ranking."""
    client.force_login(township_officer)
    html = client.get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for term in ("底数不清", "巡访不实", "处置不及时"):
        assert f"{term}（{term}）" not in html
