"""Supervision dashboards (督促检查) through the pages: figures, scope, roles, periods, export, query counts."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest

from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent
from services.care.models import AlertKind, AlertSource, AlertStatus, VisitMethod
from services.care.state import refresh_elders
from services.models import Alert, AlertStep, Pairing, Visit
from services.pairing.models import PairingStatus
from services.purchasing.models import Settlement
from services.records.models import RecordKind, RecordStatus
from services.supervision import figures as sup
from services.tests.factories_care import (
    OTHER_TOWNSHIP_VILLAGE,
    SAME_TOWNSHIP_VILLAGE,
    VILLAGE,
    make_elder,
    make_key_elder,
)
from services.tests.factories_purchasing import (
    add_member,
    make_contract,
    make_item,
    make_provider,
    make_record,
    reverse_settled,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/services/supervision/"
TOWNSHIP = "640422100000"  # 吉强镇
OTHER_TOWNSHIP = "640422101000"  # 兴隆镇
COUNTY = "640422000000"  # 西吉县
OTHER_COUNTY = "640104000000"  # 兴庆区


def ago(days: float = 0, hours: float = 0) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days, hours=hours)


def visit(elder, when, *, method=VisitMethod.PHONE, contact=True) -> Visit:
    made = Visit.objects.create(elder=elder, method=method, visited_at=when, contact_made=contact)
    if contact:
        type(elder).objects.filter(pk=elder.pk).update(last_visit_at=when)
        refresh_elders([elder.pk])
    return made


_ref = iter(range(1, 10_000))


def alert(elder, *, created, kind=AlertKind.HARDSHIP, ack_after=None, close_after=None, due=None) -> Alert:
    """An alert with its steps at the given times (hours after the report)."""
    closed = created + datetime.timedelta(hours=close_after) if close_after is not None else None
    status = (
        AlertStatus.CLOSED if closed else (AlertStatus.ACKNOWLEDGED if ack_after is not None else AlertStatus.REPORTED)
    )
    made = Alert.objects.create(
        reference=f"T{next(_ref):06d}",
        elder=elder,
        village=elder.village,
        kind=kind,
        description="—",
        source=AlertSource.LIAISON,
        status=status,
        created_at=created,
        closed_at=closed,
        due_at=None if closed else (due or created + datetime.timedelta(hours=2)),
        content_hash=f"h{made_counter()}",
    )
    AlertStep.objects.create(alert=made, status=AlertStatus.REPORTED, at=created)
    if ack_after is not None:
        AlertStep.objects.create(
            alert=made, status=AlertStatus.ACKNOWLEDGED, at=created + datetime.timedelta(hours=ack_after)
        )
    if closed:
        AlertStep.objects.create(alert=made, status=AlertStatus.CLOSED, at=closed)
    return made


_hash = iter(range(1, 10_000))


def made_counter() -> int:
    return next(_hash)


@pytest.fixture
def area():
    """吉强镇: two villages (a key elder paired, a key elder not, a normal elder); 兴隆镇: one elder."""
    key_paired = make_key_elder(name="马奶奶")
    key_alone = make_key_elder(name="杨爷爷", village=SAME_TOWNSHIP_VILLAGE)
    normal = make_elder(name="李爷爷")
    far = make_key_elder(name="兴隆老人", village=OTHER_TOWNSHIP_VILLAGE)
    volunteer = UserFactory(real_name="志愿者甲")
    Pairing.objects.create(elder=key_paired, giver_user=volunteer, status=PairingStatus.ACTIVE)
    Pairing.objects.create(elder=far, giver_user=volunteer, status=PairingStatus.ACTIVE)
    # visits this month: two contacts (one at home) and an unanswered call; the far elder one contact
    start = sup.preset_period(sup.THIS_MONTH).start_at
    visit(key_paired, start + datetime.timedelta(minutes=30), method=VisitMethod.HOME)
    visit(normal, start + datetime.timedelta(minutes=40))
    visit(key_alone, start + datetime.timedelta(minutes=50), contact=False)
    visit(far, start + datetime.timedelta(minutes=60))
    # nobody visited key_alone for long: overdue; the others were just contacted (the key ones still lack a
    # recent home visit: make them recent too so that exactly one elder is overdue in 吉强镇)
    type(key_paired).objects.filter(pk__in=[key_paired.pk, normal.pk, far.pk]).update(
        last_visit_at=ago(hours=1), last_home_visit_at=ago(hours=1)
    )
    type(key_paired).objects.filter(pk=key_alone.pk).update(created_at=ago(days=60))
    refresh_elders([key_alone.pk])
    # alerts in the period: acknowledged after 1 h and closed after 10 h; acknowledged after 3 h, open,
    # overdue; in 兴隆镇 one acknowledged after 100 h
    t0 = max(start, ago(hours=30))
    alert(key_paired, created=t0, ack_after=1, close_after=10)
    alert(normal, created=t0, ack_after=3, due=ago(hours=1), kind=AlertKind.CRITICAL_ILLNESS)
    alert(far, created=t0, ack_after=5)
    return {"key_paired": key_paired, "key_alone": key_alone, "normal": normal, "far": far}


def board_of(client, user, query="", mfa_client=None):
    c = mfa_client(user) if mfa_client else _login(client, user)
    response = c.get(URL + query)
    assert response.status_code == 200, response.status_code
    return response, response.context["board"]


def _login(client, user):
    client.force_login(user)
    return client


# --- the figures -----------------------------------------------------------------------------------


def test_township_dashboard_figures(client, township_officer, area):
    response, board = board_of(client, township_officer)
    t = board.total
    assert board.region.code == TOWNSHIP
    assert (t.active, t.key, t.key_paired) == (3, 2, 1)  # 兴隆镇 is not in the township officer's area
    assert t.key_paired_pct == "50%"
    assert (t.visits_done, t.home_visits, t.elders_reached) == (2, 1, 2)  # the unanswered call does not count
    assert t.overdue_visits == 1
    assert (t.alerts_reported, t.alerts_open, t.alerts_overdue) == (2, 1, 1)
    # by village: 大营村委会 holds two elders, 中街社区 one
    by_code = {a.code: a for a in board.areas}
    assert by_code[VILLAGE].active == 2 and by_code[SAME_TOWNSHIP_VILLAGE].active == 1
    assert by_code[SAME_TOWNSHIP_VILLAGE].overdue_visits == 1
    assert all(a.level == "village" for a in board.areas)
    # planned contacts: key elders every 7 days, 李爷爷 (关注: no supporter) every 14, over the month so far
    elapsed = board.period.elapsed_days()
    assert t.visits_expected == pytest.approx(2 * elapsed / 7 + elapsed / 14)
    page = response.content.decode()
    assert "马奶奶" not in page  # aggregates only, no names


def test_county_dashboard_breaks_down_by_township_and_links_to_lists(mfa_client, county_officer, area):
    response = mfa_client(county_officer).get(URL)
    board = response.context["board"]
    assert board.region.code == COUNTY
    assert board.total.active == 4
    by_code = {a.code: a for a in board.areas}
    assert by_code[TOWNSHIP].active == 3 and by_code[OTHER_TOWNSHIP].active == 1
    assert all(a.level == "township" for a in board.areas)
    page = response.content.decode()
    # each township drills down and links to its filtered lists
    assert f"region={TOWNSHIP}" in page
    assert f"/services/visits/due/?when=overdue&amp;area={TOWNSHIP}" in page
    assert f"/services/elders/?region={TOWNSHIP}&amp;priority=key" in page
    assert "/services/alerts/?state=overdue" in page
    assert "/services/pairing/?status=active" in page
    assert 'id="supervision-charts"' in page and "vendor/chartjs/chart.umd.min.js" in page


def test_the_linked_lists_show_the_same_numbers(client, township_officer, area):
    """A figure and the list behind it agree (overdue visits of a village, overdue alerts of the township)."""
    client.force_login(township_officer)
    board = client.get(URL).context["board"]
    village = next(a for a in board.areas if a.code == SAME_TOWNSHIP_VILLAGE)
    due = client.get(f"/services/visits/due/?when=overdue&area={SAME_TOWNSHIP_VILLAGE}")
    assert due.context["due_total"] == village.overdue_visits == 1
    alerts = client.get(f"/services/alerts/?state=overdue&area={TOWNSHIP}")
    assert len(alerts.context["table"].rows) == board.total.alerts_overdue == 1


def test_alert_medians_by_kind(client, township_officer, area):
    _response, board = board_of(client, township_officer)
    kinds = {k.kind: k for k in board.kinds}
    hardship = kinds[AlertKind.HARDSHIP]
    assert (hardship.reported, hardship.closed, hardship.open_now) == (1, 1, 0)
    assert hardship.median_ack_hours == 1.0 and hardship.median_close_hours == 10.0
    illness = kinds[AlertKind.CRITICAL_ILLNESS]
    assert (illness.reported, illness.open_now, illness.overdue_now) == (1, 1, 1)
    assert illness.median_ack_hours == 3.0 and illness.median_close_hours is None
    assert len(board.kinds) == len(AlertKind.values)  # every kind listed, even without alerts


def test_median_of_an_even_number_of_alerts(client, township_officer, area):
    """Two more hardship alerts acknowledged after 3 h and 7 h: median of 1, 3, 7 and (closed) 10 h."""
    t0 = max(sup.preset_period(sup.THIS_MONTH).start_at, ago(hours=30))
    alert(area["normal"], created=t0, ack_after=3, close_after=20)
    alert(area["normal"], created=t0, ack_after=7)
    _response, board = board_of(client, township_officer)
    hardship = next(k for k in board.kinds if k.kind == AlertKind.HARDSHIP)
    assert hardship.median_ack_hours == 3.0  # of 1, 3, 7
    assert hardship.median_close_hours == 15.0  # of 10 and 20


def test_service_hours_keep_the_two_ledgers_apart(client, township_officer, area):
    organisation, _admin = make_provider()
    giver = add_member(organisation, real_name="马小梅")
    clean = make_item("上门助洁", 0)
    talk = make_item("聊天陪伴", 1)
    start = sup.preset_period(sup.THIS_MONTH).start_at + datetime.timedelta(hours=9)
    elder = area["key_paired"]
    make_record(organisation=organisation, giver=giver, elder=elder, item=clean, start=start, minutes=90)
    settled = make_record(
        organisation=organisation,
        giver=giver,
        elder=elder,
        item=clean,
        start=start + datetime.timedelta(hours=2),
        minutes=60,
        status=RecordStatus.SETTLED,
    )
    make_record(
        organisation=None,
        giver=giver,
        elder=elder,
        item=talk,
        start=start + datetime.timedelta(hours=4),
        minutes=120,
        kind=RecordKind.VOLUNTEER,
    )
    # not counted: awaiting confirmation, rejected, another township
    make_record(
        organisation=organisation,
        giver=giver,
        elder=elder,
        item=clean,
        start=start + datetime.timedelta(hours=6),
        status=RecordStatus.SUBMITTED,
    )
    make_record(
        organisation=organisation, giver=giver, elder=area["far"], item=clean, start=start + datetime.timedelta(hours=8)
    )
    # a reversal subtracts
    reverse_settled(settled, actor=township_officer, entered=start + datetime.timedelta(hours=10))
    _response, board = board_of(client, township_officer)
    categories = {c.name: c for c in board.categories}
    first, second = clean.category.name, talk.category.name
    assert categories[first].purchased_minutes == 90 and categories[first].volunteer_minutes == 0
    assert categories[second].volunteer_minutes == 120 and categories[second].purchased_minutes == 0
    organisations = {o.name: o for o in board.organisations}
    assert organisations[organisation.name].purchased_hours == 1.5
    assert any(o.key is None and o.volunteer_hours == 2.0 for o in board.organisations)


def test_purchasing_spend_against_budget(mfa_client, county_officer, area):
    organisation, _admin = make_provider()
    today = timezone.localdate()
    contract = make_contract(
        organisation=organisation,
        officer=county_officer,
        start=today.replace(month=1, day=1),
        end=today.replace(month=12, day=31),
        budget="50000.00",
    )
    this_month = today.replace(day=1)
    earlier = (this_month - datetime.timedelta(days=1)).replace(day=1)
    Settlement.objects.create(contract=contract, month=this_month, status="approved", total=Decimal("1200.50"))
    Settlement.objects.create(contract=contract, month=earlier, status="approved", total=Decimal("800.00"))
    Settlement.objects.create(contract=contract, month=this_month.replace(year=this_month.year - 1), status="draft")
    other = make_contract(
        organisation=organisation, officer=county_officer, region="640104000000", number="YC-1", budget="9.00"
    )
    response = mfa_client(county_officer).get(URL)
    spend = response.context["board"].spend
    assert [r["pk"] for r in spend["rows"]] == [contract.pk]  # 兴庆区's contract is out of scope
    assert spend["budget"] == Decimal("50000.00")
    assert spend["spent"] == Decimal("2000.50")  # approved and paid only, to date
    assert spend["spent_period"] == Decimal("1200.50")  # settlements of this month
    assert other.pk not in [r["pk"] for r in spend["rows"]]
    assert reverse("services:contract-detail", args=[contract.pk]) in response.content.decode()


# --- scope and roles -------------------------------------------------------------------------------


def test_region_parameter_outside_scope_is_404(client, township_officer, area):
    client.force_login(township_officer)
    for code in (OTHER_TOWNSHIP, OTHER_TOWNSHIP_VILLAGE, COUNTY, OTHER_COUNTY, "640422", "abc", "6404221000009"):
        assert client.get(URL, {"region": code}).status_code == 404, code
        assert client.get(reverse("services:supervision-export"), {"region": code}).status_code == 404, code
        assert client.get(reverse("services:supervision-ranking"), {"region": code}).status_code == 404, code
    # a village of the own township: its own figures
    board = client.get(URL, {"region": SAME_TOWNSHIP_VILLAGE}).context["board"]
    assert board.total.active == 1 and board.total.overdue_visits == 1


def test_county_officer_drills_down_to_a_township(mfa_client, county_officer, area):
    board = mfa_client(county_officer).get(URL, {"region": OTHER_TOWNSHIP}).context["board"]
    assert board.total.active == 1 and board.total.key == 1 and board.total.key_paired == 1


def test_supervisor_reads_the_dashboard(client, supervisor, area):
    client.force_login(supervisor)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["board"].total.active == 4
    assert "no-store" in response["Cache-Control"]


def test_volunteers_liaisons_and_anonymous_are_refused(client, volunteer, liaison):
    assert client.get(URL).status_code == 302  # to sign in
    assert client.get(reverse("services:supervision-export")).status_code == 302
    for user in (volunteer, liaison):
        client.force_login(user)
        assert client.get(URL).status_code == 403
        assert client.get(reverse("services:supervision-ranking")).status_code == 403
        assert client.get(reverse("services:supervision-export")).status_code == 403


# --- the period ------------------------------------------------------------------------------------


def test_presets():
    today = datetime.date(2026, 11, 29)
    month = sup.preset_period(sup.THIS_MONTH, today)
    assert (month.start, month.end) == (datetime.date(2026, 11, 1), datetime.date(2026, 11, 30))
    last = sup.preset_period(sup.LAST_MONTH, today)
    assert (last.start, last.end) == (datetime.date(2026, 10, 1), datetime.date(2026, 10, 31))
    quarter = sup.preset_period(sup.THIS_QUARTER, today)
    assert (quarter.start, quarter.end) == (datetime.date(2026, 10, 1), datetime.date(2026, 12, 31))
    year = sup.preset_period(sup.THIS_YEAR, today)
    assert (year.start, year.end, year.days) == (datetime.date(2026, 1, 1), datetime.date(2026, 12, 31), 365)
    january = sup.preset_period(sup.LAST_MONTH, datetime.date(2026, 1, 15))
    assert (january.start, january.end) == (datetime.date(2025, 12, 1), datetime.date(2025, 12, 31))
    assert year.elapsed_days(today) == 333 and month.elapsed_days(datetime.date(2026, 12, 5)) == 30


def test_custom_period_is_used(client, township_officer, area):
    client.force_login(township_officer)
    start = timezone.localdate() - datetime.timedelta(days=40)
    end = timezone.localdate() - datetime.timedelta(days=35)
    response = client.get(URL, {"preset": "custom", "start": start.isoformat(), "end": end.isoformat()})
    period = response.context["period"]
    assert (period.start, period.end, period.preset) == (start, end, "custom")
    assert response.context["board"].total.visits_done == 0  # this month's visits are outside it
    assert list(response.context["messages"]) == []


@pytest.mark.parametrize(
    "query",
    [
        {"preset": "custom", "start": "2026-11-20", "end": "2026-11-01"},  # to < from
        {"start": "2026-11-20", "end": "2026-11-01"},  # the same without a preset
        {"preset": "custom", "start": "yesterday", "end": "2026-11-01"},  # garbage
        {"preset": "custom", "start": "2026-11-01"},  # one date only
        {"preset": "every-day"},  # not a preset
        {"preset": "custom", "start": "1999-01-01", "end": "1999-02-01"},  # before the policy
        {"preset": "custom", "start": "2019-01-01", "end": "2026-01-01"},  # too long
        {"preset": "custom", "start": "2999-01-01", "end": "2999-02-01"},  # future
    ],
)
def test_bad_dates_give_a_message_and_the_default_period(client, township_officer, query):
    client.force_login(township_officer)
    response = client.get(URL, query)
    assert response.status_code == 200
    period = response.context["period"]
    default = sup.preset_period(sup.THIS_MONTH)
    assert (period.start, period.end) == (default.start, default.end)
    texts = [str(m) for m in response.context["messages"]]
    assert len(texts) >= 2  # what was wrong, and that this month is shown


def test_xss_in_names_is_escaped(client, township_officer, area):
    organisation, _admin = make_provider(name="<script>alert(1)</script>协会")
    giver = add_member(organisation)
    make_record(
        organisation=organisation,
        giver=giver,
        elder=area["normal"],
        item=make_item(),
        start=sup.preset_period(sup.THIS_MONTH).start_at + datetime.timedelta(hours=9),
    )
    client.force_login(township_officer)
    page = client.get(URL).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;协会" in page
    # the chart data is JSON inside a script element: escaped by json_script
    assert "\\u003Cscript\\u003Ealert(1)" in page


# --- export ----------------------------------------------------------------------------------------


def test_export_has_one_sheet_per_section_and_is_audited(mfa_client, county_officer, area):
    from django.utils import translation

    with translation.override("en"):
        response = mfa_client(county_officer).get(reverse("services:supervision-export"), {"preset": "this_month"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert len(book.sheetnames) == 7
    summary = {row[0]: row[1] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)}
    values = list(summary.values())
    assert COUNTY in values and 4 in values  # the area and its elders on the ledger
    by_area = list(book.worksheets[1].iter_rows(min_row=2, values_only=True))
    assert {row[0]: row[2] for row in by_area}[TOWNSHIP] == 3
    ranking = list(book.worksheets[-1].iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in ranking] == list(range(1, len(ranking) + 1)) and len(ranking) > 300  # every village
    event = AuditEvent.objects.get(action="export", object_type="services.supervision")
    assert event.actor == county_officer and event.object_id == COUNTY


# --- speed -----------------------------------------------------------------------------------------


def _grow(n: int) -> None:
    """n more elders over both townships, each with a visit, an alert and a record."""
    organisation, _admin = make_provider(name=f"协会{n}")
    giver = add_member(organisation)
    item = make_item()
    start = sup.preset_period(sup.THIS_MONTH).start_at + datetime.timedelta(minutes=5)
    for i in range(n):
        village = (VILLAGE, SAME_TOWNSHIP_VILLAGE, OTHER_TOWNSHIP_VILLAGE)[i % 3]
        elder = make_elder(village=village)
        visit(elder, start + datetime.timedelta(minutes=i))
        alert(elder, created=start + datetime.timedelta(minutes=i), ack_after=1 + i % 5, close_after=5 + i % 7)
        make_record(
            organisation=organisation, giver=giver, elder=elder, item=item, start=start + datetime.timedelta(hours=i)
        )


@pytest.mark.parametrize("path", [URL, "/services/supervision/ranking/", "/services/supervision/export.xlsx"])
def test_query_count_is_constant(mfa_client, county_officer, django_assert_max_num_queries, path):
    c = mfa_client(county_officer)
    _grow(3)
    with django_assert_max_num_queries(30) as small:  # 25, then the family-contact and proof-of-care sections
        assert c.get(path).status_code == 200
    _grow(30)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert c.get(path).status_code == 200


def test_workbench_links_to_the_dashboard_for_officers_only(client, township_officer, liaison):
    dashboard = reverse("services:supervision")
    client.force_login(township_officer)
    page = client.get(reverse("portal:workbench")).content.decode()
    assert page.count(f'href="{dashboard}"') == 1
    client.force_login(liaison)
    assert f'href="{dashboard}"' not in client.get(reverse("portal:workbench")).content.decode()
