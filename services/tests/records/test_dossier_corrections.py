# ruff: noqa: F811 — fixtures imported from test_dossier_helpers
"""Correction requests: the volunteer asks, the recording unit accepts (reversal + corrected entry through
services.records.actions) or refuses with a reason; the volunteer sees the outcome."""

import pytest

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent, Region
from services.catalogue.selectors import categories_ensure
from services.models import ServiceItem
from services.records import actions as record_actions
from services.records import dossier
from services.records import rules as record_rules
from services.records import selectors as record_reads
from services.records.models import RecordStatus, ServiceRecord
from services.tests.factories_ledger import ElderFactory
from services.tests.factories_records import backdate_membership, record_fields
from services.tests.records.test_dossier_helpers import (  # noqa: F401 — fixtures
    add_entries,
    add_member,
    at,
    confirmed_record,
    item,
    member,
    org_admin,
    organisation,
)
from tests.factories import StaffRoleFactory, UserFactory
from tests.races import race
from volunteers.models import Membership
from volunteers.models_record import CorrectionRequest, CorrectionStatus, Training
from volunteers.organisations import kinds_ensure
from volunteers.tests.conftest import make_organisation, make_profile

pytestmark = pytest.mark.django_db


def ask(client, target, entry, wrong="时间记错了", should_be="应为下午两点到四点", **extra):
    data = {"target": target, "entry": entry or "", "wrong": wrong, "should_be": should_be, **extra}
    return client.post(reverse("volunteers:correction-create"), data)


@pytest.fixture
def org_record(liaison, member, organisation, org_admin, item):
    return confirmed_record(liaison, member, item, organisation=organisation, confirmer=org_admin)


def test_volunteer_asks_for_correction_of_a_confirmed_record(client, member, org_record, organisation):
    client.force_login(member)
    form = client.get(reverse("volunteers:correction-create") + f"?target=record&entry={org_record.pk}")
    assert form.status_code == 200 and "李奶奶家" in form.content.decode()
    assert ask(client, "record", org_record.pk).status_code == 302
    correction = CorrectionRequest.objects.get()
    assert (correction.record, correction.organisation, correction.status) == (org_record, organisation, "pending")
    page = client.get(reverse("volunteers:correction-list")).content.decode()
    assert "时间记错了" in page


def test_someone_elses_record_is_404_and_changes_nothing(client, member, org_record):
    stranger = UserFactory()
    client.force_login(stranger)
    assert (
        client.get(reverse("volunteers:correction-create") + f"?target=record&entry={org_record.pk}").status_code == 404
    )
    assert ask(client, "record", org_record.pk).status_code == 404
    assert ask(client, "record", "abc").status_code == 404
    assert ask(client, "medal", 1).status_code == 404
    assert not CorrectionRequest.objects.exists()


def test_submitted_record_and_duplicate_request_are_refused(client, liaison, member, item, org_record):
    submitted = record_actions.record_create(
        actor=liaison,
        giver=member,
        elder=ElderFactory(),
        service_item=item,
        **record_fields(start=at(3, 9), end=at(3, 10)),
    )
    client.force_login(member)
    response = ask(client, "record", submitted.pk)
    assert response.status_code == 200 and response.context["form"].errors
    assert ask(client, "record", org_record.pk).status_code == 302
    again = ask(client, "record", org_record.pk)
    assert again.status_code == 200
    assert str(dossier.ALREADY_PENDING) in " ".join(again.context["form"].non_field_errors())
    assert CorrectionRequest.objects.count() == 1


def test_empty_text_is_refused(client, member, org_record):
    client.force_login(member)
    response = ask(client, "record", org_record.pk, wrong="  ", should_be="")
    assert response.status_code == 200 and response.context["form"].errors
    assert not CorrectionRequest.objects.exists()


def test_accepting_writes_reversal_and_corrected_entry(client, member, org_record, org_admin, organisation, item):
    correction = dossier.correction_create(
        volunteer=member, target="record", entry_pk=org_record.pk, wrong="时间错", should_be="14:00-17:00"
    )
    client.force_login(org_admin)
    url = reverse("volunteers:correction-decide", args=[correction.pk])
    assert client.get(url).status_code == 200
    day = timezone.localtime(org_record.start).date().isoformat()
    response = client.post(
        url,
        {
            "decision": "accept",
            "reason": "已核实",
            "fix-happened": "on",
            "fix-service_item": item.pk,
            "fix-day": day,
            "fix-start_time": "14:00",
            "fix-end_time": "17:00",
            "fix-place": "李奶奶家",
            "fix-content": "打扫院子",
        },
    )
    assert response.status_code == 302
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.ACCEPTED and correction.decided_by == org_admin
    reversal = ServiceRecord.objects.get(reverses=org_record)
    corrected = correction.corrected_record
    assert reversal.sign == -1 and corrected.status == RecordStatus.CONFIRMED
    assert corrected.minutes == 180 and corrected.organisation == organisation
    # the corrected entry keeps the original's entry time (the logging deadline runs from it)
    assert ServiceRecord.objects.get(pk=corrected.pk).created_at == org_record.created_at
    assert record_reads.giver_totals(user=member)["volunteer_minutes"] == 180
    client.force_login(member)
    page = client.get(url).content.decode()
    # the corrected entry is linked by name, not by its internal number (issue 16)
    corrected_url = reverse("volunteers:record-detail", args=[corrected.pk])
    assert "已核实" in page and f'href="{corrected_url}"' in page and f"#{corrected.pk}" not in page


