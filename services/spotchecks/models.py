"""抽查回访 spot-check call-backs: each month a seeded random sample of logged visits and confirmed purchased-service
records, stratified by township and provider, that a township or county officer calls back.

A `SpotCheckDraw` is one draw for one region and month: the share, the seed and the population it was drawn
from, so that `services.spotchecks.draw.sample` reproduces it. A `SpotCheck` is one drawn visit or record and
what the call-back found. "Did not happen" on a purchased record opens a dispute: the record is reversed
(`reversal`), which takes it out of its open settlement or makes a negative adjustment if it was settled.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from portal.models import Region

MAX_TRIES = 3


class SpotCheckDraw(models.Model):
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("month"), help_text=_("The first day of the month drawn."))
    share = models.DecimalField(_("share drawn"), max_digits=5, decimal_places=4)
    seed = models.BigIntegerField(_("seed"))
    population = models.PositiveIntegerField(_("visits and records in the month"), default=0)
    drawn = models.PositiveIntegerField(_("drawn"), default=0)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("drawn by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    drawn_at = models.DateTimeField(_("drawn at"), auto_now_add=True)

    class Meta:
        verbose_name = _("spot-check draw")
        verbose_name_plural = _("spot-check draws")
        ordering = ["-month", "region"]
        constraints = [models.UniqueConstraint(fields=["region", "month"], name="spotcheckdraw_unique_month")]

    def __str__(self) -> str:
        return f"{self.region} {self.month:%Y-%m}"


class SpotCheckKind(models.TextChoices):
    VISIT = "visit", _("Visit")
    PURCHASED = "purchased", _("Purchased service")


class SpotCheckOutcome(models.TextChoices):
    PENDING = "pending", _("Not called yet")
    CONFIRMED = "confirmed", _("Confirmed")
    NOT_HAPPENED = "not_happened", _("Did not happen")
    PARTLY = "partly", _("Partly happened")
    UNREACHABLE = "unreachable", _("Unreachable after 3 tries")


DONE_OUTCOMES = (
    SpotCheckOutcome.CONFIRMED,
    SpotCheckOutcome.NOT_HAPPENED,
    SpotCheckOutcome.PARTLY,
    SpotCheckOutcome.UNREACHABLE,
)


class SpotCheck(models.Model):
    draw = models.ForeignKey(SpotCheckDraw, verbose_name=_("draw"), on_delete=models.CASCADE, related_name="checks")
    kind = models.CharField(_("what was drawn"), max_length=10, choices=SpotCheckKind.choices)
    visit = models.ForeignKey(
        "services.Visit", verbose_name=_("visit"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    record = models.ForeignKey(
        "services.ServiceRecord",
        verbose_name=_("service record"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="spot_checks",
    )
    elder = models.ForeignKey("services.Elder", verbose_name=_("elder"), on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+")
    # The stratum: the provider of a purchased record (empty for a visit, whose stratum is the township alone).
    organisation = models.ForeignKey(
        "volunteers.Organisation",
        verbose_name=_("provider"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    outcome = models.CharField(
        _("call-back result"), max_length=14, choices=SpotCheckOutcome.choices, default=SpotCheckOutcome.PENDING
    )
    tries = models.PositiveSmallIntegerField(_("unanswered calls"), default=0)
    note = models.CharField(_("note"), max_length=300, blank=True)
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("called by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    called_at = models.DateTimeField(_("called at"), null=True, blank=True)
    reversal = models.OneToOneField(
        "services.ServiceRecord",
        verbose_name=_("reversal"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("spot check")
        verbose_name_plural = _("spot checks")
        ordering = ["village", "pk"]
        indexes = [models.Index(fields=["village", "outcome"], name="spotcheck_village_outcome")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="visit", visit__isnull=False, record__isnull=True)
                | Q(kind="purchased", visit__isnull=True, record__isnull=False),
                name="spotcheck_one_subject",
            ),
            models.UniqueConstraint(fields=["draw", "visit"], name="spotcheck_unique_visit"),
            models.UniqueConstraint(fields=["draw", "record"], name="spotcheck_unique_record"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.visit_id or self.record_id}"

    def get_absolute_url(self) -> str:
        return reverse("services:spotcheck-detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.outcome == SpotCheckOutcome.PENDING
