"""The demo seed shows each proof-of-care page with something on it, once, whatever run twice."""

import pytest
import time_machine

from django.core.management import call_command
from django.urls import reverse

from portal.models import User
from services.referrals.models import Referral, ReferralStatus
from services.safecheck.models import CheckinEnrolment
from services.spotchecks.models import SpotCheck, SpotCheckDraw, SpotCheckOutcome

pytestmark = pytest.mark.django_db


@time_machine.travel("2026-12-15T10:00:00+08:00", tick=False)
def test_seed_demo_fills_the_proof_of_care_pages(client):
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)
    draw = SpotCheckDraw.objects.get()
    assert draw.month.isoformat() == "2026-11-01" and draw.seed == 20261101
    assert SpotCheck.objects.filter(outcome=SpotCheckOutcome.CONFIRMED).exists()
    assert Referral.objects.filter(status=ReferralStatus.ACKNOWLEDGED).count() == 1
    assert CheckinEnrolment.objects.count() == 2
    client.force_login(User.objects.get(phone="13900000002"))
    for name in ("services:spotcheck-list", "services:referral-list", "services:checkin-list"):
        assert client.get(reverse(name)).status_code == 200, name
    client.force_login(User.objects.get(phone="13900000008"))  # the department
    page = client.get(reverse("services:referral-list"))
    seen = Referral.objects.get(status=ReferralStatus.ACKNOWLEDGED)
    assert page.status_code == 200 and seen.elder.name in page.content.decode()
    not_ours = Referral.objects.get(department_region_id="640422000000")  # sent to the county: not this unit
    assert client.get(not_ours.get_absolute_url()).status_code == 404
