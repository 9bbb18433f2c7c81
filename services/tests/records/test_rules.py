# ruff: noqa: F811 — fixtures imported from test_records_helpers
"""check_record: every rule with its violation, through the service functions that call it."""

import datetime

import pytest

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone

from portal.models import AuditEvent
from services.models import ServiceRecord
from services.records import actions as record_actions
from services.records import rules as record_rules
from services.records import selectors as record_reads
from services.records.models import RecordStatus, hours_display, minutes_between
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
    professional_item,
    record_fields,
)
from tests.factories import UserFactory
from volunteers.models import ActivitySignup, Membership

pytestmark = pytest.mark.django_db


def codes(exc: pytest.ExceptionInfo) -> set[str]:
    return {e.code for e in exc.value.error_list}


def log_activity(member, activity, item, **overrides):
    fields = record_fields(**{"start": activity.start, "end": activity.end, **overrides})
    return record_actions.record_create(actor=member, giver=member, activity=activity, service_item=item, **fields)


def proxy_elder(liaison, giver, elder, item, **overrides):
    return record_actions.record_create(
        actor=liaison, giver=giver, elder=elder, service_item=item, **record_fields(**overrides)
    )


# --- the happy paths ------------------------------------------------------------------------------


def test_activity_record_derives_minutes_org_and_village(member, past_activity, item):
    record = log_activity(member, past_activity, item)
    assert record.minutes == 120
    assert record.organisation == past_activity.organisation
    assert record.region_id == past_activity.village_id
    assert record.status == RecordStatus.SUBMITTED
    assert record.recorded_by == member
    assert AuditEvent.objects.filter(object_type="services.servicerecord", object_id=str(record.pk)).exists()


def test_minutes_are_never_typed():
    start = timezone.now()
    assert minutes_between(start, start + datetime.timedelta(minutes=90, seconds=59)) == 90
    assert minutes_between(start, start) == 0
    assert hours_display(90) == "1.5"
    assert hours_display(61) == "1.0"
    assert hours_display(-120) == "-2.0"


def test_minutes_recomputed_on_save(member, past_activity, item):
    record = log_activity(member, past_activity, item)
    record.end = record.start + datetime.timedelta(minutes=45)
    record.minutes = 9999
    record.save()
    record.refresh_from_db()
    assert record.minutes == 45


def test_liaison_proxy_for_elder(liaison, elder, item):
    helper = UserFactory(real_name="互助员老王")
    record = proxy_elder(liaison, helper, elder, item)
    assert record.giver == helper and record.recorded_by == liaison
    record_rules.check_record(record)  # the liaison entered it: the elder link is vouched for


# --- each rule and its violation ------------------------------------------------------------------


def test_end_after_start(liaison, elder, item):
    with pytest.raises(ValidationError) as exc:
        proxy_elder(liaison, UserFactory(), elder, item, start=at(1, 11), end=at(1, 9))
    assert "ends_before_start" in codes(exc)
    assert str(record_rules.ENDS_BEFORE_START) in exc.value.messages
    assert ServiceRecord.objects.count() == 0


def test_database_refuses_end_before_start(liaison, elder, item):
    record = proxy_elder(liaison, UserFactory(), elder, item)
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceRecord.objects.filter(pk=record.pk).update(end=record.start)


def test_database_refuses_elder_and_activity(member, past_activity, item, elder):
    record = log_activity(member, past_activity, item)
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceRecord.objects.filter(pk=record.pk).update(elder=elder)


def test_no_future(liaison, elder, item):
    later = timezone.now() + datetime.timedelta(hours=1)
    with pytest.raises(ValidationError) as exc:
        proxy_elder(liaison, UserFactory(), elder, item, start=later - datetime.timedelta(hours=2), end=later)
    assert codes(exc) == {"in_the_future"}


def test_max_length_default_12h(liaison, elder, item):
    with pytest.raises(ValidationError) as exc:
        proxy_elder(liaison, UserFactory(), elder, item, start=at(2, 6), end=at(2, 18, 1))
    assert codes(exc) == {"too_long"}
    assert "12" in exc.value.messages[0]


