"""Pairing (结对帮扶): an elder's needs, the pairings of elders with givers, and the matching runs.

The mode of an elder's or a giver's pairings (一帮一、多帮一、一帮多) is not stored: it follows from the
set of active pairings (`services.pairing.selectors.pairing_mode`).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import Region


class Urgency(models.TextChoices):
    HIGH = "high", _("Urgent")  # 紧急
    MEDIUM = "medium", _("Soon")  # 较急
    LOW = "low", _("Routine")  # 一般


URGENCY_RANK = {Urgency.HIGH: 0, Urgency.MEDIUM: 1, Urgency.LOW: 2}


class NeedSource(models.TextChoices):
    LIAISON = "liaison", _("Recorded by the liaison")
    VISIT = "visit", _("From a visit finding")


class Need(models.Model):
    """What an elder needs help with, by service category (生活照料、精神慰藉…), and how urgently.

    `professional`: only a qualified social worker may meet it (e.g. 心理疏导 within 精神慰藉).
    A need is open until `closed_at` is set; an elder has at most one open need per category.
    """

    elder = models.ForeignKey("services.Elder", verbose_name=_("elder"), on_delete=models.CASCADE, related_name="needs")
    category = models.ForeignKey(
        "services.ServiceCategory", verbose_name=_("service category"), on_delete=models.PROTECT, related_name="needs"
    )
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.MEDIUM)
    professional = models.BooleanField(
        _("needs a qualified social worker"), default=False, help_text=_("e.g. 心理疏导, 家庭关系调适")
    )
    note = models.CharField(_("details"), max_length=300, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=NeedSource.choices, default=NeedSource.LIAISON)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("care need")
        verbose_name_plural = _("care needs")
        ordering = ["elder", "category__sort_order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["elder", "category"], condition=Q(closed_at__isnull=True), name="need_one_open_per_category"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.elder} · {self.category}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class PairingStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    OFFERED = "offered", _("Waiting for the volunteer")
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Pairing ended")
    DECLINED = "declined", _("Not accepted")


# Open pairings hold a place of the giver's and stop the same pair being proposed again.
OPEN_STATUSES = (PairingStatus.PROPOSED, PairingStatus.OFFERED, PairingStatus.ACTIVE)


class EndReason(models.TextChoices):
    ELDER_MOVED = "elder_moved", _("The elder moved away")
    ELDER_DECEASED = "elder_deceased", _("The elder died")
    ELDER_NOT_LEFT_BEHIND = "elder_not_left_behind", _("The elder is no longer left behind")
    GIVER_LEFT = "giver_left", _("The giver left")
    OFFICER = "officer", _("Ended by the officer")
    REJECTED = "rejected", _("Proposal not accepted")
    SUPERSEDED = "superseded", _("Replaced by a newer matching run")
    GIVER_DECLINED = "giver_declined", _("The volunteer declined the offer")
    OFFER_EXPIRED = "offer_expired", _("The volunteer did not answer the offer in time")


class PairingOrigin(models.TextChoices):
    MATCHING = "matching", _("Matching run")
    MANUAL = "manual", _("Made by hand")


class Pairing(models.Model):
    """An elder paired with one giver: a person (volunteer, social worker, mutual-aid helper) or an organisation.

    Exactly one of `giver_user` and `giver_organisation` is set (a database constraint). Status moves
    proposed → active → ended (with a reason), or proposed → declined. A person is asked first: an
    accepted proposal becomes an offer (`offer_token`, `offer_expires_at`) that the volunteer accepts
    (→ active) or declines (→ declined); until then the elder's contact details stay hidden from them.
    """

    elder = models.ForeignKey(
        "services.Elder", verbose_name=_("elder"), on_delete=models.CASCADE, related_name="pairings"
    )
    giver_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("giver"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="giver_pairings",
    )
    giver_organisation = models.ForeignKey(
        "volunteers.Organisation",
        verbose_name=_("giving organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="pairings",
    )
    categories = models.ManyToManyField(
        "services.ServiceCategory", verbose_name=_("services"), blank=True, related_name="pairings"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=PairingStatus.choices, default=PairingStatus.PROPOSED, db_index=True
    )
    origin = models.CharField(_("made by"), max_length=10, choices=PairingOrigin.choices, default=PairingOrigin.MANUAL)
    match_run = models.ForeignKey(
        "services.MatchRun",
        verbose_name=_("matching run"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="pairings",
    )
    score = models.BigIntegerField(_("score"), null=True, blank=True)
    component = models.PositiveSmallIntegerField(_("fit points"), null=True, blank=True)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    start_date = models.DateField(_("from"), null=True, blank=True)
    end_date = models.DateField(_("until"), null=True, blank=True)
    end_reason = models.CharField(_("why it ended"), max_length=30, choices=EndReason.choices, blank=True)
    end_note = models.CharField(_("note"), max_length=300, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ended by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    offer_token = models.CharField(max_length=24, null=True, blank=True, unique=True, editable=False)
    offered_at = models.DateTimeField(_("offered at"), null=True, blank=True)
    offer_expires_at = models.DateTimeField(_("answer by"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("pairing")
        verbose_name_plural = _("pairings")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "elder"], name="pairing_status_elder"),
            models.Index(fields=["giver_user", "status"], name="pairing_giver_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(giver_user__isnull=False) & Q(giver_organisation__isnull=True))
                | (Q(giver_user__isnull=True) & Q(giver_organisation__isnull=False)),
                name="pairing_exactly_one_giver",
            ),
            models.CheckConstraint(condition=~Q(status="ended") | ~Q(end_reason=""), name="pairing_reason_when_ended"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="pairing_dates_ordered",
            ),
            models.UniqueConstraint(
                fields=["elder", "giver_user"],
                condition=Q(status__in=["proposed", "offered", "active"], giver_user__isnull=False),
                name="pairing_one_open_per_user",
            ),
            models.UniqueConstraint(
                fields=["elder", "giver_organisation"],
                condition=Q(status__in=["proposed", "offered", "active"], giver_organisation__isnull=False),
                name="pairing_one_open_per_organisation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.elder} ↔ {self.giver}"

    @property
    def giver(self):
        return self.giver_user if self.giver_user_id else self.giver_organisation

    @property
    def giver_key(self) -> str:
        """The giver's id in matching: "u<user pk>" or "o<organisation pk>"."""
        return f"u{self.giver_user_id}" if self.giver_user_id else f"o{self.giver_organisation_id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class MatchRunStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to start")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


