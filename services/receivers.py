"""What services does when the apps below it report something (connected in ServicesConfig.ready)."""

from django.dispatch import receiver

from portal.signals import account_closing
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
