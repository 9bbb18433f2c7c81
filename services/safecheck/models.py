"""平安铃 daily safe check-in: an elder (or their family) opts in and chooses a time; each day an SMS asks for a
reply of "1". The reply comes back through the provider's signed callback (`services.safecheck.views.callback`),
idempotent by the provider's message id. No answer by the deadline sends a second message; two missed days in
a row make a visit task for the village liaison, three raise an alert."""

import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.identity import EncryptedTextField
from portal.models import Region


class CheckinEnrolment(models.Model):
    elder = models.OneToOneField(
        "services.Elder", verbose_name=_("elder"), on_delete=models.CASCADE, related_name="safe_checkin"
    )
    village = models.ForeignKey(Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+")
    phone = EncryptedTextField(_("number that answers"))
    phone_hash = models.CharField(max_length=64, db_index=True, editable=False)
    phone_masked = models.CharField(_("number"), max_length=11, editable=False)
    send_at = models.TimeField(_("daily message at"), default=datetime.time(9, 0))
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("enrolled by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("enrolled at"), auto_now_add=True)

    class Meta:
        verbose_name = _("safe check-in")
        verbose_name_plural = _("safe check-ins")
        ordering = ["village", "pk"]

    def __str__(self) -> str:
        return f"{self.elder_id} {self.phone_masked}"


class CheckinDay(models.Model):
    enrolment = models.ForeignKey(
        CheckinEnrolment, verbose_name=_("safe check-in"), on_delete=models.CASCADE, related_name="days"
    )
    day = models.DateField(_("day"))
    first_sent_at = models.DateTimeField(_("message sent at"), null=True, blank=True)
    second_sent_at = models.DateTimeField(_("second message sent at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    missed = models.BooleanField(_("missed"), default=False)

    class Meta:
        verbose_name = _("safe check-in day")
        verbose_name_plural = _("safe check-in days")
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["enrolment", "day"], name="checkinday_unique")]

    def __str__(self) -> str:
        return f"{self.enrolment_id} {self.day}"


class CheckinReply(models.Model):
    """One provider callback, kept by its message id: the same id again is answered and changes nothing."""

    provider_message_id = models.CharField(max_length=100, unique=True)
    phone_hash = models.CharField(max_length=64, editable=False)
    received_at = models.DateTimeField(auto_now_add=True)
    day = models.ForeignKey(CheckinDay, null=True, blank=True, on_delete=models.SET_NULL, related_name="replies")

    class Meta:
        verbose_name = _("safe check-in reply")
        verbose_name_plural = _("safe check-in replies")

    def __str__(self) -> str:
        return self.provider_message_id
