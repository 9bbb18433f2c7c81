"""What services does when the apps below it report something (connected in ServicesConfig.ready)."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.urls import reverse

from portal.scoping import is_staff_user
from portal.signals import account_closing, login_code_unknown_phone, login_destination
from services.care.models import Alert, VisitPlan
from services.care.state import refresh_area, refresh_elders
from services.family.actions import provision_family_user
from services.family.selectors import is_family
from services.ledger.models import Elder, FamilyContact
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


# --- the stored per-elder state (services.care.state): every save of an input refreshes it, in its transaction


@receiver(post_save, sender=Elder)
def elder_state_on_save(sender, instance, raw=False, **kwargs):
    if not raw:
        refresh_elders([instance.pk])


@receiver(post_save, sender=FamilyContact)
@receiver(post_delete, sender=FamilyContact)
def elder_state_on_family(sender, instance, raw=False, **kwargs):
    if not raw:
        refresh_elders([instance.elder_id])


@receiver(post_save, sender=Alert)
def elder_state_on_alert(sender, instance, raw=False, **kwargs):
    if not raw and instance.elder_id:
        refresh_elders([instance.elder_id])


@receiver(post_save, sender=VisitPlan)
@receiver(post_delete, sender=VisitPlan)
def elder_state_on_plan(sender, instance, raw=False, **kwargs):
    if not raw:
        refresh_area(instance.county_id[:6] if instance.county_id else None)
