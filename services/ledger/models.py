"""The elder ledger (留守老年人信息台账): elders, their families, care agreements, history and family duty.

Derived values (age, 高龄, priority) are computed in one place — `priority_rule` below — and used both
as a Python property on one elder and as a database annotation over many, so lists and the detail
page never disagree.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator
from django.db import models
from django.db.models import Case, Exists, ExpressionWrapper, F, IntegerField, OuterRef, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.identity import EncryptedTextField, mask_resident_id
from portal.models import Region

HIGH_AGE = 80  # 高龄
SCAN_MAX_BYTES = 10 * 1024 * 1024
SCAN_TOO_LARGE = _("The scan is larger than 10 MB; please upload a smaller file.")
SCAN_BAD_TYPE = _("The scan must be a PDF, JPG or PNG file.")


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class ElderStatus(models.TextChoices):
    ACTIVE = "active", _("On the ledger")  # 在册
    MOVED = "moved", _("Moved away")  # 迁出
    DECEASED = "deceased", _("Deceased")  # 已故
    NOT_LEFT_BEHIND = "not_left_behind", _("No longer left behind")  # 不再留守


class AbilityLevel(models.TextChoices):
    INTACT = "intact", _("Fully able")  # 能力完好
    MILD = "mild", _("Mildly disabled")  # 轻度失能
    MODERATE = "moderate", _("Moderately disabled")  # 中度失能
    SEVERE = "severe", _("Severely disabled")  # 重度失能
    TOTAL = "total", _("Totally disabled")  # 完全失能


class EconomicStatus(models.TextChoices):
    DESTITUTE = "destitute", _("Destitute support (特困)")  # 特困供养
    SUBSISTENCE = "subsistence", _("Subsistence allowance (低保)")  # 低保
    REGISTERED_POOR = "registered_poor", _("Registered poor household (建档立卡)")  # 建档立卡
    GENERAL = "general", _("Ordinary household")  # 一般


class LivingArrangement(models.TextChoices):
    ALONE = "alone", _("Lives alone")  # 独居
    COUPLE = "couple", _("With spouse only")  # 与配偶同住（空巢）
    WITH_GRANDCHILDREN = "grandchildren", _("With grandchildren")  # 与孙辈同住
    WITH_RELATIVES = "relatives", _("With other relatives")  # 与其他亲属同住
    OTHER = "other", _("Other")


class LeftBehindBasis(models.TextChoices):
    """Why an elder is left behind, as the policy words it (see services.ledger.eligibility)."""

    CHILDREN_AWAY = "children_away", _("All children away from the county for six months or more")
    NO_CAPABLE_SUPPORTER = "no_capable_supporter", _("No supporter at home able to care")
    NEITHER = "neither", _("Neither (a supporter at home is able to care)")


class PriorityLevel(models.TextChoices):
    KEY = "key", _("Key elder")  # 重点
    ATTENTION = "attention", _("Elder to watch")  # 关注
    NORMAL = "normal", _("Regular elder")  # 一般


# The groups the policy names: 经济困难, 失能; "disabled" for priority means moderately disabled or worse.
DIFFICULT_ECONOMY = (EconomicStatus.DESTITUTE, EconomicStatus.SUBSISTENCE, EconomicStatus.REGISTERED_POOR)
DISABLED_LEVELS = (AbilityLevel.MODERATE, AbilityLevel.SEVERE, AbilityLevel.TOTAL)
IMPAIRED_LEVELS = (AbilityLevel.MILD, *DISABLED_LEVELS)
# No capable adult at home: the policy asks that one child stays with an elder who cannot care for themself.
NOBODY_AT_HOME = (LivingArrangement.ALONE, LivingArrangement.COUPLE, LivingArrangement.WITH_GRANDCHILDREN)
PRIORITY_RANK = {PriorityLevel.KEY: 0, PriorityLevel.ATTENTION: 1, PriorityLevel.NORMAL: 2}


def priority_rule(flag):
    """The one definition of the priority level.

    `flag(name)` returns either a bool (one elder, in Python) or a Q (many elders, in SQL); both
    combine with & and |. Flags: difficult (特困/低保/建档立卡), high_age (≥80), disabled (中度失能 or
    worse), impaired (any 失能), alone (独居), unsupported (no supporter able to support and reachable).

    重点 (key): economically difficult and very old or disabled; 关注 (attention): any one of those
    or mildly disabled. Living alone or having no capable supporter raises the level one step.
    """
    base_key = flag("difficult") & (flag("high_age") | flag("disabled"))
    base_attention = flag("difficult") | flag("high_age") | flag("impaired")
    raised = flag("alone") | flag("unsupported")
    return {
        PriorityLevel.KEY: base_key | (base_attention & raised),
        PriorityLevel.ATTENTION: base_attention | raised,
    }


def birth_cutoff(age: int, today: datetime.date | None = None) -> datetime.date:
    """The latest birth date of someone who is at least `age` years old today."""
    today = today or timezone.localdate()
    try:
        return today.replace(year=today.year - age)
    except ValueError:  # 29 February
        return today.replace(year=today.year - age, day=28)


def age_on(birth_date: datetime.date, today: datetime.date | None = None) -> int:
    today = today or timezone.localdate()
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def supporter_exists():
    """Subquery: the elder has a family contact able to support them who can be reached by phone."""
    return Exists(FamilyContact.objects.filter(elder=OuterRef("pk"), can_support=True).exclude(phone=""))


class ElderQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=ElderStatus.ACTIVE)

    def with_priority(self, today: datetime.date | None = None):
        """Annotate has_supporter, is_high_age, priority_level (PriorityLevel) and priority_rank (0 = key).

        Reads the stored state (Elder.tier, tier_rank, supporter_ok), which services.care.state keeps: the cost
        does not grow with the area. `with_computed_priority` is the definition the state is computed from.
        """
        cutoff = birth_cutoff(HIGH_AGE, today)
        return self.annotate(
            has_supporter=F("supporter_ok"),
            is_high_age=ExpressionWrapper(Q(birth_date__lte=cutoff), output_field=models.BooleanField()),
            priority_level=F("tier"),
            priority_rank=F("tier_rank"),
        )

    def with_computed_priority(self, today: datetime.date | None = None):
        """The priority rule in SQL (CASE + EXISTS per row): what services.care.state stores; same annotations."""
        cutoff = birth_cutoff(HIGH_AGE, today)
        conditions = {
            "difficult": Q(economic_status__in=DIFFICULT_ECONOMY),
            "high_age": Q(birth_date__lte=cutoff),
            "disabled": Q(ability_level__in=DISABLED_LEVELS),
            "impaired": Q(ability_level__in=IMPAIRED_LEVELS),
            "alone": Q(living_arrangement=LivingArrangement.ALONE),
            "unsupported": Q(has_supporter=False),
        }
        rule = priority_rule(conditions.__getitem__)
        qs = self.annotate(
            has_supporter=supporter_exists(),
            is_high_age=ExpressionWrapper(Q(birth_date__lte=cutoff), output_field=models.BooleanField()),
        )
        return qs.annotate(
            priority_level=Case(
                When(rule[PriorityLevel.KEY], then=Value(PriorityLevel.KEY.value)),
                When(rule[PriorityLevel.ATTENTION], then=Value(PriorityLevel.ATTENTION.value)),
                default=Value(PriorityLevel.NORMAL.value),
                output_field=models.CharField(),
            ),
            priority_rank=Case(
                When(rule[PriorityLevel.KEY], then=Value(0)),
                When(rule[PriorityLevel.ATTENTION], then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            ),
        )

    def with_priority_level(self, level: str, today: datetime.date | None = None):
        return self.with_priority(today).filter(priority_level=level)

    def flagged(self, flag: str):
        """Elders with one ledger flag (see Elder.ledger_flags); annotate with_priority() first for no_supporter."""
        return self.filter(LEDGER_FLAG_CONDITIONS[flag]())


def _flag_no_supporter():
    return ~supporter_exists()


LEDGER_FLAG_CONDITIONS = {
    "no_supporter": _flag_no_supporter,
    "disabled_alone": lambda: Q(ability_level__in=DISABLED_LEVELS, living_arrangement__in=NOBODY_AT_HOME),
    "no_family_doctor": lambda: Q(family_doctor_signed=False),
    "no_safety_devices": lambda: Q(fire_safety_needed=True) & (Q(smoke_alarm=False) | Q(sprinkler=False)),
}


class Elder(models.Model):
    """A left-behind elder on a village's ledger (留守老年人). Never deleted; status records why they left it."""

    name = models.CharField(_("full name"), max_length=50)
    gender = models.CharField(_("sex"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("birth date"))
    id_number = EncryptedTextField(_("resident ID number"))
    id_hash = models.CharField(_("ID number hash"), max_length=64, unique=True, editable=False)
    village = models.ForeignKey(
        Region,
        verbose_name=_("village"),
        on_delete=models.PROTECT,
        related_name="elders",
        limit_choices_to={"level": "village"},
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=11, blank=True)
    income_sources = models.CharField(
        _("income sources"), max_length=200, blank=True, help_text=_("e.g. 养老金、子女供给、低保金、务农")
    )
    family_structure = models.TextField(
        _("family structure"), blank=True, help_text=_("Spouse, children and where they are.")
    )
    children_count = models.PositiveSmallIntegerField(_("number of children"), default=0)
    living_arrangement = models.CharField(
        _("living arrangement"), max_length=20, choices=LivingArrangement.choices, default=LivingArrangement.ALONE
    )
    health = models.TextField(_("health"), blank=True, help_text=_("Chronic illness, medication, hearing, sight."))
    ability_level = models.CharField(
        _("ability level"), max_length=10, choices=AbilityLevel.choices, default=AbilityLevel.INTACT
    )
    economic_status = models.CharField(
        _("economic status"), max_length=20, choices=EconomicStatus.choices, default=EconomicStatus.GENERAL
    )
    care_situation = models.TextField(_("care situation"), blank=True, help_text=_("Who looks after them, how often."))
    left_behind_basis = models.CharField(
        _("why left behind"),
        max_length=24,
        choices=LeftBehindBasis.choices,
        blank=True,
        help_text=_("The policy's definition: 60 or older, and all children away or no supporter able to care."),
    )
    eligibility_reviewed_on = models.DateField(_("eligibility last reviewed"), null=True, blank=True)
    difficulties = models.TextField(_("difficulties"), blank=True)
    family_doctor_signed = models.BooleanField(_("family doctor contract (家庭医生签约)"), default=False)
    fire_safety_needed = models.BooleanField(
        _("home needs fire safety devices"),
        default=False,
        help_text=_("Concentrated housing or low fire-safety level, where the policy asks for devices."),
    )
    smoke_alarm = models.BooleanField(_("stand-alone smoke alarm (独立式烟感报警)"), default=False)
    sprinkler = models.BooleanField(_("simple sprinkler (简易喷淋)"), default=False)
    status = models.CharField(
        _("status"), max_length=20, choices=ElderStatus.choices, default=ElderStatus.ACTIVE, db_index=True
    )
    status_reason = models.TextField(_("reason for the status"), blank=True)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    anonymised_at = models.DateTimeField(
        _("anonymised at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Personal data erased after the retention period (services.ledger.retention)."),
    )
    last_visit_at = models.DateTimeField(_("last contact"), null=True, blank=True, db_index=True)
    last_home_visit_at = models.DateTimeField(_("last home visit"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    # Stored state (services.care.state.refresh_elders keeps it, in the transaction of each change; a daily roll
    # moves the date-dependent parts; `manage.py rebuild_elder_state` recomputes it): lists read these columns.
    tier = models.CharField(
        _("priority"), max_length=10, choices=PriorityLevel.choices, default=PriorityLevel.NORMAL, editable=False
    )
    tier_rank = models.PositiveSmallIntegerField(_("priority rank"), default=2, editable=False)
    supporter_ok = models.BooleanField(_("has a reachable supporter"), default=False, editable=False)
    next_due_at = models.DateTimeField(_("next visit due"), null=True, blank=True, editable=False)
    overdue = models.BooleanField(_("visit overdue"), default=False, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ElderQuerySet.as_manager()

    class Meta:
        verbose_name = _("elder")
        verbose_name_plural = _("elders")
        ordering = ["village_id", "name", "pk"]
        indexes = [
            models.Index(fields=["village", "status", "name"], name="elder_village_status_name"),
            models.Index(fields=["status", "birth_date"], name="elder_status_birth"),
            # scoped lists: a code range (the scope) + tier + due date, active elders only
            models.Index(
                fields=["village", "tier_rank", "next_due_at"],
                name="elder_active_village_tier_due",
                condition=Q(status="active"),
            ),
            models.Index(
                fields=["village", "next_due_at"], name="elder_active_village_due", condition=Q(status="active")
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(gender__in=["M", "F"]), name="elder_gender_valid"),
            models.CheckConstraint(condition=Q(version__gte=1), name="elder_version_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    # --- derived values: one definition each ---------------------------------------------------

    @property
    def age(self) -> int:
        return age_on(self.birth_date)

    @property
    def is_high_age_elder(self) -> bool:
        return self.birth_date <= birth_cutoff(HIGH_AGE)

    @property
    def has_capable_supporter(self) -> bool:
        annotated = getattr(self, "has_supporter", None)
        if annotated is not None:
            return bool(annotated)
        return any(c.can_support and c.phone for c in self.family_contacts.all())

    @property
    def priority(self) -> str:
        annotated = getattr(self, "priority_level", None)
        if annotated:
            return annotated
        flags = {
            "difficult": self.economic_status in DIFFICULT_ECONOMY,
            "high_age": self.is_high_age_elder,
            "disabled": self.ability_level in DISABLED_LEVELS,
            "impaired": self.ability_level in IMPAIRED_LEVELS,
            "alone": self.living_arrangement == LivingArrangement.ALONE,
            "unsupported": not self.has_capable_supporter,
        }
        rule = priority_rule(flags.__getitem__)
        if rule[PriorityLevel.KEY]:
            return PriorityLevel.KEY
        if rule[PriorityLevel.ATTENTION]:
            return PriorityLevel.ATTENTION
        return PriorityLevel.NORMAL

    def get_priority_display(self) -> str:
        return PriorityLevel(self.priority).label

    @property
    def ledger_flags(self) -> list[tuple[str, str]]:
        """(code, label) of the gaps the ledger points out (see LEDGER_FLAG_CONDITIONS for the SQL twin)."""
        flags = []
        if not self.has_capable_supporter:
            flags.append(("no_supporter", LEDGER_FLAG_LABELS["no_supporter"]))
        if self.ability_level in DISABLED_LEVELS and self.living_arrangement in NOBODY_AT_HOME:
            flags.append(("disabled_alone", LEDGER_FLAG_LABELS["disabled_alone"]))
        if not self.family_doctor_signed:
            flags.append(("no_family_doctor", LEDGER_FLAG_LABELS["no_family_doctor"]))
        if self.fire_safety_needed and not (self.smoke_alarm and self.sprinkler):
            flags.append(("no_safety_devices", LEDGER_FLAG_LABELS["no_safety_devices"]))
        return flags

    @property
    def is_active(self) -> bool:
        return self.status == ElderStatus.ACTIVE

    @property
    def masked_id(self) -> str:
        return mask_resident_id(self.id_number)


LEDGER_FLAG_LABELS = {
    "no_supporter": _("No reachable supporter"),
    "disabled_alone": _("Disabled, no one at home"),
    "no_family_doctor": _("No family-doctor contract"),
    "no_safety_devices": _("No home safety devices"),
}


class FamilyContact(models.Model):
    """A supporter (赡养人/扶养人) or other family contact: where they work and how to reach them."""

    elder = models.ForeignKey(Elder, verbose_name=_("elder"), on_delete=models.CASCADE, related_name="family_contacts")
    name = models.CharField(_("full name"), max_length=50)
    relation = models.CharField(_("relation"), max_length=20, help_text=_("e.g. 儿子、女儿、儿媳、侄子"))
    phone = models.CharField(_("phone"), max_length=11, blank=True)
    works_in = models.CharField(_("where they work"), max_length=100, blank=True)
    can_support = models.BooleanField(_("able to support"), default=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("family contact")
        verbose_name_plural = _("family contacts")
        ordering = ["-is_primary", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["elder"], condition=Q(is_primary=True), name="familycontact_one_primary"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.relation}）"


def validate_scan(file) -> None:
    if file.size > SCAN_MAX_BYTES:
        raise ValidationError(SCAN_TOO_LARGE, code="scan_too_large")
    head = file.read(8)
    file.seek(0)
    if not (head.startswith(b"%PDF") or head.startswith(b"\xff\xd8\xff") or head.startswith(b"\x89PNG\r\n\x1a\n")):
        raise ValidationError(SCAN_BAD_TYPE, code="scan_bad_type")


def private_storage():
    """Scans hold personal data: a "private" storage (not served under MEDIA_URL) when the settings define
    one; they are only ever sent through the scoped, audited agreement-scan view."""
    from django.core.files.storage import default_storage, storages

    return storages["private"] if "private" in settings.STORAGES else default_storage


def agreement_upload_to(instance, filename: str) -> str:
    import uuid

    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"private/agreements/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{ext}"


class AgreementStatus(models.TextChoices):
    """Online agreements (services.family.agreements) go draft → consented → accepted/active → ended; one
    recorded by staff from a signed paper is active at once."""

    DRAFT = "draft", _("Draft: waiting for the elder's consent")
    CONSENTED = "consented", _("Elder consented: waiting for the entrusted person")
    ACCEPTED = "accepted", _("Accepted: starts on its first day")
    ACTIVE = "active", _("In force")
    ENDED = "ended", _("Ended")


class CareAgreement(models.Model):
    """An entrusted-care agreement (委托照顾协议) a supporter signs with a relative or other capable carer."""

    elder = models.ForeignKey(Elder, verbose_name=_("elder"), on_delete=models.CASCADE, related_name="agreements")
    supporter = models.ForeignKey(
        FamilyContact,
        verbose_name=_("supporter"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agreements",
    )
    carer_name = models.CharField(_("entrusted carer"), max_length=50)
    carer_relation = models.CharField(_("carer's relation"), max_length=20, blank=True)
    carer_phone = models.CharField(_("carer's phone"), max_length=11, blank=True)
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until"), null=True, blank=True)
    scan = models.FileField(
        _("scanned agreement"),
        upload_to=agreement_upload_to,
        storage=private_storage,
        blank=True,
        validators=[FileExtensionValidator(["pdf", "jpg", "jpeg", "png"], message=SCAN_BAD_TYPE), validate_scan],
    )
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # the online agreement drafted by the family (services.family.agreements)
    status = models.CharField(
        _("status"), max_length=10, choices=AgreementStatus.choices, default=AgreementStatus.ACTIVE, db_index=True
    )
    duties = models.TextField(_("duties of the entrusted person"), blank=True)
    consent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("elder's consent recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    consent_at = models.DateTimeField(_("elder consented at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accept_code_digest = models.CharField(max_length=64, blank=True, editable=False)
    accept_code_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    accept_attempts = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("care agreement")
        verbose_name_plural = _("care agreements")
        ordering = ["-start_date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="careagreement_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.elder} → {self.carer_name}"

    @property
    def is_current(self) -> bool:
        today = timezone.localdate()
        in_force = self.status in (AgreementStatus.ACCEPTED, AgreementStatus.ACTIVE)
        return in_force and self.start_date <= today and (self.end_date is None or self.end_date >= today)


class ElderChangeKind(models.TextChoices):
    CREATE = "create", _("Created")
    CHANGE = "change", _("Changed")
    STATUS = "status", _("Status changed")
    IMPORT = "import", _("Imported")
    FAMILY = "family", _("Family changed")


class ElderChange(models.Model):
    """One entry of an elder's history: who changed what, when, before and after (ID numbers masked)."""

    elder = models.ForeignKey(Elder, verbose_name=_("elder"), on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(_("kind"), max_length=10, choices=ElderChangeKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("who"), null=True, blank=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True, help_text=_("{field: [before, after]}"))
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("elder history entry")
        verbose_name_plural = _("elder history")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.elder} · {self.get_kind_display()}"


class DutyMethod(models.TextChoices):
    PHONE = "phone", _("Phone call")
    IN_PERSON = "in_person", _("In person")
    MESSAGE = "message", _("Text message")
    LETTER = "letter", _("Written notice")


class DutyReminder(models.Model):
    """A reminder to a supporter to keep their duty of support (督促履行赡养义务)."""

    elder = models.ForeignKey(Elder, verbose_name=_("elder"), on_delete=models.CASCADE, related_name="duty_reminders")
    contact = models.ForeignKey(
        FamilyContact,
        verbose_name=_("supporter reminded"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duty_reminders",
    )
    reminded_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    method = models.CharField(_("how"), max_length=10, choices=DutyMethod.choices, default=DutyMethod.PHONE)
    finding = models.TextField(_("what was found"), help_text=_("How the duty of support was not kept."))
    said = models.TextField(_("what was said"))
    answer = models.TextField(_("the answer"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("family duty reminder")
        verbose_name_plural = _("family duty reminders")
        ordering = ["-reminded_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.elder} · {self.reminded_at:%Y-%m-%d}"


class ImportStatus(models.TextChoices):
    VALIDATING = "validating", _("Checking")
    INVALID = "invalid", _("Has errors")
    READY = "ready", _("Ready to import")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    """One upload of a village spreadsheet: checked, previewed, then imported all-or-nothing.

    The rows are kept (as validated plain values, ID numbers encrypted) between preview and import so the
    file is parsed once; progress is written here so any worker can show it.
    """

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.CASCADE, related_name="+"
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("default village"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    filename = models.CharField(_("file"), max_length=200)
    file_sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.VALIDATING)
    total = models.PositiveIntegerField(_("rows"), default=0)
    processed = models.PositiveIntegerField(_("rows done"), default=0)
    created_count = models.PositiveIntegerField(_("new"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    payload = EncryptedTextField(blank=True, default="")
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("elder import")
        verbose_name_plural = _("elder imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.filename

    @property
    def percent(self) -> int:
        return int(100 * self.processed / self.total) if self.total else 0

    @property
    def finished(self) -> bool:
        return self.status in (ImportStatus.INVALID, ImportStatus.READY, ImportStatus.DONE, ImportStatus.FAILED)