@override_settings(RECORDS_MAX_MINUTES=180)
def test_max_length_configurable(liaison, elder, item):
    with pytest.raises(ValidationError) as exc:
        proxy_elder(liaison, UserFactory(), elder, item, start=at(1, 8), end=at(1, 12))
    assert codes(exc) == {"too_long"}


def test_overlap_same_giver(liaison, elder, other_elder, item):
    helper = UserFactory()
    proxy_elder(liaison, helper, elder, item, start=at(1, 9), end=at(1, 11))
    with pytest.raises(ValidationError) as exc:
        proxy_elder(liaison, helper, elder, item, start=at(1, 10, 30), end=at(1, 12))
    assert codes(exc) == {"overlaps"}
    # touching is not overlapping; another giver at the same time is fine
    proxy_elder(liaison, helper, elder, item, start=at(1, 11), end=at(1, 12))
    proxy_elder(liaison, UserFactory(), elder, item, start=at(1, 10), end=at(1, 11))


def test_rejected_record_frees_the_time(liaison, elder, item):
    helper = UserFactory()
    first = proxy_elder(liaison, helper, elder, item)
    record_actions.record_reject(actor=liaison, record=first, reason="时间填错")
    proxy_elder(liaison, helper, elder, item)  # same time again, no overlap error


def test_day_total_over_24h(liaison, elder, item):
    """Three non-overlapping records that all start on one day add up to 35.5 h."""
    helper = UserFactory()
    proxy_elder(liaison, helper, elder, item, start=at(3, 0), end=at(3, 12))
    proxy_elder(liaison, helper, elder, item, start=at(3, 12), end=at(3, 23, 30))
    with pytest.raises(ValidationError) as exc:
        proxy_elder(liaison, helper, elder, item, start=at(3, 23, 30), end=at(2, 11, 30))
    assert codes(exc) == {"day_over_24h"}


def test_logged_within_ten_working_days(liaison, elder, item):
    # 20 calendar days ago is at least 14 working days ago
    with pytest.raises(ValidationError) as exc:
        proxy_elder(liaison, UserFactory(), elder, item, start=at(20, 9), end=at(20, 10))
    assert codes(exc) == {"too_late"}


@override_settings(RECORDS_LOG_WORKING_DAYS=30)
def test_logging_window_configurable(liaison, elder, item):
    proxy_elder(liaison, UserFactory(), elder, item, start=at(20, 9), end=at(20, 10))


def test_working_days_skip_weekends():
    friday = datetime.date(2026, 11, 27)
    assert record_rules.working_days_between(friday, datetime.date(2026, 11, 30)) == 1  # Monday
    assert record_rules.working_days_between(friday, datetime.date(2026, 12, 11)) == 10
    assert record_rules.working_days_between(friday, datetime.date(2026, 12, 14)) == 11
    assert record_rules.working_days_between(friday, friday) == 0


def test_member_of_organisation_at_the_time(org_admin, organisation, elder, item):
    outsider = UserFactory(real_name="外人")
    with pytest.raises(PermissionDenied):  # the admin cannot record for a non-member at all
        record_actions.record_create(
            actor=org_admin,
            giver=outsider,
            elder=elder,
            organisation=organisation,
            service_item=item,
            **record_fields(),
        )
    # joined today, the service was yesterday: not a member at that time
    late_joiner = UserFactory(real_name="新会员")
    Membership.objects.create(organisation=organisation, user=late_joiner, status="active")
    with pytest.raises(ValidationError) as exc:
        record_actions.record_create(
            actor=org_admin,
            giver=late_joiner,
            elder=elder,
            organisation=organisation,
            service_item=item,
            **record_fields(),
        )
    assert codes(exc) == {"not_member"}
    assert "新会员" in exc.value.messages[0]


def test_signed_up_to_activity(organisation, past_activity, item):
    stranger = add_member(organisation, real_name="没报名的会员")
    with pytest.raises(ValidationError) as exc:
        log_activity(stranger, past_activity, item)
    assert codes(exc) == {"not_signed_up"}