# A run in one of these states holds its area: another run for an overlapping area is refused.
UNFINISHED_RUN_STATUSES = (MatchRunStatus.QUEUED, MatchRunStatus.RUNNING)


class MatchRun(models.Model):
    """One run of the matching engine for a region: what went in, what came out, and why.

    `inputs`: counts (elders, givers, candidate pairs, total demand, total capacity); `scores`: a summary
    of the candidate scores (count, min, max) and the tier weights used; `chosen`: the chosen pairs with
    their score, fit points and reason codes; coverage before and after the proposals are accepted.

    A run is queued by the officer's request and worked off the request (`services.pairing.runs.match_start`):
    `status` moves queued → running → done or failed; `progress` (0…100) and `stage` (a key of
    `services.pairing.rules.RUN_STAGES`, shown translated) are what the proposals page shows while it works;
    `message` says why a run failed.
    """

    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("run by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=MatchRunStatus.choices, default=MatchRunStatus.RUNNING
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    stage = models.CharField(_("stage"), max_length=100, blank=True)
    applied = models.BooleanField(_("pairs made active at once"), default=False)
    inputs = models.JSONField(_("inputs"), default=dict, blank=True)
    scores = models.JSONField(_("scores"), default=dict, blank=True)
    chosen = models.JSONField(_("chosen pairs"), default=list, blank=True)
    total_score = models.BigIntegerField(_("total score"), default=0)
    coverage_before = models.JSONField(_("coverage before"), default=dict, blank=True)
    coverage_after = models.JSONField(_("coverage after"), default=dict, blank=True)
    seconds = models.FloatField(_("seconds"), default=0)
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("matching run")
        verbose_name_plural = _("matching runs")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.region} · {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_finished(self) -> bool:
        return self.status not in UNFINISHED_RUN_STATUSES
