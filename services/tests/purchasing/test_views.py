# ruff: noqa: F811 — fixtures imported from factories_purchasing
"""Purchasing screens: who sees what (404 otherwise), forms with bad input, the settlement actions,
exports and the print page, constant query counts."""

import datetime
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import translation

from portal.models import AuditEvent
from services.models import ServiceRecord
from services.purchasing import rules as purchasing_rules
from services.purchasing import settlements
from services.purchasing.models import PurchaseContract, Settlement, SettlementStatus
from services.records.models import RecordStatus
from services.tests.factories_care import OTHER_TOWNSHIP_VILLAGE
from services.tests.factories_purchasing import (
    build,
    line,
    local,
    make_contract,
    make_elder,
    make_item,
    make_provider,
    make_record,
    world,  # noqa: F401 — fixture
)
from tests.factories import UserFactory
from volunteers.models import Membership

pytestmark = pytest.mark.django_db
LIST = reverse("services:contract-list")


def msgs(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def records(w, n=2, day=datetime.date(2026, 10, 5)):
    return [
        make_record(
            organisation=w.organisation, giver=w.giver, elder=w.elder, item=w.clean, start=local(day, 8 + 2 * i)
        )
        for i in range(n)
    ]


# --- the contract list ------------------------------------------------------------------------------


def test_officer_and_provider_see_their_contracts_others_do_not(world, mfa_client, client):
    w = world
    other_org, other_admin = make_provider(name="兴隆镇志愿服务队", code=OTHER_TOWNSHIP_VILLAGE)
    make_contract(organisation=other_org, number="XL-7", lines=[line(w.clean)])
    officer = mfa_client(w.officer)
    page = officer.get(LIST)
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert "大营村老年协会" in page.content.decode() and "兴隆镇志愿服务队" in page.content.decode()
    client.force_login(other_admin)
    mine = client.get(LIST).content.decode()
    assert "兴隆镇志愿服务队" in mine and "XJ-2026-001" not in mine
    assert client.get(reverse("services:contract-detail", args=[w.contract.pk])).status_code == 404
    client.force_login(UserFactory())  # no role, runs no organisation
    assert client.get(LIST).status_code == 403


def test_list_filters_sorts_and_paginates(world, mfa_client):
    w = world
    for n in range(30):
        org, _ = make_provider(name=f"协会{n:02d}")
        make_contract(organisation=org, number=f"N-{n:02d}", budget=str(1000 + n), lines=[line(w.clean)])
    officer = mfa_client(w.officer)
    first = officer.get(LIST, {"sort": "budget"})
    assert first.context["table"].paginator.count == 31
    assert len(first.context["table"].page.object_list) == 25
    assert [r.record.number for r in first.context["table"].page.object_list][:2] == ["N-00", "N-01"]
    found = officer.get(LIST, {"q": "协会07"})
    assert [r.record.number for r in found.context["table"].page.object_list] == ["N-07"]
    assert officer.get(LIST, {"year": "2031"}).context["table"].paginator.count == 0
    assert officer.get(LIST, {"year": "abc"}).status_code == 200  # a bad filter value does not break the page
    assert officer.get(LIST, {"page": "2"}).status_code == 200


def test_list_pending_filter_and_export(world, mfa_client):
    w = world
    records(w)
    settlement = build(w)

    settlements.settlement_submit(actor=w.admin, settlement=settlement)
    officer = mfa_client(w.officer)
    assert officer.get(LIST, {"pending": "on"}).context["table"].paginator.count == 1
    response = officer.get(reverse("services:contract-export"), {"format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1][0] == "XJ-2026-001" and values[1][6] == "100000.00" and values[1][8] == 1
    csv = officer.get(reverse("services:contract-export"), {"format": "csv"})
    assert csv.content.startswith("\ufeff".encode())
    assert AuditEvent.objects.filter(action="export", object_type="services.purchasecontract").count() == 2


@pytest.mark.parametrize("size", [3, 15])
def test_list_query_count_is_constant(world, mfa_client, django_assert_max_num_queries, size):
    w = world
    for n in range(size):
        org, admin = make_provider(name=f"协会{n:02d}")
        contract = make_contract(organisation=org, number=f"N-{n:02d}", lines=[line(w.clean)])
        Settlement.objects.create(contract=contract, month=datetime.date(2026, 10, 1), status="approved", total=n)
    officer = mfa_client(w.officer)
    officer.get(LIST)
    with django_assert_max_num_queries(12):
        assert officer.get(LIST).status_code == 200


# --- contract create/edit ---------------------------------------------------------------------------


def contract_post(w, **overrides):
    data = {
        "number": "XJ-2027-001",
        "region": "640422000000",
        "organisation": str(w.organisation.pk),
        "start": "2027-01-01",
        "end": "2027-12-31",
        "budget": "80000.00",
        "note": "",
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "50",
        "lines-0-service_item": str(w.clean.pk),
        "lines-0-unit": "hour",
        "lines-0-unit_price": "32.50",
        "lines-0-cap_per_elder": "",
        "lines-0-cap_per_month": "",
        "lines-1-service_item": "",
        "lines-1-unit": "hour",
        "lines-1-unit_price": "",
    }
    data.update(overrides)
    return data


def test_officer_creates_and_edits_a_contract(world, mfa_client):
    w = world
    officer = mfa_client(w.officer)
    assert officer.get(reverse("services:contract-create")).status_code == 200
    response = officer.post(reverse("services:contract-create"), contract_post(w, note="<script>alert(1)</script>"))
    contract = PurchaseContract.objects.get(number="XJ-2027-001")
    assert response.status_code == 302 and response["Location"] == contract.get_absolute_url()
    assert list(contract.lines.values_list("unit_price", flat=True)) == [Decimal("32.50")]
    page = officer.get(contract.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    edit = reverse("services:contract-edit", args=[contract.pk])
    assert officer.get(edit).status_code == 200
    officer.post(edit, contract_post(w, **{"lines-0-unit_price": "33.00", "budget": "90000"}))
    contract.refresh_from_db()
    assert contract.budget == Decimal("90000") and contract.lines.get().unit_price == Decimal("33.00")


@pytest.mark.parametrize(
    "overrides",
    [
        {"lines-0-unit_price": "0"},
        {"lines-0-unit_price": "-5"},
        {"lines-0-unit_price": "abc"},
        {"lines-0-unit_price": "1.234"},
        {"lines-0-cap_per_month": "-1"},
        {"budget": "0"},
        {"start": "2027-13-01"},
        {"organisation": "999999"},
        {"region": "640104000000"},  # out of the officer's scope
        {"start": "2026-06-01"},  # overlaps the 2026 contract for the same item
        {"lines-0-service_item": ""},  # no line at all
    ],
)
def test_bad_contract_input_is_refused_and_nothing_changes(world, mfa_client, overrides):
    w = world
    with translation.override("en"):
        response = mfa_client(w.officer).post(reverse("services:contract-create"), contract_post(w, **overrides))
    assert response.status_code == 400
    assert PurchaseContract.objects.count() == 1
    form, formset = response.context["form"], response.context["formset"]
    assert form.errors or any(f.errors for f in formset.forms) or formset.non_form_errors()


def test_overlap_message_names_the_other_contract(world, mfa_client):
    w = world
    with translation.override("en"):
        response = mfa_client(w.officer).post(reverse("services:contract-create"), contract_post(w, start="2026-06-01"))
    assert "XJ-2026-001" in response.content.decode()


def test_only_county_officers_open_the_contract_form(world, client, supervisor, mfa_client):
    client.force_login(world.admin)
    assert client.get(reverse("services:contract-create")).status_code == 403
    assert client.get(reverse("services:contract-edit", args=[world.contract.pk])).status_code == 403
    client.force_login(supervisor)
    assert client.post(reverse("services:contract-create"), contract_post(world)).status_code == 403
    assert PurchaseContract.objects.count() == 1


# --- settlements ------------------------------------------------------------------------------------


def test_provider_builds_and_submits_officer_approves_and_pays(world, client, mfa_client):
    w = world
    records(w)
    client.force_login(w.admin)
    response = client.post(reverse("services:settlement-build", args=[w.contract.pk]), {"month": "2026-10"})
    settlement = Settlement.objects.get()
    assert response["Location"] == settlement.get_absolute_url()
    page = client.get(settlement.get_absolute_url())
    assert page.status_code == 200 and "60.00" in page.content.decode()
    client.post(reverse("services:settlement-submit", args=[settlement.pk]))
    settlement.refresh_from_db()
    assert settlement.status == SettlementStatus.SUBMITTED
    # the provider cannot approve
    client.post(reverse("services:settlement-approve", args=[settlement.pk]))
    assert Settlement.objects.get().status == SettlementStatus.SUBMITTED
    officer = mfa_client(w.officer)
    officer.post(reverse("services:settlement-approve", args=[settlement.pk]))
    assert Settlement.objects.get().status == SettlementStatus.APPROVED
    assert set(ServiceRecord.objects.values_list("status", flat=True)) == {RecordStatus.SETTLED}
    again = officer.post(reverse("services:settlement-approve", args=[settlement.pk]))
    assert again.status_code == 302 and msgs(again)  # told, nothing changed
    officer.post(
        reverse("services:settlement-paid", args=[settlement.pk]), {"paid_on": "2026-11-20", "voucher_no": "V-9"}
    )
    settlement.refresh_from_db()
    assert (settlement.status, settlement.voucher_no) == (SettlementStatus.PAID, "V-9")


def test_bad_month_and_month_outside_are_refused(world, client):
    w = world
    client.force_login(w.admin)
    for month in ("2027-01", "abc", "2026-13", ""):
        response = client.post(reverse("services:settlement-build", args=[w.contract.pk]), {"month": month})
        assert response.status_code == 302 and msgs(response), month
    assert not Settlement.objects.exists()


def test_return_with_reason_shows_it_escaped(world, client, mfa_client):
    w = world
    records(w)

    settlement = settlements.settlement_submit(actor=w.admin, settlement=build(w))
    officer = mfa_client(w.officer)
    empty = officer.post(reverse("services:settlement-reject", args=[settlement.pk]), {"reason": ""})
    assert msgs(empty) and Settlement.objects.get().status == SettlementStatus.SUBMITTED
    officer.post(reverse("services:settlement-reject", args=[settlement.pk]), {"reason": "<b>缺照片</b>"})
    assert Settlement.objects.get().status == SettlementStatus.DRAFT
    client.force_login(w.admin)
    page = client.get(settlement.get_absolute_url()).content.decode()
    assert "&lt;b&gt;缺照片&lt;/b&gt;" in page and "<b>缺照片</b>" not in page


def test_officer_who_runs_the_provider_is_told_and_nothing_changes(world, mfa_client):
    w = world
    records(w)

    settlement = settlements.settlement_submit(actor=w.admin, settlement=build(w))
    Membership.objects.create(organisation=w.organisation, user=w.officer, status="active", is_admin=True)
    with translation.override("en"):
        response = mfa_client(w.officer).post(reverse("services:settlement-approve", args=[settlement.pk]))
    assert msgs(response) == [str(purchasing_rules.OWN_ORGANISATION)]
    assert Settlement.objects.get().status == SettlementStatus.SUBMITTED


def test_another_provider_gets_404_on_settlements(world, client):
    w = world
    records(w)
    settlement = build(w)
    _, other_admin = make_provider(name="兴隆镇志愿服务队", code=OTHER_TOWNSHIP_VILLAGE)
    client.force_login(other_admin)
    for name in ("settlement-detail", "settlement-export", "settlement-print"):
        assert client.get(reverse(f"services:{name}", args=[settlement.pk])).status_code == 404
    for name in ("settlement-submit", "settlement-approve", "settlement-rebuild"):
        assert client.post(reverse(f"services:{name}", args=[settlement.pk])).status_code == 404
    assert (
        client.post(reverse("services:settlement-build", args=[w.contract.pk]), {"month": "2026-10"}).status_code == 404
    )
    assert Settlement.objects.get().status == SettlementStatus.DRAFT


def test_xlsx_export_and_print_page(world, client):
    w = world
    records(w)
    far = make_elder(name="<i>外县</i>老人", village=w.elder.village_id)
    formula = make_elder(name='=HYPERLINK("http://evil","X")', village=w.elder.village_id)
    uncovered = make_item("心理疏导", category=1)  # no contract line: listed as not billable
    make_record(
        organisation=w.organisation, giver=w.giver, elder=far, item=uncovered, start=local(datetime.date(2026, 10, 6))
    )
    make_record(
        organisation=w.organisation,
        giver=w.giver,
        elder=formula,
        item=uncovered,
        start=local(datetime.date(2026, 10, 7)),
    )
    settlement = build(w)
    client.force_login(w.admin)
    response = client.get(reverse("services:settlement-export", args=[settlement.pk]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    main, excluded = book.worksheets
    rows = [[c.value for c in row] for row in main.iter_rows()]
    assert rows[-1][0] and rows[-1][5] == 60  # the total row
    assert any(row[1] == w.clean.name and row[5] == 60 for row in rows)
    assert [c.value for c in excluded[2]][3] == "<i>外县</i>老人"
    names = [row[3].value for row in excluded.iter_rows(min_row=3)]
    assert '\'=HYPERLINK("http://evil","X")' in names  # a formula comes out as text, never live
    detail = client.get(settlement.get_absolute_url()).content.decode()
    assert "&lt;i&gt;外县&lt;/i&gt;老人" in detail and "<i>外县</i>" not in detail
    page = client.get(reverse("services:settlement-print", args=[settlement.pk])).content.decode()
    assert 'class="signatures"' in page and "外县" not in page  # finance's copy names no elder
    for label in ("提供方（盖章）", "经办人", "审核人"):
        assert label in page
    client.cookies["django_language"] = "en"  # the visitor's choice; the site is Chinese otherwise
    en = client.get(reverse("services:settlement-print", args=[settlement.pk])).content.decode()
    for label in ("Provider (seal)", "Handled by", "Reviewed by"):
        assert label in en
    assert AuditEvent.objects.filter(object_type="services.settlement", action="export").count() == 1


@pytest.mark.parametrize("size", [4, 40])
def test_settlement_detail_query_count_is_constant(world, client, django_assert_max_num_queries, size):
    w = world
    uncovered = make_item("心理疏导", category=1)
    for n in range(size):
        day = datetime.date(2026, 10, 1) + datetime.timedelta(days=n % 28)
        item = uncovered if n % 4 == 0 else w.clean
        make_record(
            organisation=w.organisation, giver=w.giver, elder=w.elder, item=item, start=local(day, 6 + n // 28 * 3)
        )
    settlement = build(w)
    client.force_login(w.admin)
    client.get(settlement.get_absolute_url())
    with django_assert_max_num_queries(20):
        assert client.get(settlement.get_absolute_url()).status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get(reverse("services:contract-detail", args=[w.contract.pk])).status_code == 200


def test_links_from_the_workbench_and_the_organisation_page(world, client, mfa_client):
    w = world
    assert reverse("services:contract-list") in mfa_client(w.officer).get(reverse("portal:workbench")).content.decode()
    client.force_login(w.admin)
    page = client.get(w.organisation.get_absolute_url()).content.decode()
    assert reverse("services:contract-list") in page