def test_signup_after_the_activity_does_not_count(organisation, past_activity, item):
    late = add_member(organisation, real_name="补报名")
    ActivitySignup.objects.create(activity=past_activity, user=late)  # created now, after the activity ended
    with pytest.raises(ValidationError) as exc:
        log_activity(late, past_activity, item)
    assert codes(exc) == {"not_signed_up"}


def test_service_within_activity_hours(member, past_activity, item):
    with pytest.raises(ValidationError) as exc:
        log_activity(member, past_activity, item, start=at(2, 13), end=at(2, 15))
    assert codes(exc) == {"outside_activity"}


def test_elder_record_needs_liaison_vouching(org_admin, organisation, member, elder, item):
    record = record_actions.record_create(
        actor=org_admin, giver=member, elder=elder, organisation=organisation, service_item=item, **record_fields()
    )
    assert record.status == RecordStatus.SUBMITTED  # accepted, waiting for the liaison
    with pytest.raises(ValidationError) as exc:
        record_actions.record_confirm(actor=org_admin, record=record)
    assert codes(exc) == {"not_vouched"}
    record.refresh_from_db()
    assert record.status == RecordStatus.SUBMITTED


def test_elder_record_confirmed_by_liaison(liaison, org_admin, organisation, member, elder, item):
    record = record_actions.record_create(
        actor=org_admin, giver=member, elder=elder, organisation=organisation, service_item=item, **record_fields()
    )
    record = record_actions.record_confirm(actor=liaison, record=record)
    assert record.status == RecordStatus.CONFIRMED and record.confirmed_by == liaison


@override_settings(RECORDS_ELDER_LINK_CHECK="services.tests.records.test_rules.refuse_all")
def test_elder_link_check_is_pluggable(liaison, elder, item):
    with pytest.raises(ValidationError) as exc:
        proxy_elder(liaison, UserFactory(), elder, item)
    assert codes(exc) == {"not_paired"}


def refuse_all(record):
    raise ValidationError("not paired", code="not_paired")


def test_giver_cannot_log_for_an_unlinked_elder(member, elder, item):
    with pytest.raises(ValidationError) as exc:
        record_actions.record_create(actor=member, giver=member, elder=elder, service_item=item, **record_fields())
    assert codes(exc) == {"elder_not_linked"}


def test_professional_item_needs_social_worker(liaison, elder, professional_item):
    with pytest.raises(ValidationError) as exc:
        proxy_elder(liaison, UserFactory(), elder, professional_item)
    assert codes(exc) == {"professional_item"}


def test_purchased_needs_organisation(liaison, elder, item):
    with pytest.raises(ValidationError) as exc:
        proxy_elder(liaison, UserFactory(), elder, item, kind="purchased")
    assert codes(exc) == {"purchased_needs_org"}


def test_several_violations_reported_together(liaison, elder, item):
    later = timezone.now() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        proxy_elder(
            liaison, UserFactory(), elder, item, kind="purchased", start=later, end=later + datetime.timedelta(hours=13)
        )
    assert codes(exc) == {"in_the_future", "too_long", "purchased_needs_org"}


def test_xss_in_content_is_stored_as_text(liaison, elder, item):
    record = proxy_elder(liaison, UserFactory(), elder, item, content="<script>alert(1)</script>")
    assert record.content == "<script>alert(1)</script>"


# --- locking and reversal -------------------------------------------------------------------------


def test_confirmed_record_cannot_be_edited(liaison, elder, item):
    helper = UserFactory()
    record = proxy_elder(liaison, helper, elder, item)
    record_actions.record_confirm(actor=liaison, record=record)
    with pytest.raises(ValidationError) as exc:
        record_actions.record_update(actor=liaison, record=record, content="改过了")
    assert codes(exc) == {"locked"}
    record.refresh_from_db()
    record.content = "偷偷改"
    with pytest.raises(ValidationError) as exc:
        record_rules.check_record(record)
    assert codes(exc) == {"locked"}


