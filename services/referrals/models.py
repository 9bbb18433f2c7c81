"""转介 referrals: a case found by an alert or a visit handed to the unit that can act on it — 派出所 (harm),
卫生院/家庭医生 (health), 司法所/法律援助 (legal), 临时救助 (hardship) — with a deadline. The receiving unit (a staff
role of kind "department" held over a township or county) acknowledges it and records the outcome; a referral
not answered by its deadline is escalated to the county officer (`referrals_escalate_overdue`)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from portal.models import Region


class ReferralKind(models.TextChoices):
    POLICE = "police", _("Police station (harm)")
    HEALTH = "health", _("Clinic / family doctor (health)")
    LEGAL = "legal", _("Justice office / legal aid (legal)")
    RELIEF = "relief", _("Temporary relief (hardship)")


# Days the receiving unit has to acknowledge and act, per kind.
DEADLINE_DAYS = {
    ReferralKind.POLICE: 1,
    ReferralKind.HEALTH: 3,
    ReferralKind.LEGAL: 7,
    ReferralKind.RELIEF: 7,
}


class ReferralStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    DONE = "done", _("Outcome recorded")


class Referral(models.Model):
    elder = models.ForeignKey("services.Elder", verbose_name=_("elder"), on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+")
    # The receiving unit's region (a township or a county above the village): departments there see it.
    department_region = models.ForeignKey(
        Region, verbose_name=_("receiving region"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("referred to"), max_length=10, choices=ReferralKind.choices)
    alert = models.ForeignKey(
        "services.Alert", verbose_name=_("alert"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    visit = models.ForeignKey(
        "services.Visit", verbose_name=_("visit"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("what the unit should know"), max_length=1000)
    deadline = models.DateTimeField(_("answer by"))
    status = models.CharField(_("status"), max_length=12, choices=ReferralStatus.choices, default=ReferralStatus.SENT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("referred by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("referred at"), auto_now_add=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), max_length=1000, blank=True)
    done_at = models.DateTimeField(_("outcome recorded at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["department_region", "status"], name="referral_dept_status"),
            models.Index(fields=["status", "deadline"], name="referral_status_deadline"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(alert__isnull=False) | Q(visit__isnull=False), name="referral_has_source"
            ),
            models.CheckConstraint(condition=Q(kind__in=ReferralKind.values), name="referral_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.elder_id}"

    def get_absolute_url(self) -> str:
        return reverse("services:referral-detail", args=[self.pk])
