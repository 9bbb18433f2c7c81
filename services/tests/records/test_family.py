# ruff: noqa: F811 — fixtures imported from test_records_helpers
"""The family contact confirms a submitted service record with an SMS code (家属短信确认)."""

import datetime
import re

import pytest

from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent
from services.pairing.models import Pairing, PairingStatus
from services.records import actions as record_actions
from services.records import family_confirm
from services.records import selectors as record_reads
from services.records.models import RecordStatus, ServiceRecord
from services.tests.factories_ledger import FamilyContactFactory
from services.tests.factories_records import at, elder, item, record_fields  # noqa: F401 — fixtures
from tests.factories import UserFactory
from volunteers.models import FamilyConfirmation

pytestmark = pytest.mark.django_db
FAMILY_PHONE = "15812345678"


@pytest.fixture
def family(elder):
    return FamilyContactFactory(elder=elder, name="李建军", relation="儿子", phone=FAMILY_PHONE, is_primary=True)


@pytest.fixture
def paired_giver(elder, liaison):
    """A volunteer paired with the elder since last month (so a family confirmation satisfies the elder link)."""

    giver = UserFactory(real_name="海小勇")
    Pairing.objects.create(
        elder=elder,
        giver_user=giver,
        status=PairingStatus.ACTIVE,
        start_date=timezone.localdate() - datetime.timedelta(days=30),
        confirmed_by=liaison,
        confirmed_at=timezone.now() - datetime.timedelta(days=30),
    )
    return giver


@pytest.fixture
def submitted(paired_giver, elder, item, family):
    return record_actions.record_create(
        actor=paired_giver, giver=paired_giver, elder=elder, service_item=item, **record_fields()
    )


def send(client, user, record, **data):
    client.force_login(user)
    return client.post(reverse("volunteers:record-family-send", args=[record.pk]), data)


def sent_code(outbox) -> str:
    phone, message = outbox[-1]
    assert phone == FAMILY_PHONE
    return re.search(r"\b(\d{6})\b", message).group(1)


def enter(client, code, phone=FAMILY_PHONE):
    client.logout()
    return client.post(reverse("volunteers:family-confirm"), {"phone": phone, "code": code})


def test_giver_sends_code_family_confirms(client, paired_giver, submitted, outbox, family):
    detail = reverse("volunteers:record-detail", args=[submitted.pk])
    client.force_login(paired_giver)
    assert reverse("volunteers:record-family-send", args=[submitted.pk]) in client.get(detail).content.decode()
    assert send(client, paired_giver, submitted).status_code == 302
    code = sent_code(outbox)
    confirmation = FamilyConfirmation.objects.get()
    assert code not in confirmation.code_digest and len(confirmation.code_digest) == 64
    page = client.get(reverse("volunteers:family-confirm"))
    assert page.status_code == 200 and "noindex" in page["X-Robots-Tag"]
    response = enter(client, code)
    assert response.status_code == 200 and response.context["done"].pk == submitted.pk
    submitted.refresh_from_db()
    assert submitted.status == RecordStatus.CONFIRMED and submitted.confirmed_by is None
    confirmation.refresh_from_db()
    assert confirmation.confirmed_at and confirmation.contact_name == "李建军"
    client.force_login(paired_giver)
    assert "李建军" in client.get(detail).content.decode()
    assert record_reads.giver_totals(user=paired_giver)["volunteer_minutes"] == 120
    assert AuditEvent.objects.filter(changes__confirmed_by_family="李建军").exists()


def test_liaison_may_send_others_may_not(client, liaison, submitted, outbox):
    stranger = UserFactory()
    client.force_login(stranger)
    assert client.post(reverse("volunteers:record-family-send", args=[submitted.pk])).status_code == 404
    assert send(client, liaison, submitted).status_code == 302
    assert len(outbox) == 1 and FamilyConfirmation.objects.get().sent_by == liaison


def test_wrong_code_changes_nothing(client, paired_giver, submitted, outbox):
    send(client, paired_giver, submitted)
    code = sent_code(outbox)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    response = enter(client, wrong)
    assert response.status_code == 400
    assert str(family_confirm.CODE_WRONG) in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == RecordStatus.SUBMITTED
    assert FamilyConfirmation.objects.get().attempts == 1
    assert enter(client, code, phone="13700000000").status_code == 400  # the right code from another phone
    submitted.refresh_from_db()
    assert submitted.status == RecordStatus.SUBMITTED