def test_settled_record_is_locked(liaison, elder, item):
    record = proxy_elder(liaison, UserFactory(), elder, item)
    ServiceRecord.objects.filter(pk=record.pk).update(status=RecordStatus.SETTLED)
    with pytest.raises(ValidationError) as exc:
        record_actions.record_update(actor=liaison, record=record, place="别处")
    assert codes(exc) == {"locked"}


def test_submitted_record_can_be_edited_and_is_rechecked(liaison, elder, item):
    record = proxy_elder(liaison, UserFactory(), elder, item)
    record = record_actions.record_update(actor=liaison, record=record, end=at(1, 12))
    assert record.minutes == 180
    with pytest.raises(ValidationError) as exc:
        record_actions.record_update(actor=liaison, record=record, end=at(1, 8))
    assert codes(exc) == {"ends_before_start"}
    record.refresh_from_db()
    assert record.minutes == 180


def test_reversal_keeps_both_and_totals_subtract(liaison, elder, item):
    helper = UserFactory()
    record = record_actions.record_confirm(actor=liaison, record=proxy_elder(liaison, helper, elder, item))
    assert record_reads.giver_totals(user=helper)["volunteer_minutes"] == 120
    reversal = record_actions.record_reverse(actor=liaison, record=record, reason="重复登记")
    assert reversal.sign == -1 and reversal.minutes == 120 and reversal.reverses == record
    assert ServiceRecord.objects.filter(giver=helper).count() == 2
    assert record_reads.giver_totals(user=helper)["volunteer_minutes"] == 0
    # the reversed slot is free again for the corrected entry
    proxy_elder(liaison, helper, elder, item, end=at(1, 10))


def test_reverse_twice_and_reverse_a_reversal_refused(liaison, elder, item):
    record = record_actions.record_confirm(actor=liaison, record=proxy_elder(liaison, UserFactory(), elder, item))
    reversal = record_actions.record_reverse(actor=liaison, record=record, reason="错")
    with pytest.raises(ValidationError) as exc:
        record_actions.record_reverse(actor=liaison, record=record, reason="再错")
    assert codes(exc) == {"already_reversed"}
    with pytest.raises(ValidationError) as exc:
        record_actions.record_reverse(actor=liaison, record=reversal, reason="错")
    assert codes(exc) == {"reversal_of_reversal"}


def test_reverse_needs_reason_and_a_confirmed_record(liaison, elder, item):
    record = proxy_elder(liaison, UserFactory(), elder, item)
    with pytest.raises(ValidationError) as exc:
        record_actions.record_reverse(actor=liaison, record=record, reason="x")
    assert codes(exc) == {"not_reversible"}
    record_actions.record_confirm(actor=liaison, record=record)
    with pytest.raises(ValidationError) as exc:
        record_actions.record_reverse(actor=liaison, record=record, reason="  ")
    assert codes(exc) == {"reason_required"}


def test_giver_cannot_reverse_own_record(liaison, elder, item):
    helper = UserFactory()
    record = record_actions.record_confirm(actor=liaison, record=proxy_elder(liaison, helper, elder, item))
    with pytest.raises(PermissionDenied):
        record_actions.record_reverse(actor=helper, record=record, reason="我想改")


def test_attendance_becomes_submitted_records(org_admin, organisation, member, past_activity, item):
    past_activity.service_item = item
    past_activity.save()
    late = add_member(organisation, real_name="迟报名")
    ActivitySignup.objects.create(activity=past_activity, user=late, attended=True, minutes=60)  # signed up too late
    ActivitySignup.objects.filter(activity=past_activity, user=member).update(attended=True, minutes=90)
    created, problems = record_actions.records_from_attendance(actor=org_admin, activity=past_activity)
    assert [(r.giver, r.minutes, r.status) for r in created] == [(member, 90, RecordStatus.SUBMITTED)]
    assert len(problems) == 1 and "迟报名" in problems[0]
    again, _ = record_actions.records_from_attendance(actor=org_admin, activity=past_activity)
    assert again == []  # idempotent
    with pytest.raises(PermissionDenied):
        record_actions.records_from_attendance(actor=member, activity=past_activity)
