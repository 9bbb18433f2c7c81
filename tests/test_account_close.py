"""A volunteer closes their account: signed out for good, details erased, pairings ended; the service they gave
stays (anonymously) and a certificate already issued still verifies."""

import pytest

from django.urls import reverse

from portal.accounts import CONFIRM_WORD, closed_phone
from portal.models import AuditEvent, User
from services.pairing.models import Pairing, PairingStatus
from services.records.certificates import certificate_verify, compute_digest
from services.records.models import Certificate
from services.tests.factories_ledger import ElderFactory
from tests.factories import UserFactory
from volunteers.models import VolunteerProfile
from volunteers.tests.conftest import make_profile

pytestmark = pytest.mark.django_db


@pytest.fixture
def giver(db):
    user = UserFactory(real_name="海小勇", phone="13900000006")
    make_profile(user, resident_id="640422199001011234", about="爱好秦腔", max_elders=2)
    return user


def issued_certificate(user) -> Certificate:
    certificate = Certificate(
        serial="ZS-2026-0001",
        code="a" * 32,
        giver=user,
        period_start="2026-01-01",
        period_end="2026-11-30",
        total_minutes=600,
        snapshot={"name": user.real_name, "id": "6404**********1234", "minutes": 600},
    )
    certificate.digest = compute_digest(certificate)
    certificate.save()
    return certificate


def test_a_volunteer_closes_the_account(client, giver):
    elder = ElderFactory()
    pairing = Pairing.objects.create(elder=elder, giver_user=giver, status=PairingStatus.ACTIVE)
    certificate = issued_certificate(giver)
    assert client.login(phone="13900000006", password="Zhufu-2026!")
    assert client.get(reverse("portal:account-close")).status_code == 200
    response = client.post(reverse("portal:account-close"), {"password": "Zhufu-2026!", "confirm": CONFIRM_WORD})
    assert response.status_code == 302
    closed = User.objects.get(pk=giver.pk)
    assert not closed.is_active and closed.phone == closed_phone(closed) and closed.real_name != "海小勇"
    assert not closed.has_usable_password()
    profile = VolunteerProfile.objects.get(user=closed)
    assert (
        profile.resident_id == ""
        and profile.resident_id_hash is None
        and profile.about == ""
        and profile.max_elders == 0
    )
    pairing.refresh_from_db()
    assert pairing.status == PairingStatus.ENDED
    assert certificate_verify(certificate.code) == certificate  # issued before: still verifies from its snapshot
    assert AuditEvent.objects.filter(action="delete", object_type="portal.user", object_id=str(giver.pk)).exists()
    assert client.get(reverse("portal:me")).status_code == 302  # signed out
    assert not client.login(phone="13900000006", password="Zhufu-2026!")
    # the number is free again: the person can register anew
    UserFactory(phone="13900000006")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"password": "wrong", "confirm": CONFIRM_WORD}, "password"),
        ({"password": "Zhufu-2026!", "confirm": "好"}, "confirm"),
    ],
)
def test_a_wrong_password_or_word_closes_nothing(client, giver, data, field):
    client.force_login(giver)
    response = client.post(reverse("portal:account-close"), data)
    assert response.status_code == 400 and response.context["form"].errors[field]
    assert User.objects.get(pk=giver.pk).is_active


def test_a_staff_member_must_lose_the_role_first(client, liaison):
    liaison.set_password("Zhufu-2026!")
    liaison.save()
    client.force_login(liaison)
    response = client.post(reverse("portal:account-close"), {"password": "Zhufu-2026!", "confirm": CONFIRM_WORD})
    assert response.status_code == 400 and User.objects.get(pk=liaison.pk).is_active