def test_accepting_without_the_service_only_reverses(member, org_record, org_admin):
    correction = dossier.correction_create(
        volunteer=member, target="record", entry_pk=org_record.pk, wrong="那天我没去", should_be="删除"
    )
    dossier.correction_accept(actor=org_admin, correction=correction, changes=None)
    assert record_reads.giver_totals(user=member)["volunteer_minutes"] == 0
    assert CorrectionRequest.objects.get().corrected_record is None


def test_corrected_entry_must_pass_the_rules(client, member, org_record, org_admin, item):
    correction = dossier.correction_create(
        volunteer=member, target="record", entry_pk=org_record.pk, wrong="时间错", should_be="明天"
    )
    future = timezone.localdate() + timezone.timedelta(days=1)
    client.force_login(org_admin)
    response = client.post(
        reverse("volunteers:correction-decide", args=[correction.pk]),
        {
            "decision": "accept",
            "fix-happened": "on",
            "fix-service_item": item.pk,
            "fix-day": future.isoformat(),
            "fix-start_time": "09:00",
            "fix-end_time": "10:00",
            "fix-place": "x",
            "fix-content": "y",
        },
    )
    assert response.status_code == 400
    assert str(record_rules.IN_THE_FUTURE) in response.content.decode()
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.PENDING
    assert not ServiceRecord.objects.filter(reverses=org_record).exists()  # all or nothing


def test_refuse_needs_a_reason_and_the_volunteer_sees_it(client, member, org_record, org_admin):
    correction = dossier.correction_create(
        volunteer=member, target="record", entry_pk=org_record.pk, wrong="x", should_be="y"
    )
    client.force_login(org_admin)
    url = reverse("volunteers:correction-decide", args=[correction.pk])
    assert client.post(url, {"decision": "refuse", "reason": ""}).status_code == 400
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.PENDING
    assert client.post(url, {"decision": "refuse", "reason": "<i>签到表</i>显示时间无误"}).status_code == 302
    client.force_login(member)
    page = client.get(url).content.decode()
    assert "&lt;i&gt;签到表&lt;/i&gt;显示时间无误" in page
    assert "<i>签到表" not in page
    assert ServiceRecord.objects.count() == 1


def test_replayed_decision_is_refused(client, member, org_record, org_admin):
    correction = dossier.correction_create(
        volunteer=member, target="record", entry_pk=org_record.pk, wrong="x", should_be="y"
    )
    dossier.correction_accept(actor=org_admin, correction=correction, changes=None)
    with pytest.raises(ValidationError):
        dossier.correction_refuse(actor=org_admin, correction=correction, reason="重复")
    client.force_login(org_admin)
    response = client.post(reverse("volunteers:correction-decide", args=[correction.pk]), {"decision": "accept"})
    assert response.status_code == 302
    assert ServiceRecord.objects.filter(reverses=org_record).count() == 1


def test_only_the_recording_unit_decides(client, liaison, member, org_record):
    correction = dossier.correction_create(
        volunteer=member, target="record", entry_pk=org_record.pk, wrong="x", should_be="y"
    )
    for user in (member, UserFactory(), liaison):  # the liaison did not record it under the organisation
        with pytest.raises(PermissionDenied):
            dossier.correction_accept(actor=user, correction=correction, changes=None)
    client.force_login(UserFactory())
    assert client.get(reverse("volunteers:correction-decide", args=[correction.pk])).status_code == 404
    client.force_login(member)  # the volunteer sees it, but gets no decision form
    response = client.get(reverse("volunteers:correction-decide", args=[correction.pk]))
    assert response.status_code == 200 and not response.context["may_decide"]
    assert (
        client.post(reverse("volunteers:correction-decide", args=[correction.pk]), {"decision": "accept"}).status_code
        == 302
    )
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.PENDING