@pytest.mark.parametrize("code", ["12345", "abcdef", "1234567", ""])
def test_malformed_input_is_refused(client, code):
    response = enter(client, code)
    assert response.status_code == 400 and response.context["form"].errors["code"]
    assert enter(client, "123456", phone="not a phone").status_code == 400


def test_expired_code(client, paired_giver, submitted, outbox):
    send(client, paired_giver, submitted)
    code = sent_code(outbox)
    FamilyConfirmation.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = enter(client, code)
    assert response.status_code == 400
    assert str(family_confirm.CODE_GONE) in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == RecordStatus.SUBMITTED


def test_replayed_code(client, paired_giver, submitted, outbox):
    send(client, paired_giver, submitted)
    code = sent_code(outbox)
    assert enter(client, code).status_code == 200
    response = enter(client, code)
    assert response.status_code == 400
    assert FamilyConfirmation.objects.filter(confirmed_at__isnull=False).count() == 1
    assert AuditEvent.objects.filter(changes__has_key="confirmed_by_family").count() == 1


def test_too_many_tries_lock_the_code(client, paired_giver, submitted, outbox):
    send(client, paired_giver, submitted)
    code = sent_code(outbox)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _i in range(family_confirm.MAX_ATTEMPTS - 1):
        enter(client, wrong)
    response = enter(client, wrong)
    assert str(family_confirm.CODE_LOCKED) in response.content.decode()
    assert enter(client, code).status_code == 400  # even the right code no longer works
    submitted.refresh_from_db()
    assert submitted.status == RecordStatus.SUBMITTED


def test_tries_per_device_are_limited(client, paired_giver, submitted, outbox):
    send(client, paired_giver, submitted)
    code = sent_code(outbox)
    for _i in range(family_confirm.IP_LIMIT):
        client.post(reverse("volunteers:family-confirm"), {"phone": "13700000000", "code": "000000"})
    response = enter(client, code)
    assert str(family_confirm.TOO_MANY_TRIES) in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == RecordStatus.SUBMITTED


def test_record_no_longer_submitted(client, paired_giver, liaison, submitted, outbox):
    send(client, paired_giver, submitted)
    code = sent_code(outbox)
    record_actions.record_reject(actor=liaison, record=submitted, reason="时间不对")
    response = enter(client, code)
    assert response.status_code == 400
    assert str(family_confirm.NOT_SUBMITTED) in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == RecordStatus.REJECTED and submitted.confirmed_by == liaison


def test_cannot_send_for_a_decided_record_or_without_family_phone(
    client, paired_giver, liaison, submitted, family, outbox
):
    family.phone = ""
    family.save()
    response = send(client, paired_giver, submitted)
    assert response.status_code == 302 and not outbox
    family.phone = FAMILY_PHONE
    family.save()
    record_actions.record_confirm(actor=liaison, record=submitted)
    send(client, paired_giver, submitted)
    assert not outbox and not FamilyConfirmation.objects.exists()


def test_resend_is_limited_and_replaces_the_old_code(client, paired_giver, submitted, outbox):
    send(client, paired_giver, submitted)
    first = sent_code(outbox)
    send(client, paired_giver, submitted)
    assert len(outbox) == 1  # too soon
    FamilyConfirmation.objects.update(sent_at=timezone.now() - datetime.timedelta(minutes=5))
    send(client, paired_giver, submitted)
    second = sent_code(outbox)
    assert len(outbox) == 2
    if first != second:
        assert enter(client, first).status_code == 400
    assert enter(client, second).status_code == 200


def test_another_elders_contact_is_refused(client, paired_giver, submitted, outbox):
    stranger_contact = FamilyContactFactory()
    send(client, paired_giver, submitted, contact=stranger_contact.pk)
    assert not outbox


def test_unpaired_giver_still_needs_the_liaison(client, liaison, elder, item, family, outbox):
    """A family code does not replace the elder link: a giver neither paired nor vouched for is not confirmed."""
    giver = UserFactory()

    record = ServiceRecord.objects.create(  # as a giver who logged it before the pairing ended
        giver=giver, elder=elder, region=elder.village, service_item=item, recorded_by=giver, **record_fields()
    )
    send(client, giver, record)
    response = enter(client, sent_code(outbox))
    assert response.status_code == 400
    record.refresh_from_db()
    assert record.status == RecordStatus.SUBMITTED
