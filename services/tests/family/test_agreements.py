"""The entrusted-care agreement online: draft → consent → acceptance by SMS code → active → ended; PDF; reminders."""

import datetime
import re

import pytest
import time_machine

from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from portal.models import AuditEvent, Region
from services.family import agreements
from services.family.models import FamilyMessage
from services.ledger.models import AgreementStatus, CareAgreement
from services.tests.factories_care import OTHER_TOWNSHIP_VILLAGE, make_elder, staff
from services.tests.factories_ledger import FamilyContactFactory
from services.tests.family.conftest import FAMILY_PHONE
from tests.factories import UserFactory
from tests.races import race

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 12, 4, 2, 0, tzinfo=datetime.UTC)
CARER = "15900007777"
DRAFT = {
    "carer_name": "王婶",
    "carer_relation": "邻居",
    "carer_phone": CARER,
    "duties": "每天上门看看\n陪同就医",
    "start_date": "2026-12-04",
    "end_date": "2027-06-30",
}


def _code(outbox) -> str:
    return re.search(r"(?<!\d)(\d{6})(?!\d)", outbox[-1][1]).group(1)


def _draft(user, elder) -> CareAgreement:
    return agreements.agreement_draft(
        actor=user,
        elder=elder,
        carer_name="王婶",
        carer_relation="邻居",
        carer_phone=CARER,
        duties="每天上门看看",
        start_date=datetime.date(2026, 12, 4),
        end_date=datetime.date(2027, 6, 30),
    )


