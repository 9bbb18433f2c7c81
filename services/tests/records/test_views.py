# ruff: noqa: F811 — fixtures imported from test_records_helpers
"""Logging, confirming and listing service records through the pages: scope, bulk, group, export, queries."""

import io

import pytest
from PIL import Image

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.urls import reverse

from portal.models import AuditEvent, Region, StaffRole, User
from portal.scoping import staff_roles
from services.models import ServiceRecord
from services.records import actions as record_actions
from services.records import rules as record_rules
from services.records import selectors as record_reads
from services.records.models import RecordStatus
from services.tests.factories_ledger import ElderFactory
from services.tests.factories_records import (  # noqa: F401 — fixtures
    add_member,
    at,
    elder,
    item,
    member,
    org_admin,
    organisation,
    other_elder,
    other_liaison,
    other_org_admin,
    past_activity,
    record_fields,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def form_data(**overrides) -> dict:
    values = {
        "kind": "volunteer",
        "day": at(2, 9).date().isoformat(),
        "start_time": "09:00",
        "end_time": "11:00",
        "place": "村活动室",
        "content": "陪老人下棋",
    }
    values.update(overrides)
    return values


def submitted_by_member(org_admin, member, elder, item, **overrides):
    return record_actions.record_create(
        actor=org_admin,
        giver=member,
        elder=elder,
        organisation=member.memberships.first().organisation,
        service_item=item,
        **record_fields(**overrides),
    )


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    return buffer.getvalue()


# --- logging by the giver --------------------------------------------------------------------------


def test_one_tap_prefill_from_activity(client, member, past_activity, item):
    past_activity.service_item = item
    past_activity.save()
    client.force_login(member)
    page = client.get(reverse("volunteers:my-hours"))
    assert f"?activity={past_activity.pk}" in page.content.decode()
    form = client.get(reverse("volunteers:record-create") + f"?activity={past_activity.pk}").context["form"]
    assert form.initial["activity"] == past_activity.pk
    assert form.initial["start_time"].strftime("%H:%M") == "09:00"


def test_giver_logs_activity_service_with_photo(client, member, past_activity, item):
    client.force_login(member)
    photo = SimpleUploadedFile("p.png", png_bytes(), content_type="image/png")
    response = client.post(
        reverse("volunteers:record-create"),
        form_data(activity=past_activity.pk, service_item=item.pk, photo=photo),
    )
    assert response.status_code == 302, response.context["form"].errors
    record = ServiceRecord.objects.get()
    assert record.giver == member and record.minutes == 120 and record.photo


def test_malformed_photo_refused_and_nothing_saved(client, member, past_activity, item):
    client.force_login(member)
    bad = SimpleUploadedFile("p.png", b"not an image", content_type="image/png")
    response = client.post(
        reverse("volunteers:record-create"), form_data(activity=past_activity.pk, service_item=item.pk, photo=bad)
    )
    assert response.status_code == 200
    assert "photo" in response.context["form"].errors
    assert ServiceRecord.objects.count() == 0


def test_rule_violation_shown_in_form(client, member, past_activity, item):
    client.force_login(member)
    response = client.post(
        reverse("volunteers:record-create"),
        form_data(activity=past_activity.pk, service_item=item.pk, start_time="11:00", end_time="09:00"),
    )
    assert str(record_rules.ENDS_BEFORE_START) in response.content.decode()
    assert ServiceRecord.objects.count() == 0


def test_giver_cannot_pick_an_elder_they_are_not_linked_to(client, member, elder, item):
    client.force_login(member)
    response = client.post(reverse("volunteers:record-create"), form_data(elder=elder.pk, service_item=item.pk))
    form = response.context["form"]
    # with no elder linked to her there is no elder to pick at all: the posted one is ignored and refused
    assert "elder" not in form.fields and form.empty["elder"] and form.errors
    assert ServiceRecord.objects.count() == 0


def test_xss_content_escaped_on_detail(client, liaison, elder, item):
    helper = UserFactory()
    record = record_actions.record_create(
        actor=liaison, giver=helper, elder=elder, service_item=item, **record_fields(content="<script>x()</script>")
    )
    client.force_login(liaison)
    html = client.get(reverse("volunteers:record-detail", args=[record.pk])).content.decode()
    assert "<script>x()</script>" not in html and "&lt;script&gt;" in html


# --- proxy and group entry -------------------------------------------------------------------------


def test_liaison_group_entry_several_helpers_one_elder(client, liaison, elder, item):
    a, b = UserFactory(real_name="甲"), UserFactory(real_name="乙")
    client.force_login(liaison)
    # helpers who never sign in: one by phone (existing), one added by phone + name
    response = client.post(
        reverse("volunteers:record-create-group"),
        form_data(elders=[elder.pk], helper_phone=a.phone, service_item=item.pk),
    )
    assert response.status_code == 302, response.context["form"].errors
    response = client.post(
        reverse("volunteers:record-create-group"),
        form_data(elders=[elder.pk], helper_phone="13812345678", helper_name="互助员丙", service_item=item.pk),
    )
    assert response.status_code == 302
    new = User.objects.get(phone="13812345678")
    assert new.real_name == "互助员丙" and not new.has_usable_password()
    assert ServiceRecord.objects.filter(elder=elder, recorded_by=liaison).count() == 2
    assert b.service_records.count() == 0


def test_org_admin_group_members_one_elder_is_atomic(liaison, org_admin, organisation, member, elder, item):
    second = add_member(organisation, real_name="会员乙")
    record_actions.record_create(actor=liaison, giver=second, elder=elder, service_item=item, **record_fields())
    with pytest.raises(ValidationError) as exc:
        record_actions.record_create_group(
            actor=org_admin,
            givers=[member, second],
            elders=[elder],
            organisation=organisation,
            service_item=item,
            **record_fields(),
        )
    assert "会员乙" in " ".join(exc.value.messages)
    assert ServiceRecord.objects.filter(giver=member).count() == 0  # nothing half-saved


def test_one_helper_several_elders_splits_time(liaison, elder, item):
    elders = [elder, ElderFactory(name="王爷爷"), ElderFactory(name="马奶奶")]
    helper = UserFactory()
    records = record_actions.record_create_group(
        actor=liaison, givers=[helper], elders=elders, service_item=item, **record_fields(start=at(1, 9), end=at(1, 11))
    )
    assert [r.minutes for r in records] == [40, 40, 40]
    assert sum(r.minutes for r in records) == 120  # the helper's total stays the time served
    assert records[0].end == records[1].start


def test_group_shape_many_by_many_refused(liaison, elder, item):
    with pytest.raises(ValidationError) as exc:
        record_actions.record_create_group(
            actor=liaison,
            givers=[UserFactory(), UserFactory()],
            elders=[elder, ElderFactory()],
            service_item=item,
            **record_fields(),
        )
    assert str(record_rules.GROUP_SHAPE) in exc.value.messages


def test_volunteer_without_role_cannot_open_group_entry(client, volunteer):
    client.force_login(volunteer)
    assert client.get(reverse("volunteers:record-create-group")).status_code == 403


def test_liaison_cannot_proxy_for_elder_of_other_village(client, liaison, other_elder, item):
    client.force_login(liaison)
    response = client.post(
        reverse("volunteers:record-create-group"),
        form_data(elders=[other_elder.pk], helper_phone="13812345679", helper_name="某人", service_item=item.pk),
    )
    assert "elders" in response.context["form"].errors
    assert not User.objects.filter(phone="13812345679").exists()


# --- confirmation, scope ---------------------------------------------------------------------------


def test_liaison_confirms_and_totals_move(client, liaison, org_admin, member, elder, item):
    record = submitted_by_member(org_admin, member, elder, item)
    assert record_reads.giver_totals(user=member)["volunteer_minutes"] == 0
    client.force_login(liaison)
    response = client.post(reverse("volunteers:record-confirm", args=[record.pk]))
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == RecordStatus.CONFIRMED and record.confirmed_by == liaison
    assert record_reads.giver_totals(user=member)["volunteer_minutes"] == 120
    assert AuditEvent.objects.filter(object_id=str(record.pk), action="change").exists()


def test_giver_cannot_confirm_own_record(client, liaison, elder, item):
    helper = UserFactory()
    record = record_actions.record_create(
        actor=liaison, giver=helper, elder=elder, service_item=item, **record_fields()
    )
    client.force_login(helper)
    client.post(reverse("volunteers:record-confirm", args=[record.pk]))
    record.refresh_from_db()
    assert record.status == RecordStatus.SUBMITTED
    with pytest.raises(PermissionDenied) as exc:
        record_actions.record_confirm(actor=helper, record=record)
    assert str(record_rules.OWN_RECORD) in str(exc.value)


def test_giver_cannot_see_confirm_or_edit_someone_elses_record(client, liaison, elder, item):
    record = record_actions.record_create(
        actor=liaison, giver=UserFactory(), elder=elder, service_item=item, **record_fields()
    )
    snoop = UserFactory()
    client.force_login(snoop)
    assert client.get(reverse("volunteers:record-detail", args=[record.pk])).status_code == 404
    assert client.get(reverse("volunteers:record-edit", args=[record.pk])).status_code == 404
    assert client.post(reverse("volunteers:record-confirm", args=[record.pk])).status_code == 404
    assert client.post(reverse("volunteers:record-reverse", args=[record.pk]), {"reason": "x"}).status_code == 404
    record.refresh_from_db()
    assert record.status == RecordStatus.SUBMITTED


def test_org_admin_cannot_confirm_non_member_record(liaison, org_admin, organisation, elder, past_activity, item):
    # a non-member's record in a village the org admin does not cover
    record = record_actions.record_create(
        actor=liaison, giver=UserFactory(), elder=elder, service_item=item, **record_fields()
    )
    with pytest.raises(Http404):  # not its member, not its organisation: not even visible
        record_actions.record_confirm(actor=org_admin, record=record)
    record.refresh_from_db()
    assert record.status == RecordStatus.SUBMITTED


def test_org_admin_cannot_confirm_after_member_left(org_admin, organisation, member, past_activity, item):
    record = record_actions.record_create(
        actor=member,
        giver=member,
        activity=past_activity,
        service_item=item,
        **record_fields(start=past_activity.start, end=past_activity.end),
    )
    member.memberships.update(status="declined")
    assert not record_reads.records_confirmable_by(org_admin).filter(pk=record.pk).exists()
    with pytest.raises(PermissionDenied):
        record_actions.record_confirm(actor=org_admin, record=record)
    record.refresh_from_db()
    assert record.status == RecordStatus.SUBMITTED


def test_other_village_liaison_gets_404(client, other_liaison, liaison, elder, item):
    record = record_actions.record_create(
        actor=liaison, giver=UserFactory(), elder=elder, service_item=item, **record_fields()
    )
    client.force_login(other_liaison)
    assert client.get(reverse("volunteers:record-detail", args=[record.pk])).status_code == 404
    assert client.post(reverse("volunteers:record-confirm", args=[record.pk])).status_code == 404
    listing = client.get(reverse("volunteers:record-list"))
    assert listing.context["table"].paginator.count == 0


def test_supervisor_can_read_but_not_confirm(client, supervisor, liaison, elder, item):
    record = record_actions.record_create(
        actor=liaison, giver=UserFactory(), elder=elder, service_item=item, **record_fields()
    )
    client.force_login(supervisor)
    assert client.get(reverse("volunteers:record-detail", args=[record.pk])).status_code == 200
    client.post(reverse("volunteers:record-confirm", args=[record.pk]))
    record.refresh_from_db()
    assert record.status == RecordStatus.SUBMITTED


def test_reject_needs_reason(client, liaison, elder, item):
    record = record_actions.record_create(
        actor=liaison, giver=UserFactory(), elder=elder, service_item=item, **record_fields()
    )
    other = UserFactory()

    StaffRole.objects.create(user=other, role="village_liaison", region=Region.objects.get(code=elder.village_id))
    client.force_login(other)
    response = client.post(reverse("volunteers:record-reject", args=[record.pk]), {"reason": ""}, follow=True)
    assert str(record_rules.REASON_REQUIRED) in response.content.decode()
    client.post(reverse("volunteers:record-reject", args=[record.pk]), {"reason": "时间不对"})
    record.refresh_from_db()
    assert record.status == RecordStatus.REJECTED and record.reason == "时间不对"


def test_second_confirmation_is_told(client, liaison, org_admin, member, elder, item):
    record = submitted_by_member(org_admin, member, elder, item)
    record_actions.record_confirm(actor=liaison, record=record)
    client.force_login(liaison)
    response = client.post(reverse("volunteers:record-confirm", args=[record.pk]), follow=True)
    assert (
        "Someone else" in response.content.decode()
        or "其他人" in response.content.decode()
        or "已" in response.content.decode()
    )


def test_bulk_confirm_from_table(client, liaison, elder, item):
    records = [
        record_actions.record_create(
            actor=liaison,
            giver=UserFactory(),
            elder=elder,
            service_item=item,
            **record_fields(start=at(1, h), end=at(1, h + 1)),
        )
        for h in (8, 10, 12)
    ]
    mine = record_actions.record_create(
        actor=liaison, giver=liaison, elder=elder, service_item=item, **record_fields(start=at(1, 14), end=at(1, 15))
    )
    client.force_login(liaison)
    page = client.get(reverse("volunteers:record-list") + "?status=submitted&to_confirm=on")
    assert page.context["table"].paginator.count == 3  # not their own
    ids = [r.pk for r in records] + [mine.pk, 999999]
    response = client.post(reverse("volunteers:record-confirm-bulk"), {"records": ids}, follow=True)
    assert ServiceRecord.objects.filter(status="confirmed").count() == 3
    mine.refresh_from_db()
    assert mine.status == RecordStatus.SUBMITTED
    assert "999999" in response.content.decode()


# --- lists, export, query counts -------------------------------------------------------------------


def test_record_list_query_count_constant(client, liaison, item, django_assert_max_num_queries):
    def make(n):
        for _i in range(n):
            record_actions.record_create(
                actor=liaison, giver=UserFactory(), elder=ElderFactory(), service_item=item, **record_fields()
            )

    make(3)
    client.force_login(liaison)
    with django_assert_max_num_queries(20) as small:
        client.get(reverse("volunteers:record-list"))
    make(12)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(reverse("volunteers:record-list"))
    assert response.context["table"].paginator.count == 15


def test_export_plain_values_and_audited(client, liaison, elder, item):
    record = record_actions.record_create(
        actor=liaison, giver=UserFactory(real_name="导出人"), elder=elder, service_item=item, **record_fields()
    )
    record_actions.record_confirm(actor=liaison, record=record) if False else None
    client.force_login(liaison)
    response = client.get(reverse("volunteers:record-list") + "?_export=csv")
    text = response.content.decode("utf-8-sig")
    assert "导出人" in text and ",120," in text and "volunteer" in text
    assert AuditEvent.objects.filter(action="export", object_type="services.servicerecord").exists()


def test_my_hours_query_count_constant(client, liaison, item, django_assert_max_num_queries):
    helper = UserFactory()
    for h in (6, 8):
        r = record_actions.record_create(
            actor=liaison,
            giver=helper,
            elder=ElderFactory(),
            service_item=item,
            **record_fields(start=at(1, h), end=at(1, h + 1)),
        )
        record_actions.record_confirm(actor=liaison, record=r)
    client.force_login(helper)
    with django_assert_max_num_queries(25) as small:
        page = client.get(reverse("volunteers:my-hours"))
    assert page.context["totals"]["volunteer_minutes"] == 120
    for h in (10, 12, 14, 16):
        r = record_actions.record_create(
            actor=liaison,
            giver=helper,
            elder=ElderFactory(),
            service_item=item,
            **record_fields(start=at(1, h), end=at(1, h + 1)),
        )
        record_actions.record_confirm(actor=liaison, record=r)
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = client.get(reverse("volunteers:my-hours"))
    assert page.context["totals"]["volunteer_minutes"] == 360


def test_purchased_and_volunteer_never_mixed(liaison, org_admin, organisation, member, elder, item):
    a = submitted_by_member(org_admin, member, elder, item)
    b = submitted_by_member(org_admin, member, elder, item, kind="purchased", start=at(1, 13), end=at(1, 14))
    record_actions.record_confirm(actor=liaison, record=a)
    record_actions.record_confirm(actor=liaison, record=b)
    totals = record_reads.giver_totals(user=member)
    assert totals["volunteer_minutes"] == 120 and totals["purchased_minutes"] == 60


def test_county_monthly_totals_one_query(liaison, county_officer, elder, item, django_assert_num_queries):
    for h in (8, 10):
        r = record_actions.record_create(
            actor=liaison,
            giver=UserFactory(),
            elder=elder,
            service_item=item,
            **record_fields(start=at(1, h), end=at(1, h + 1)),
        )
        record_actions.record_confirm(actor=liaison, record=r)
    staff_roles(county_officer)  # the roles are read once per request
    with django_assert_num_queries(1):
        rows = list(record_reads.county_monthly_totals(user=county_officer))
    assert [(r["county"], r["kind"], r["minutes"]) for r in rows] == [("640422", "volunteer", 120)]


def test_star_levels():
    assert record_reads.star_level(99 * 60) == 0
    assert record_reads.star_level(100 * 60) == 1
    assert record_reads.star_level(1500 * 60) == 5
    assert record_reads.next_star(350 * 60) == 600


def test_giver_edits_own_submitted_record_through_the_page(client, liaison, elder, item):
    helper = UserFactory()
    record = record_actions.record_create(
        actor=liaison, giver=helper, elder=elder, service_item=item, **record_fields()
    )
    client.force_login(liaison)  # whoever entered it may correct it while it is submitted
    day = record_fields()["start"].date().isoformat()
    response = client.post(
        reverse("volunteers:record-edit", args=[record.pk]),
        form_data(day=day, start_time="09:00", end_time="10:30", service_item=item.pk),
    )
    assert response.status_code == 302, response.context["form"].errors
    record.refresh_from_db()
    assert record.minutes == 90
    record_actions.record_confirm(actor=UserFactory.create(is_superuser=True), record=record)
    response = client.get(reverse("volunteers:record-edit", args=[record.pk]))
    assert response.status_code == 302  # locked: back to the detail page with the message


def test_totals_page_by_county_and_organisation(
    client, mfa_client, county_officer, liaison, org_admin, member, elder, item
):
    record = submitted_by_member(org_admin, member, elder, item)
    record_actions.record_confirm(actor=liaison, record=record)
    year = record.start.year
    page = mfa_client(county_officer).get(reverse("volunteers:record-totals") + f"?year={year}")
    assert [(r["county"], r["hours"]) for r in page.context["county_rows"]] == [("640422", "2.0")]
    client.force_login(org_admin)
    page = client.get(reverse("volunteers:record-totals") + f"?year={year}")
    assert page.context["county_rows"] == []
    (organisation, rows), *_ = page.context["organisations"]
    assert [r["minutes"] for r in rows] == [120]
    client.force_login(UserFactory())
    page = client.get(reverse("volunteers:record-totals") + "?year=<script>")
    assert page.status_code == 200 and page.context["organisations"] == []