def test_liaison_recorded_service_goes_to_the_liaison(client, liaison, member, item):
    record = confirmed_record(liaison, member, item)
    correction = dossier.correction_create(
        volunteer=member, target="record", entry_pk=record.pk, wrong="地点错", should_be="村活动室"
    )
    assert correction.organisation is None and correction.region_id == record.region_id
    client.force_login(liaison)
    listing = client.get(reverse("volunteers:correction-list") + "?status=pending")
    assert [row.record.pk for row in listing.context["table"].page.object_list] == [correction.pk]
    assert listing.context["to_decide"] == 1
    dossier.correction_accept(actor=liaison, correction=correction, changes={"place": "村活动室"})
    corrected = CorrectionRequest.objects.get().corrected_record
    assert corrected.place == "村活动室" and corrected.confirmed_by == liaison


def test_training_correction_applies_the_change(client, member, organisation, org_admin):
    training, _award, _evaluation = add_entries(organisation, member, org_admin)
    correction = dossier.correction_create(
        volunteer=member, target="training", entry_pk=training.pk, wrong="学时错", should_be="6 学时"
    )
    client.force_login(org_admin)
    url = reverse("volunteers:correction-decide", args=[correction.pk])
    data = {
        "decision": "accept",
        "fix-name": training.name,
        "fix-content": training.content,
        "fix-hours": "0",
        "fix-organiser": training.organiser,
        "fix-date": training.date.isoformat(),
    }
    assert client.post(url, data).status_code == 400  # 0 hours refused, nothing changes
    assert Training.objects.get().hours == 4
    data["fix-hours"] = "6"
    assert client.post(url, data).status_code == 302
    assert Training.objects.get().hours == 6
    assert AuditEvent.objects.filter(object_type="volunteers.training", action="change").exists()


def test_personal_detail_correction_goes_to_a_chosen_organisation(client, member, organisation, org_admin):
    client.force_login(member)
    other = UserFactory()
    response = ask(client, "personal", None, organisation=organisation.pk)
    assert response.status_code == 302
    correction = CorrectionRequest.objects.get()
    assert correction.organisation == organisation and correction.target == "personal"
    dossier.correction_refuse(actor=org_admin, correction=correction, reason="请本人在资料页修改")

    foreign = make_organisation(admin=other, name="没加入的协会")
    response = ask(client, "personal", None, organisation=foreign.pk)
    assert response.status_code == 200 and response.context["form"].errors
    assert CorrectionRequest.objects.count() == 1


def test_correction_list_filters_and_paginates(client, liaison, member, item, django_assert_max_num_queries):
    def grow(n, start):
        for d in range(start, start + n):
            record = confirmed_record(liaison, member, item, days=d % 7 + 1, hour=6 + d // 7 * 3, length=1)
            dossier.correction_create(volunteer=member, target="record", entry_pk=record.pk, wrong="x", should_be="y")

    grow(2, 0)
    client.force_login(member)
    url = reverse("volunteers:correction-list")
    with django_assert_max_num_queries(20) as small:
        client.get(url)
    grow(10, 2)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url + "?mine=on&status=pending&target=record")
    assert response.context["table"].paginator.count == 12
    assert client.get(url + "?status=refused").context["table"].paginator.count == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_decisions_apply_once():
    """Two admins accept the same request at once: one applies it, the other is told (row lock on PostgreSQL)."""
    from django.core.management import call_command

    if not Region.objects.filter(code="640422100201").exists():  # a transactional test empties the tables
        call_command("load_regions", verbosity=0)
    kinds_ensure()
    item = ServiceItem.objects.create(category=categories_ensure()[0], name="助餐", description="")
    liaison = UserFactory(real_name="联络人")
    StaffRoleFactory(user=liaison, role="village_liaison", region=Region.objects.get(code="640422100201"))
    first_admin, second_admin = UserFactory(real_name="会长一"), UserFactory(real_name="会长二")
    organisation = make_organisation(admin=first_admin)
    Membership.objects.create(organisation=organisation, user=second_admin, status="active", is_admin=True)
    backdate_membership(first_admin, organisation)
    backdate_membership(second_admin, organisation)
    giver = add_member(organisation, real_name="会员")
    make_profile(giver)
    record = confirmed_record(liaison, giver, item, organisation=organisation, confirmer=first_admin)
    correction = dossier.correction_create(
        volunteer=giver, target="record", entry_pk=record.pk, wrong="x", should_be="y"
    )

    def decide(actor):
        dossier.correction_accept(actor=actor, correction=CorrectionRequest(pk=correction.pk), changes=None)
        return "accepted"

    outcomes = race(decide, [first_admin, second_admin])
    assert outcomes == ["accepted", "already_decided"]
    assert ServiceRecord.objects.filter(reverses=record).count() == 1
