"""Visits (定期巡访) and emergency alerts (救助保护) for the elders on the ledger.

Visits keep the elder's last-contact dates current (services.care.visits); a visit plan per priority and
county says how often each elder must be contacted and visited at home. Alerts follow the policy's
chain village → township → civil affairs: reported → acknowledged → escalated → handled → closed,
each step kept as an AlertStep, with a deadline for the step the alert is waiting for.
"""

import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import Region
from services.ledger.models import Elder, PriorityLevel


class VisitMethod(models.TextChoices):
    PHONE = "phone", _("Phone greeting")  # 电话问候
    HOME = "home", _("Home visit")  # 上门探访
    VIDEO = "video", _("Video call")  # 视频


class Condition(models.TextChoices):
    GOOD = "good", _("Good")
    FAIR = "fair", _("Fair")
    POOR = "poor", _("Poor")


class Mood(models.TextChoices):
    GOOD = "good", _("Cheerful")
    FAIR = "fair", _("Calm")
    LOW = "low", _("Low or lonely")


class DutyKept(models.TextChoices):
    KEPT = "kept", _("Kept")
    NOT_KEPT = "not_kept", _("Not kept")
    UNKNOWN = "unknown", _("Not known")


class RiskLevel(models.TextChoices):
    NONE = "none", _("No risk")
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High — needs help now")


