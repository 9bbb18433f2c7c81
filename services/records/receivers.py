"""What services.records does when volunteers reports something (connected in ServicesConfig.ready)."""

from django.dispatch import receiver

from services.records.actions import records_from_attendance
from volunteers.signals import attendance_marked


@receiver(attendance_marked)
def attendance_becomes_records(sender, *, actor, activity, request=None, **kwargs):
    records_from_attendance(actor=actor, activity=activity, request=request, signups=kwargs.get("signups"))
