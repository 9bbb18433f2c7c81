"""What services does when the apps below it report something (connected in ServicesConfig.ready)."""

from django.dispatch import receiver
from django.urls import reverse

from portal.scoping import is_staff_user
from portal.signals import account_closing, login_code_unknown_phone, login_destination
from services.family.actions import provision_family_user
from services.family.selectors import is_family
from services.pairing.lifecycle import pairings_end_for_giver
from services.pairing.models import EndReason
from services.records.actions import records_from_attendance
from volunteers.signals import attendance_marked


@receiver(attendance_marked)
def attendance_becomes_records(sender, *, actor, activity, request=None, **kwargs):
    records_from_attendance(actor=actor, activity=activity, request=request, signups=kwargs.get("signups"))


@receiver(account_closing)
def pairings_end_on_account_close(sender, *, user, request=None, **kwargs):
    pairings_end_for_giver(
        giver_user=user, reason=EndReason.GIVER_LEFT, actor=user, note="account closed", request=request
    )


@receiver(login_code_unknown_phone)
def family_member_account(sender, *, phone, **kwargs):
    """A number on an elder's family contacts may sign in by code: its account is made the first time."""
    return provision_family_user(phone=phone)


@receiver(login_destination)
def family_lands_on_family_home(sender, *, request, user, **kwargs):
    """A family member without a staff role lands on "我的老人"."""
    if not is_staff_user(user) and is_family(user):
        return reverse("services:family-home")
    return None
