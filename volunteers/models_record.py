"""The volunteer record (志愿服务记录) beyond service hours: training, awards, evaluations, correction requests,
and the family contact's SMS confirmation of a service record.

民政部《志愿服务记录与证明出具办法》 asks a recording unit (志愿服务组织) to keep, per volunteer: personal
details, each service, training, awards and evaluations, and to correct an entry when the volunteer shows
it is wrong. Personal details live on VolunteerProfile and service on services.ServiceRecord; this module
holds the rest. Each entry names the unit that recorded it (an organisation) and the person who did.

Corrections never edit a confirmed service record: accepting one writes a reversal and, where the service
did happen, a corrected entry (services.records.actions). Training, awards and evaluations are simple facts the unit
re-keys when it accepts a correction (the change is audited).
"""

import decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

MAX_TRAINING_HOURS = decimal.Decimal("200")


class _Entry(models.Model):
    """What every entry of the record has: whose it is, which unit recorded it, who did, when."""

    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("volunteer"), on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        "volunteers.Organisation", verbose_name=_("recording unit"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class Training(_Entry):
    """培训: name, content, hours, organiser, date."""

    name = models.CharField(_("training"), max_length=100)
    content = models.TextField(_("content"), max_length=1000, blank=True)
    hours = models.DecimalField(
        _("hours"),
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(decimal.Decimal("0.5")), MaxValueValidator(MAX_TRAINING_HOURS)],
    )
    organiser = models.CharField(_("organised by"), max_length=100)
    date = models.DateField(_("date"))

    class Meta:
        verbose_name = _("training")
        verbose_name_plural = _("trainings")
        ordering = ["-date", "-pk"]
        indexes = [models.Index(fields=["volunteer", "date"], name="training_volunteer_date")]
        constraints = [
            models.CheckConstraint(condition=Q(hours__gt=0) & Q(hours__lte=200), name="training_hours_range"),
        ]

    def __str__(self) -> str:
        return f"{self.name} · {self.date}"


class Award(_Entry):
    """表彰奖励: name, date, granting unit."""

    name = models.CharField(_("award"), max_length=100)
    date = models.DateField(_("date"))
    granted_by = models.CharField(_("granted by"), max_length=100)

    class Meta:
        verbose_name = _("award")
        verbose_name_plural = _("awards")
        ordering = ["-date", "-pk"]
        indexes = [models.Index(fields=["volunteer", "date"], name="award_volunteer_date")]

    def __str__(self) -> str:
        return f"{self.name} · {self.date}"


class Rating(models.TextChoices):
    """The fixed scale of an evaluation (评价等级)."""

    EXCELLENT = "excellent", _("Excellent")
    GOOD = "good", _("Very good")
    ADEQUATE = "adequate", _("Satisfactory")
    POOR = "poor", _("Unsatisfactory")


class Evaluation(_Entry):
    """评价: rating on a fixed scale, date, by whom (the unit and its person), comment."""

    rating = models.CharField(_("rating"), max_length=10, choices=Rating.choices)
    date = models.DateField(_("date"))
    comment = models.TextField(_("comment"), max_length=1000, blank=True)

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        ordering = ["-date", "-pk"]
        indexes = [models.Index(fields=["volunteer", "date"], name="evaluation_volunteer_date")]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__in=["excellent", "good", "adequate", "poor"]), name="evaluation_rating_scale"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_rating_display()} · {self.date}"


class CorrectionTarget(models.TextChoices):
    RECORD = "record", _("Service record")
    TRAINING = "training", _("Training")
    AWARD = "award", _("Award")
    EVALUATION = "evaluation", _("Evaluation")
    PERSONAL = "personal", _("Personal details")


class CorrectionStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the recording unit")
    ACCEPTED = "accepted", _("Accepted and corrected")
    REFUSED = "refused", _("Refused")


class CorrectionRequest(models.Model):
    """A volunteer asks the recording unit to correct one entry of their record.

    It goes to the organisation that recorded the entry (its admins decide) or, for service the village
    liaison vouched for without an organisation, to the liaison of that village (`region`).
    """

    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("volunteer"), on_delete=models.PROTECT, related_name="+"
    )
    target = models.CharField(_("what to correct"), max_length=12, choices=CorrectionTarget.choices)
    record = models.ForeignKey(
        "services.ServiceRecord",
        verbose_name=_("service record"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    training = models.ForeignKey(
        Training, verbose_name=_("training"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    award = models.ForeignKey(
        Award, verbose_name=_("award"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    evaluation = models.ForeignKey(
        Evaluation, verbose_name=_("evaluation"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        "volunteers.Organisation",
        verbose_name=_("recording unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    region = models.ForeignKey(
        "portal.Region", verbose_name=_("village"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    wrong = models.TextField(_("what is wrong"), max_length=500)
    should_be = models.TextField(_("what it should be"), max_length=500)
    status = models.CharField(
        _("status"), max_length=10, choices=CorrectionStatus.choices, default=CorrectionStatus.PENDING
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    corrected_record = models.ForeignKey(
        "services.ServiceRecord",
        verbose_name=_("corrected entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("asked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("correction request")
        verbose_name_plural = _("correction requests")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["volunteer", "created_at"], name="correction_volunteer"),
            models.Index(fields=["organisation", "status"], name="correction_org_status"),
            models.Index(fields=["region", "status"], name="correction_region_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(organisation__isnull=False) | Q(region__isnull=False), name="correction_has_unit"
            ),
            models.CheckConstraint(condition=~Q(status="refused") | ~Q(reason=""), name="correction_refused_reason"),
            models.CheckConstraint(
                condition=(Q(target="record") & Q(record__isnull=False))
                | (Q(target="training") & Q(training__isnull=False))
                | (Q(target="award") & Q(award__isnull=False))
                | (Q(target="evaluation") & Q(evaluation__isnull=False))
                | Q(target="personal"),
                name="correction_target_set",
            ),
            # one open request per entry: a second one would race the first when applied
            models.UniqueConstraint(
                fields=["record"], condition=Q(status="pending"), name="correction_one_pending_record"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_target_display()} · {self.volunteer}"

    @property
    def entry(self):
        return {
            "record": self.record,
            "training": self.training,
            "award": self.award,
            "evaluation": self.evaluation,
        }.get(self.target)


class FamilyConfirmation(models.Model):
    """An SMS code sent to an elder's family contact to confirm a submitted service record (家属短信确认).

    The code is kept only as a keyed hash; it expires, allows a few tries and is spent on first use.
    Once confirmed, the row says who confirmed ("家属 张三 短信确认") beside the record.
    """

    record = models.ForeignKey(
        "services.ServiceRecord",
        verbose_name=_("service record"),
        on_delete=models.CASCADE,
        related_name="family_confirmations",
    )
    contact = models.ForeignKey(
        "services.FamilyContact",
        verbose_name=_("family contact"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    contact_name = models.CharField(_("family member"), max_length=50)
    contact_relation = models.CharField(_("relation"), max_length=20, blank=True)
    phone = models.CharField(_("phone"), max_length=11)
    code_digest = models.CharField(max_length=64, blank=True, editable=False)
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("wrong tries"), default=0)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("sent by"), on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("family confirmation")
        verbose_name_plural = _("family confirmations")
        ordering = ["-sent_at", "-pk"]
        indexes = [models.Index(fields=["phone", "confirmed_at"], name="familyconfirm_phone")]

    def __str__(self) -> str:
        return f"{self.contact_name} · {self.record_id}"
