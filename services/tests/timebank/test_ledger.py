# ruff: noqa: F811 — fixtures imported from the topic's conftest
"""The time bank's ledger through the actions: deposits on confirmation, reversal, transfers, paid service."""

import pytest

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from services.models import ServiceRecord
from services.records import actions as record_actions
from services.tests.factories_records import at
from services.tests.timebank.conftest import submitted
from services.timebank import actions as bank
from services.timebank import rules
from services.timebank.models import AccountKind, TimeAccount, TimeEntry, TimeRequestStatus, TimeTransaction
from services.timebank.selectors import ledger_totals
from tests.factories import UserFactory
from volunteers.tests.conftest import make_activity, make_organisation

pytestmark = pytest.mark.django_db


def balance(user) -> int:
    account = TimeAccount.objects.filter(user=user).first()
    return account.balance if account else 0


def assert_books_balance():
    totals = ledger_totals()
    assert totals["balances"] == totals["deposits"] - totals["withdrawals"]
    for tx in TimeTransaction.objects.prefetch_related("entries"):
        assert sum(e.minutes for e in tx.entries.all()) == 0
    for account in TimeAccount.objects.filter(kind=AccountKind.PERSON):
        assert account.balance == sum(account.entries.values_list("minutes", flat=True)) >= 0


# --- deposits ---------------------------------------------------------------------------------------


def test_confirmation_deposits_once_naming_the_record(confirmed, member, liaison):
    deposit = TimeTransaction.objects.get()
    assert deposit.kind == "deposit" and deposit.record == confirmed and deposit.minutes == 120
    assert balance(member) == 120
    # a second call (a retried confirmation) deposits nothing more
    assert bank.deposit_for_record(record=confirmed, actor=liaison) == deposit
    assert TimeTransaction.objects.count() == 1 and balance(member) == 120
    assert_books_balance()


def test_database_refuses_a_second_deposit_for_a_record(confirmed):
    with pytest.raises(IntegrityError), transaction.atomic():
        TimeTransaction.objects.create(kind="deposit", minutes=5, record=confirmed)


def test_database_refuses_a_negative_personal_balance(confirmed, member):
    with pytest.raises(IntegrityError), transaction.atomic():
        TimeAccount.objects.filter(user=member).update(balance=-1)


def test_submitted_and_rejected_records_deposit_nothing(liaison, org_admin, member, elder, item):
    record = submitted(org_admin, member, elder, item)
    assert TimeTransaction.objects.count() == 0
    record_actions.record_reject(actor=liaison, record=record, reason="时间不对")
    assert TimeTransaction.objects.count() == 0 and balance(member) == 0


def test_purchased_records_never_deposit(liaison, org_admin, member, elder, item):
    record = submitted(org_admin, member, elder, item, kind="purchased")
    record_actions.record_confirm(actor=liaison, record=record)
    assert TimeTransaction.objects.count() == 0 and balance(member) == 0


def test_only_mutual_aid_activities_deposit(org_admin, organisation, member, item):
    record = ServiceRecord(kind="volunteer", elder=None)
    activity = make_activity(organisation=organisation, start=at(2, 9), end=at(2, 11), signup_deadline=at(3, 9))
    record.activity = activity
    assert bank.is_mutual_aid(record)
    activity.kind = "recreation"
    assert not bank.is_mutual_aid(record)


def test_category_weight_setting(settings, liaison, org_admin, member, elder, item):
    settings.TIMEBANK_CATEGORY_WEIGHTS = {item.category.slug: "1.5"}
    record = submitted(org_admin, member, elder, item)
    record_actions.record_confirm(actor=liaison, record=record)
    assert balance(member) == 180


def test_reversal_reverses_the_deposit(confirmed, member, liaison):
    reversal = record_actions.record_reverse(actor=liaison, record=confirmed, reason="重复登记")
    tx = TimeTransaction.objects.get(kind="reversal")
    assert tx.record == reversal and tx.minutes == 120
    assert balance(member) == 0
    assert_books_balance()


def test_reversal_refused_when_the_time_is_spent_and_nothing_changes(confirmed, member, liaison):
    kin = UserFactory(phone="13911119999")
    bank.transfer_to_kin(actor=member, phone=kin.phone, relation="父亲", hours="1.5")
    with pytest.raises(ValidationError) as caught:
        record_actions.record_reverse(actor=liaison, record=confirmed, reason="重复登记")
    assert caught.value.error_list[0].code == "reversal_spent"
    assert not ServiceRecord.objects.filter(sign=-1).exists()
    assert balance(member) == 30 and balance(kin) == 90
    assert_books_balance()


# --- transfers --------------------------------------------------------------------------------------


def test_transfer_to_kin(confirmed, member):
    kin = UserFactory(phone="13911119999", real_name="老父亲")
    tx = bank.transfer_to_kin(actor=member, phone="139 1111 9999", relation=" 父亲 ", hours="1")
    assert tx.relation == "父亲" and tx.minutes == 60
    assert balance(member) == 60 and balance(kin) == 60
    assert_books_balance()


