"""What the family reports (看望问候, 去向) and what was sent to it (once per month or silence)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from services.ledger.models import Elder, FamilyContact


class FamilyContactKind(models.TextChoices):
    CALL = "call", _("Phone call")
    VIDEO = "video", _("Video call")
    VISIT = "visit", _("Visit home")


class FamilyContactLog(models.Model):
    """A family member's own report of a contact with the elder: a call, a video call or a visit home."""

    elder = models.ForeignKey(
        Elder, verbose_name=_("elder"), on_delete=models.CASCADE, related_name="family_contact_logs"
    )
    contact = models.ForeignKey(
        FamilyContact,
        verbose_name=_("family member"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact_logs",
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reported by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(_("kind of contact"), max_length=10, choices=FamilyContactKind.choices)
    contact_date = models.DateField(_("date of contact"))
    created_at = models.DateTimeField(_("reported at"), default=timezone.now)

    class Meta:
        verbose_name = _("family contact report")
        verbose_name_plural = _("family contact reports")
        ordering = ["-contact_date", "-pk"]
        indexes = [models.Index(fields=["elder", "-contact_date"], name="familylog_elder_date")]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=FamilyContactKind.values), name="familylog_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.elder} · {self.get_kind_display()} · {self.contact_date}"


class ChangeStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the village")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Not confirmed")


class WhereaboutsChange(models.Model):
    """A family member's new whereabouts (去向: city, employer, since when) or phone, until the liaison confirms."""

    elder = models.ForeignKey(Elder, verbose_name=_("elder"), on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(
        FamilyContact, verbose_name=_("family member"), on_delete=models.CASCADE, related_name="whereabouts_changes"
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("proposed by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    city = models.CharField(_("city"), max_length=50)
    employer = models.CharField(_("employer"), max_length=100, blank=True)
    since = models.DateField(_("since"), null=True, blank=True)
    phone = models.CharField(_("new phone"), max_length=11, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ChangeStatus.choices, default=ChangeStatus.PENDING, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("proposed at"), default=timezone.now)

    class Meta:
        verbose_name = _("change of whereabouts")
        verbose_name_plural = _("changes of whereabouts")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ChangeStatus.values), name="whereabouts_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.elder} · {self.city}"


class FamilyMessageKind(models.TextChoices):
    MONTHLY = "monthly", _("Monthly summary")
    NO_CONTACT = "no_contact", _("No family contact for 30 days")
    AGREEMENT_ENDING = "ending", _("Care agreement ending")


class FamilyMessage(models.Model):
    """One message sent to an elder's family about one period: the unique key makes re-runs send nothing."""

    elder = models.ForeignKey(Elder, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=FamilyMessageKind.choices)
    period = models.CharField(max_length=30)
    recipients = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("family message")
        verbose_name_plural = _("family messages")
        constraints = [models.UniqueConstraint(fields=["elder", "kind", "period"], name="familymessage_once")]

    def __str__(self) -> str:
        return f"{self.elder} · {self.kind} · {self.period}"