@time_machine.travel(NOW, tick=False)
def test_the_whole_way_through_the_pages(family_client, elder, contact, liaison, outbox):
    response = family_client.post(reverse("services:family-agreement", args=[elder.pk]), DRAFT)
    assert response.status_code == 302
    agreement = CareAgreement.objects.get()
    assert agreement.status == AgreementStatus.DRAFT and agreement.supporter == contact
    assert not agreement.is_current

    staff_client = Client()
    staff_client.force_login(liaison)
    queue = staff_client.get(reverse("services:family-changes")).content.decode()
    assert "王婶" in queue and "每天上门看看" in queue
    staff_client.post(reverse("services:family-agreement-consent", args=[agreement.pk]))
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.CONSENTED and agreement.consent_by == liaison
    assert outbox[-1][0] == CARER and "王强" in outbox[-1][1] and "/services/family/agreement/accept/" in outbox[-1][1]
    code = _code(outbox)

    public = Client()
    page = public.post(reverse("services:family-agreement-accept"), {"phone": CARER, "code": code})
    assert page.status_code == 200 and "谢谢您" in page.content.decode()
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.ACTIVE and agreement.is_current
    # the code is spent
    again = Client().post(reverse("services:family-agreement-accept"), {"phone": CARER, "code": code})
    assert again.status_code == 400

    pdf = family_client.get(reverse("services:family-agreement-pdf", args=[agreement.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and b"STSong-Light" in pdf.content
    assert "no-store" in pdf["Cache-Control"]
    assert staff_client.get(reverse("services:family-agreement-pdf", args=[agreement.pk])).status_code == 200
    assert AuditEvent.objects.filter(action="view", changes__page="agreement-pdf").count() == 2


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    "change",
    [
        {"start_date": "2026-12-01"},  # in the past
        {"end_date": "2026-12-01"},  # before the start
        {"end_date": "2031-01-01"},  # too long
        {"carer_phone": "123"},
        {"carer_name": ""},
        {"start_date": "tomorrow"},
    ],
)
def test_bad_drafts_change_nothing(family_client, elder, contact, change):
    response = family_client.post(reverse("services:family-agreement", args=[elder.pk]), {**DRAFT, **change})
    assert response.status_code == 400
    assert CareAgreement.objects.count() == 0


@time_machine.travel(NOW, tick=False)
def test_wrong_codes_lock_the_acceptance(family_user, elder, contact, liaison, outbox):
    agreement = _draft(family_user, elder)
    agreements.agreement_consent(actor=liaison, agreement=agreement, accept_url="https://x/accept/")
    code = _code(outbox)
    wrong = "000000" if code != "000000" else "111111"
    for n in range(5):
        with pytest.raises(ValidationError) as exc:
            agreements.agreement_accept(phone=CARER, code=wrong)
        assert exc.value.code == ("code_locked" if n == 4 else "code_wrong")
    with pytest.raises(ValidationError):
        agreements.agreement_accept(phone=CARER, code=code)
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.CONSENTED and agreement.accepted_at is None


def test_code_expires_after_three_days(family_user, elder, contact, liaison, outbox):
    with time_machine.travel(NOW, tick=False):
        agreement = _draft(family_user, elder)
        agreements.agreement_consent(actor=liaison, agreement=agreement, accept_url="https://x/accept/")
        code = _code(outbox)
    with time_machine.travel(NOW + datetime.timedelta(days=3, minutes=1), tick=False), pytest.raises(ValidationError):
        agreements.agreement_accept(phone=CARER, code=code)


def test_a_code_for_another_number_does_nothing(family_user, elder, contact, liaison, outbox):
    with time_machine.travel(NOW, tick=False):
        agreement = _draft(family_user, elder)
        agreements.agreement_consent(actor=liaison, agreement=agreement, accept_url="https://x/accept/")
        with pytest.raises(ValidationError):
            agreements.agreement_accept(phone="15900008888", code=_code(outbox))


@time_machine.travel(NOW, tick=False)
def test_only_the_elders_liaison_records_consent(family_user, elder, contact, client, volunteer):
    agreement = _draft(family_user, elder)
    other = staff("village_liaison", OTHER_TOWNSHIP_VILLAGE)
    for user in (other, volunteer, family_user):
        client.force_login(user)
        response = client.post(reverse("services:family-agreement-consent", args=[agreement.pk]))
        assert response.status_code in (403, 404)
        with pytest.raises(ValidationError):
            agreements.agreement_consent(actor=user, agreement=agreement, accept_url="")
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.DRAFT


@time_machine.travel(NOW, tick=False)
def test_pdf_is_not_for_others(client, family_user, elder, contact, other_family_user, volunteer):
    agreement = _draft(family_user, elder)
    outsider = staff("village_liaison", OTHER_TOWNSHIP_VILLAGE)
    for user in (other_family_user, volunteer, outsider):
        client.force_login(user)
        assert client.get(reverse("services:family-agreement-pdf", args=[agreement.pk])).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_two_acceptances_at_once_accept_once(outbox):
    if not Region.objects.filter(code="640422100201").exists():
        call_command("load_regions", verbosity=0)
    elder = make_elder()
    FamilyContactFactory(elder=elder, phone=FAMILY_PHONE)
    family = UserFactory(phone=FAMILY_PHONE)
    liaison = staff("village_liaison", "640422100201")
    with time_machine.travel(NOW, tick=False):
        agreement = _draft(family, elder)
        agreements.agreement_consent(actor=liaison, agreement=agreement, accept_url="https://x/accept/")
        code = _code(outbox)

        def accept(_n):
            agreements.agreement_accept(phone=CARER, code=code)
            return "accepted"

        assert race(accept, [1, 2]) == ["accepted", "code_wrong"]
    assert (
        AuditEvent.objects.filter(object_type="services.careagreement", changes__accepted_by__isnull=False).count() == 1
    )


def test_reminder_before_the_end_and_the_status_moves(family_user, elder, contact, liaison, outbox):
    liaison.phone = "13900000001"
    liaison.save()
    with time_machine.travel(NOW, tick=False):
        agreement = agreements.agreement_draft(
            actor=family_user,
            elder=elder,
            carer_name="王婶",
            carer_relation="",
            carer_phone=CARER,
            duties="看护",
            start_date=datetime.date(2026, 12, 10),
            end_date=datetime.date(2027, 1, 31),
        )
        agreements.agreement_consent(actor=liaison, agreement=agreement, accept_url="https://x/accept/")
        agreements.agreement_accept(phone=CARER, code=_code(outbox))
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.ACCEPTED  # it starts later
    outbox.clear()
    with time_machine.travel(datetime.datetime(2026, 12, 10, 11, tzinfo=datetime.UTC), tick=False):
        assert agreements.agreement_end_remind() == (0, 0)
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.ACTIVE
    with time_machine.travel(datetime.datetime(2027, 1, 17, 11, tzinfo=datetime.UTC), tick=False):
        assert agreements.agreement_end_remind() == (1, 0)
        assert agreements.agreement_end_remind() == (0, 1)
    assert sorted(p for p, _m in outbox) == ["13900000001", FAMILY_PHONE]
    assert "2027年1月31日" in outbox[0][1]
    assert FamilyMessage.objects.filter(kind="ending").count() == 1
    with time_machine.travel(datetime.datetime(2027, 2, 1, 11, tzinfo=datetime.UTC), tick=False):
        call_command("send_family_messages")
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.ENDED and not agreement.is_current


def test_paper_agreements_recorded_by_staff_stay_in_force(elder, liaison):
    agreement = CareAgreement.objects.create(
        elder=elder, carer_name="王婶", start_date=datetime.date(2020, 1, 1), created_by=liaison
    )
    assert agreement.status == AgreementStatus.ACTIVE and agreement.is_current