@pytest.mark.parametrize("hours", ["", "abc", "0", "-1", "0.3", "1e9", "NaN", "Infinity", "201", None, "1,5"])
def test_transfer_bad_hours_refused(confirmed, member, hours):
    UserFactory(phone="13911119999")
    with pytest.raises(ValidationError) as caught:
        bank.transfer_to_kin(actor=member, phone="13911119999", relation="父亲", hours=hours)
    assert caught.value.error_list[0].code == "hours_invalid"
    assert TimeTransaction.objects.count() == 1


def test_transfer_refusals_change_nothing(settings, confirmed, member):
    kin = UserFactory(phone="13911119999")
    cases = [
        ({"phone": "13911118888", "relation": "父亲", "hours": "1"}, "kin_not_found"),
        ({"phone": member.phone, "relation": "父亲", "hours": "1"}, "kin_self"),
        ({"phone": kin.phone, "relation": "  ", "hours": "1"}, "relation_required"),
        ({"phone": kin.phone, "relation": "父亲", "hours": "3"}, "insufficient"),
    ]
    for kwargs, code in cases:
        with pytest.raises(ValidationError) as caught:
            bank.transfer_to_kin(actor=member, **kwargs)
        assert caught.value.error_list[0].code == code, kwargs
    assert balance(member) == 120 and balance(kin) == 0
    assert TimeTransaction.objects.count() == 1


def test_transfer_yearly_cap(settings, confirmed, member, clock):
    settings.TIMEBANK_TRANSFER_YEARLY_CAP_HOURS = 1
    kin = UserFactory(phone="13911119999")
    bank.transfer_to_kin(actor=member, phone=kin.phone, relation="母亲", hours="0.5")
    with pytest.raises(ValidationError) as caught:
        bank.transfer_to_kin(actor=member, phone=kin.phone, relation="母亲", hours="1")
    assert caught.value.error_list[0].code == "yearly_cap"
    assert "2026" in caught.value.messages[0]
    bank.transfer_to_kin(actor=member, phone=kin.phone, relation="母亲", hours="0.5")
    clock.move_to("2027-01-02T10:00:00+08:00")  # a new year, a new cap
    bank.transfer_to_kin(actor=member, phone=kin.phone, relation="母亲", hours="1")
    assert balance(kin) == 120


# --- service paid in time ---------------------------------------------------------------------------


def test_request_takes_time_and_cancel_returns_it_once(confirmed, member, organisation, item):
    request = bank.time_request_create(
        actor=member, organisation=organisation, beneficiary="", service_item=item, hours="1.5", description="理发"
    )
    assert request.beneficiary == str(member) and balance(member) == 30
    bank.time_request_cancel(actor=member, time_request=request)
    assert balance(member) == 120
    with pytest.raises(ValidationError) as caught:  # a replayed cancel
        bank.time_request_cancel(actor=member, time_request=request)
    assert caught.value.error_list[0].code == "request_not_open"
    assert balance(member) == 120
    assert_books_balance()


def test_request_beyond_balance_refused(confirmed, member, organisation, item):
    with pytest.raises(ValidationError) as caught:
        bank.time_request_create(
            actor=member, organisation=organisation, beneficiary="", service_item=item, hours="3", description="x"
        )
    assert caught.value.error_list[0].code == "insufficient"
    assert balance(member) == 120 and not TimeEntry.objects.filter(transaction__kind="withdrawal").exists()


def test_request_to_a_team_that_is_not_an_association_refused(confirmed, member, item):
    from volunteers.models import OrganisationKind

    team = make_organisation(admin=UserFactory(), name="青年志愿服务队")
    team.kind = OrganisationKind.objects.exclude(slug=rules.ELDER_ASSOCIATION_SLUG).first()
    team.save()
    with pytest.raises(ValidationError) as caught:
        bank.time_request_create(
            actor=member, organisation=team, beneficiary="", service_item=item, hours="1", description="x"
        )
    assert caught.value.error_list[0].code == "not_an_association"


def test_admin_arranges_with_own_activity_only(confirmed, member, organisation, org_admin, item):
    request = bank.time_request_create(
        actor=member, organisation=organisation, beneficiary="母亲", service_item=item, hours="1", description="助浴"
    )
    other = make_organisation(admin=UserFactory(), name="别村老年协会", code="640422101000")
    foreign = make_activity(organisation=other)
    with pytest.raises(ValidationError):
        bank.time_request_arrange(actor=org_admin, time_request=request, activity=foreign)
    with pytest.raises(PermissionDenied):
        bank.time_request_arrange(actor=member, time_request=request, activity=make_activity(organisation=organisation))
    own = make_activity(organisation=organisation)
    bank.time_request_arrange(actor=org_admin, time_request=request, activity=own)
    request.refresh_from_db()
    assert request.status == TimeRequestStatus.ARRANGED and request.activity == own
    with pytest.raises(ValidationError):  # arranged: no longer cancellable
        bank.time_request_cancel(actor=member, time_request=request)
    assert balance(member) == 60