class Visit(models.Model):
    """One contact attempt with an elder. A call nobody answered is kept but is not a visit."""

    elder = models.ForeignKey(Elder, verbose_name=_("elder"), on_delete=models.PROTECT, related_name="visits")
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("visitor"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    method = models.CharField(_("method"), max_length=10, choices=VisitMethod.choices, default=VisitMethod.PHONE)
    visited_at = models.DateTimeField(_("when"), default=timezone.now)
    contact_made = models.BooleanField(_("contact made"), default=True)
    living_conditions = models.CharField(_("living conditions"), max_length=10, choices=Condition.choices, blank=True)
    health = models.CharField(_("health"), max_length=10, choices=Condition.choices, blank=True)
    mood = models.CharField(_("mood"), max_length=10, choices=Mood.choices, blank=True)
    family_duty = models.CharField(_("family duty"), max_length=10, choices=DutyKept.choices, default=DutyKept.UNKNOWN)
    safety_risks = models.TextField(_("safety risks"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    risk_level = models.CharField(_("risk"), max_length=10, choices=RiskLevel.choices, default=RiskLevel.NONE)
    next_visit_due = models.DateField(_("next visit due"), null=True, blank=True)
    alert = models.ForeignKey(
        "Alert",
        verbose_name=_("alert raised"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visits",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-visited_at", "-pk"]
        indexes = [models.Index(fields=["elder", "-visited_at"], name="visit_elder_when")]
        constraints = [
            models.CheckConstraint(condition=Q(method__in=VisitMethod.values), name="visit_method_valid"),
            models.CheckConstraint(condition=Q(risk_level__in=RiskLevel.values), name="visit_risk_valid"),
            # an unanswered call finds nothing: no risk can be assessed from it
            models.CheckConstraint(
                condition=Q(contact_made=True) | Q(risk_level=RiskLevel.NONE), name="visit_no_risk_without_contact"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.elder} · {self.get_method_display()} · {timezone.localtime(self.visited_at):%Y-%m-%d}"

    @property
    def counts(self) -> bool:
        return self.contact_made


class FollowUp(models.Model):
    """An action a visit calls for, with an owner and a due date (跟进事项)."""

    visit = models.ForeignKey(Visit, verbose_name=_("visit"), on_delete=models.CASCADE, related_name="follow_ups")
    action = models.CharField(_("action"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    owner_name = models.CharField(_("owner (if not a portal user)"), max_length=50, blank=True)
    due_date = models.DateField(_("due date"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    done_note = models.CharField(_("action taken"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_date", "pk"]
        indexes = [models.Index(fields=["visit", "done_at"], name="followup_visit_open")]

    def __str__(self) -> str:
        return self.action

    @property
    def is_open(self) -> bool:
        return self.done_at is None

    @property
    def is_overdue(self) -> bool:
        return self.done_at is None and self.due_date < timezone.localdate()

    @property
    def owner_display(self) -> str:
        if self.owner_name:
            return self.owner_name
        return self.owner.get_full_name() if self.owner else ""


# The policy's default rhythm; a county may set its own rows (VisitPlan with its county).
DEFAULT_VISIT_PLANS = {
    PriorityLevel.KEY: {"contact_days": 7, "home_visit_days": 30, "after_alert_hours": 24},
    PriorityLevel.ATTENTION: {"contact_days": 14, "home_visit_days": 60, "after_alert_hours": 24},
    PriorityLevel.NORMAL: {"contact_days": 30, "home_visit_days": 90, "after_alert_hours": 24},
}
PLANS_CACHE_KEY = "care:visit-plans:v1"


class VisitPlan(models.Model):
    """How often elders of one priority must be contacted and visited at home; per county or the default."""

    county = models.ForeignKey(
        Region,
        verbose_name=_("county"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        limit_choices_to={"level": "county"},
        help_text=_("Leave empty for the default of every county without its own plan."),
    )
    priority = models.CharField(_("priority"), max_length=10, choices=PriorityLevel.choices)
    contact_days = models.PositiveSmallIntegerField(_("contact at least every (days)"))
    home_visit_days = models.PositiveSmallIntegerField(_("home visit at least every (days)"))
    after_alert_hours = models.PositiveSmallIntegerField(_("home visit within (hours) after an alert"), default=24)

    class Meta:
        verbose_name = _("visit plan")
        verbose_name_plural = _("visit plans")
        ordering = ["county_id", "priority"]
        constraints = [
            models.UniqueConstraint(fields=["county", "priority"], name="visitplan_county_priority"),
            models.UniqueConstraint(
                fields=["priority"], condition=Q(county__isnull=True), name="visitplan_one_default_per_priority"
            ),
            models.CheckConstraint(
                condition=Q(contact_days__gte=1) & Q(home_visit_days__gte=1) & Q(after_alert_hours__gte=1),
                name="visitplan_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.county or _('Default')} · {self.get_priority_display()}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        cache.delete(PLANS_CACHE_KEY)

    def delete(self, *args, **kwargs):
        cache.delete(PLANS_CACHE_KEY)
        return super().delete(*args, **kwargs)


class AlertKind(models.TextChoices):
    """The situations the policy names (宁民发〔2018〕105号 三(三))."""

    WANDERING = "wandering", _("Wandering or begging away from home")  # 外出流浪乞讨
    HARM = "harm", _("Suffering unlawful harm")  # 遭受非法侵害
    CRITICAL_ILLNESS = "critical_illness", _("Critical illness")  # 发生危重病情
    MENTAL_ILLNESS = "mental_illness", _("Severe mental illness")  # 患有严重精神疾病
    HARDSHIP = "hardship", _("Facing major hardship")  # 面临重大困境
    OTHER = "other", _("Other")  # 其他


class AlertSource(models.TextChoices):
    LIAISON = "liaison", _("Village liaison or officer")
    VISIT = "visit", _("Found on a visit")
    VOLUNTEER = "volunteer", _("Volunteer")
    FAMILY = "family", _("Family member")
    PUBLIC = "public", _("Member of the public")


class AlertStatus(models.TextChoices):
    REPORTED = "reported", _("Reported")  # 已上报
    ACKNOWLEDGED = "acknowledged", _("Acknowledged by the village")  # 村已受理
    ESCALATED = "escalated", _("Escalated to the township")  # 已上报乡镇
    HANDLED = "handled", _("Handled")  # 已处置
    CLOSED = "closed", _("Closed")  # 已办结


OPEN_STATUSES = (AlertStatus.REPORTED, AlertStatus.ACKNOWLEDGED, AlertStatus.ESCALATED, AlertStatus.HANDLED)

# Hours an alert may wait in each status before its next step is overdue; a county may set its own.
DEFAULT_ALERT_HOURS = {
    AlertStatus.REPORTED: 2,  # the village acknowledges
    AlertStatus.ACKNOWLEDGED: 24,  # the village handles it or escalates to the township
    AlertStatus.ESCALATED: 48,  # the township acts
    AlertStatus.HANDLED: 72,  # the case is closed with its outcome
}
DEADLINES_CACHE_KEY = "care:alert-deadlines:v1"


class AlertDeadline(models.Model):
    """How long an alert may wait in one status before it is overdue; per county or the default."""

    county = models.ForeignKey(
        Region,
        verbose_name=_("county"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        limit_choices_to={"level": "county"},
    )
    status = models.CharField(_("status"), max_length=15, choices=AlertStatus.choices)
    hours = models.PositiveSmallIntegerField(_("hours allowed"))

    class Meta:
        verbose_name = _("alert deadline")
        verbose_name_plural = _("alert deadlines")
        constraints = [
            models.UniqueConstraint(fields=["county", "status"], name="alertdeadline_county_status"),
            models.UniqueConstraint(
                fields=["status"], condition=Q(county__isnull=True), name="alertdeadline_one_default"
            ),
            models.CheckConstraint(condition=Q(hours__gte=1), name="alertdeadline_positive"),
            models.CheckConstraint(condition=~Q(status=AlertStatus.CLOSED), name="alertdeadline_open_status"),
        ]

    def __str__(self) -> str:
        return f"{self.county or _('Default')} · {self.get_status_display()} · {self.hours}h"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        cache.delete(DEADLINES_CACHE_KEY)

    def delete(self, *args, **kwargs):
        cache.delete(DEADLINES_CACHE_KEY)
        return super().delete(*args, **kwargs)


class Alert(models.Model):
    """An emergency about an elder (or, from a public report, about someone in a village)."""

    reference = models.CharField(_("reference number"), max_length=20, unique=True)
    elder = models.ForeignKey(
        Elder, verbose_name=_("elder"), null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    village = models.ForeignKey(
        Region,
        verbose_name=_("village"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": "village"},
    )
    kind = models.CharField(_("what kind of emergency"), max_length=20, choices=AlertKind.choices)
    description = models.TextField(_("what happened"))
    place = models.CharField(_("where exactly"), max_length=200, blank=True)
    person_name = models.CharField(
        _("name of the person concerned"), max_length=50, blank=True, help_text=_("Only when no elder was matched.")
    )
    source = models.CharField(_("reported by"), max_length=10, choices=AlertSource.choices)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reporter"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reporter_phone = models.CharField(_("reporter's phone"), max_length=11, blank=True)
    status = models.CharField(
        _("status"), max_length=15, choices=AlertStatus.choices, default=AlertStatus.REPORTED, db_index=True
    )
    status_changed_at = models.DateTimeField(_("status changed at"), default=timezone.now)
    due_at = models.DateTimeField(_("next step due"), null=True, blank=True, db_index=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    content_hash = models.CharField(max_length=64, editable=False, db_index=True)
    created_at = models.DateTimeField(_("reported at"), default=timezone.now, db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["village", "status", "-created_at"], name="alert_village_status"),
            models.Index(fields=["elder", "status"], name="alert_elder_status"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=AlertKind.values), name="alert_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=AlertStatus.values), name="alert_status_valid"),
            models.CheckConstraint(
                condition=Q(status=AlertStatus.CLOSED, closed_at__isnull=False)
                | (~Q(status=AlertStatus.CLOSED) & Q(closed_at__isnull=True)),
                name="alert_closed_at_iff_closed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} · {self.get_kind_display()}"

    @property
    def is_open(self) -> bool:
        return self.status != AlertStatus.CLOSED

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_at is not None and self.due_at < timezone.now()

    @property
    def overdue_for(self) -> datetime.timedelta | None:
        return timezone.now() - self.due_at if self.is_overdue else None

    @property
    def subject(self) -> str:
        return self.elder.name if self.elder_id else (self.person_name or str(_("Unknown person")))


class AlertStep(models.Model):
    """One step of an alert's trail: who moved it to which status, when, and what was done."""

    alert = models.ForeignKey(Alert, verbose_name=_("alert"), on_delete=models.CASCADE, related_name="steps")
    status = models.CharField(_("status"), max_length=15, choices=AlertStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("when"), default=timezone.now)
    note = models.TextField(_("action taken"), blank=True)
    due_at = models.DateTimeField(_("next step due"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert step")
        verbose_name_plural = _("alert steps")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.alert.reference} · {self.get_status_display()}"


class AlertLookupCode(models.Model):
    """A code sent by SMS to the phone a public report was sent from, so the reporter can see its state.

    Only a keyed hash of the code is kept; `attempts` counts every check and is raised by one conditional
    UPDATE, so concurrent guesses cannot exceed the limit on any database."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="lookup_codes")
    code_digest = models.CharField(max_length=64)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = _("report look-up code")
        verbose_name_plural = _("report look-up codes")
        indexes = [models.Index(fields=["alert", "-sent_at"], name="alert_lookup_recent")]

    def __str__(self) -> str:
        return f"{self.alert_id} · {self.sent_at:%Y-%m-%d %H:%M}"


class VisitDigest(models.Model):
    """The weekly SMS of due visits sent to one liaison: one per person and week, so re-runs send nothing."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    week_start = models.DateField()
    due_count = models.PositiveIntegerField(default=0)
    overdue_count = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("weekly visit digest")
        verbose_name_plural = _("weekly visit digests")
        constraints = [models.UniqueConstraint(fields=["user", "week_start"], name="visitdigest_once_a_week")]

    def __str__(self) -> str:
        return f"{self.user} · {self.week_start}"
