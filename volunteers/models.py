"""Givers of care: volunteer profiles, organisations and their members, mutual-aid activities."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from portal.identity import EncryptedTextField, mask_resident_id
from portal.models import Region


class GiverKind(models.TextChoices):
    VOLUNTEER = "volunteer", _("Volunteer")
    SOCIAL_WORKER = "social_worker", _("Social worker")
    MUTUAL_AID = "mutual_aid", _("Mutual-aid helper")


class Qualification(models.TextChoices):
    ASSISTANT = "assistant", _("Assistant social worker")
    SOCIAL_WORKER = "social_worker", _("Social worker (intermediate)")
    SENIOR = "senior", _("Senior social worker")


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


WEEKDAYS = [
    ("1", _("Mon")),
    ("2", _("Tue")),
    ("3", _("Wed")),
    ("4", _("Thu")),
    ("5", _("Fri")),
    ("6", _("Sat")),
    ("7", _("Sun")),
]
DAY_TIMES = [("morning", _("Morning")), ("afternoon", _("Afternoon")), ("evening", _("Evening"))]
MAX_PAIRED_ELDERS = 10


class VolunteerProfile(models.Model):
    """A giver of care: a volunteer, a social worker (with a professional profile) or a mutual-aid helper (互助员).

    The real-name details the MCA volunteer record needs (sex, birth date, ID number) may come later;
    the ID number is stored the way the ledger stores it: encrypted, with a keyed hash for uniqueness.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="volunteer_profile"
    )
    kind = models.CharField(_("I join as"), max_length=20, choices=GiverKind.choices, default=GiverKind.VOLUNTEER)
    village = models.ForeignKey(
        Region, verbose_name=_("home village"), on_delete=models.PROTECT, related_name="volunteer_profiles"
    )
    skills = models.ManyToManyField(
        "services.ServiceCategory", verbose_name=_("skills"), blank=True, related_name="volunteer_profiles"
    )
    available_days = models.JSONField(_("days available"), default=list, blank=True)
    available_times = models.JSONField(_("times available"), default=list, blank=True)
    max_elders = models.PositiveSmallIntegerField(_("elders I can pair with"), default=1)
    about = models.TextField(_("about me"), max_length=300, blank=True)
    # real-name details, completed later
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    resident_id = EncryptedTextField(_("resident ID number"), blank=True)
    resident_id_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    # professional profile (social workers)
    qualification = models.CharField(_("qualification"), max_length=20, choices=Qualification.choices, blank=True)
    certificate_number = models.CharField(_("certificate number"), max_length=40, blank=True)
    employer = models.CharField(_("organisation (employer)"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("volunteer profile")
        verbose_name_plural = _("volunteer profiles")
        constraints = [
            models.CheckConstraint(
                condition=Q(max_elders__lte=MAX_PAIRED_ELDERS), name="volunteerprofile_max_elders_range"
            ),
            models.CheckConstraint(
                condition=Q(qualification="") | Q(kind=GiverKind.SOCIAL_WORKER),
                name="volunteerprofile_qualification_social_worker_only",
            ),
        ]

    def __str__(self) -> str:
        return str(self.user)

    @property
    def masked_resident_id(self) -> str:
        return mask_resident_id(self.resident_id)

    @property
    def is_professional(self) -> bool:
        """A qualified social worker may deliver professional service items (心理疏导, 家庭关系调适…)."""
        return self.kind == GiverKind.SOCIAL_WORKER and bool(self.qualification and self.certificate_number)

    @property
    def real_name_complete(self) -> bool:
        return bool(self.sex and self.birth_date and self.resident_id_hash)

    def get_available_days_display(self) -> str:
        labels = dict(WEEKDAYS)
        return "、".join(str(labels[d]) for d in self.available_days if d in labels)

    def get_available_times_display(self) -> str:
        labels = dict(DAY_TIMES)
        return "、".join(str(labels[t]) for t in self.available_times if t in labels)


class OrganisationKind(models.Model):
    """老年协会, 志愿服务队, 社会工作站…: seeded, editors may add more (a Wagtail snippet)."""

    name = models.CharField(_("name"), max_length=30, unique=True)
    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("organisation kind")
        verbose_name_plural = _("organisation kinds")
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class OrganisationStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SUSPENDED = "suspended", _("Suspended")


class Organisation(models.Model):
    """An elder association, volunteer team, social-work station…; public once the county officer approves it."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.ForeignKey(
        OrganisationKind, verbose_name=_("kind"), on_delete=models.PROTECT, related_name="organisations"
    )
    region = models.ForeignKey(Region, verbose_name=_("place"), on_delete=models.PROTECT, related_name="+")
    address = models.CharField(_("address"), max_length=200, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=50)
    contact_phone = models.CharField(_("contact phone"), max_length=11)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        blank=True,
        help_text=_("18 characters (统一社会信用代码); leave empty if the organisation has none."),
    )
    description = models.TextField(_("what we do"), max_length=2000, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=OrganisationStatus.choices, default=OrganisationStatus.PENDING
    )
    status_reason = models.CharField(_("reason"), max_length=300, blank=True)
    pairing_capacity = models.PositiveIntegerField(
        _("elders the organisation can be paired with"),
        default=0,
        help_text=_("一帮多: how many elders the matching may pair with the organisation; 0 = not offered."),
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
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["region_id", "name"]
        # the public directory: approved ones, in (region, name) order, read off the index without a sort
        indexes = [models.Index(fields=["status", "region", "name"], name="organisation_directory_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"], condition=~Q(credit_code=""), name="organisation_unique_credit_code"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["rejected", "suspended"]) | ~Q(status_reason=""),
                name="organisation_reason_when_refused",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("volunteers:organisation-detail", args=[self.pk])

    @property
    def is_public(self) -> bool:
        return self.status == OrganisationStatus.APPROVED


class MembershipStatus(models.TextChoices):
    PENDING = "pending", _("Asked to join")
    ACTIVE = "active", _("Member")
    DECLINED = "declined", _("Declined")


class Membership(models.Model):
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE, related_name="memberships"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=MembershipStatus.choices, default=MembershipStatus.PENDING
    )
    is_admin = models.BooleanField(_("organisation admin"), default=False)
    created_at = models.DateTimeField(_("asked at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["organisation", "-is_admin", "created_at"]
        # the organiser's member list: one organisation's members, admins first, then by status and date
        indexes = [
            models.Index(fields=["organisation", "-is_admin", "status", "created_at"], name="membership_list_idx")
        ]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "user"], name="membership_unique"),
            models.CheckConstraint(condition=Q(is_admin=False) | Q(status="active"), name="membership_admin_active"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.organisation}"


class ActivityKind(models.TextChoices):
    MUTUAL_AID = "mutual_aid", _("Mutual-aid service")
    RECREATION = "recreation", _("Culture and recreation")
    TRAINING = "training", _("Education and training")
    LECTURE = "lecture", _("Talk")
    HEALTH = "health", _("Free health check")
    OTHER = "other", _("Other")


class Audience(models.TextChoices):
    MEMBERS = "members", _("Members of the organisation")
    VOLUNTEERS = "volunteers", _("Any volunteer")
    ELDERS = "elders", _("Elders and everyone")


class ActivityStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    FINISHED = "finished", _("Finished")
    CANCELLED = "cancelled", _("Cancelled")


class Activity(models.Model):
    """A mutual-aid activity (互助活动) an organisation runs.

    `signup_count` is kept beside the sign-ups so that taking a seat is one conditional UPDATE
    (`signup_count < capacity`), and the database refuses a count above capacity: two people taking
    the last seat at the same moment cannot both have it.
    """

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="activities"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ActivityKind.choices, default=ActivityKind.MUTUAL_AID)
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), max_length=3000, blank=True)
    village = models.ForeignKey(Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+")
    address = models.CharField(_("address"), max_length=200, blank=True)
    start = models.DateTimeField(_("starts"))
    end = models.DateTimeField(_("ends"))
    capacity = models.PositiveIntegerField(_("places"))
    signup_deadline = models.DateTimeField(_("sign-up deadline"))
    audience = models.CharField(_("who may join"), max_length=12, choices=Audience.choices, default=Audience.VOLUNTEERS)
    service_item = models.ForeignKey(
        "services.ServiceItem",
        verbose_name=_("service delivered"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
    )
    status = models.CharField(_("status"), max_length=10, choices=ActivityStatus.choices, default=ActivityStatus.DRAFT)
    walk_ins = models.BooleanField(
        _("walk-ins welcome"),
        default=False,
        help_text=_("People who did not sign up may sign in at the door with the activity's code."),
    )
    # where the kiosk stands (WGS-84): sign-in may be required within VOLUNTEERS_CHECKIN_MAX_METRES of it
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    signup_count = models.PositiveIntegerField(_("signed up"), default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("posted by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["start", "pk"]
        indexes = [models.Index(fields=["status", "start"]), models.Index(fields=["village", "start"])]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="activity_ends_after_start"),
            models.CheckConstraint(condition=Q(capacity__gt=0), name="activity_capacity_positive"),
            models.CheckConstraint(condition=Q(signup_deadline__lte=F("start")), name="activity_deadline_before_start"),
            models.CheckConstraint(condition=Q(signup_count__lte=F("capacity")), name="activity_within_capacity"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("volunteers:activity-detail", args=[self.pk])

    @property
    def place(self) -> str:
        return f"{self.village.name} {self.address}".strip()

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.signup_count, 0)

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


class SignupStatus(models.TextChoices):
    SIGNED_UP = "signed_up", _("Signed up")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ActivitySignup(models.Model):
    """One person's place at an activity; after it, the organiser marks attendance with minutes served.

    Attendance with minutes is what becomes a submitted service record once service records exist.
    """

    activity = models.ForeignKey(Activity, verbose_name=_("activity"), on_delete=models.CASCADE, related_name="signups")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE, related_name="activity_signups"
    )
    status = models.CharField(_("status"), max_length=10, choices=SignupStatus.choices, default=SignupStatus.SIGNED_UP)
    created_at = models.DateTimeField(_("signed up at"), auto_now_add=True)
    attended = models.BooleanField(_("attended"), null=True, blank=True)
    minutes = models.PositiveIntegerField(_("minutes served"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    # QR sign-in at the door (volunteers.checkin): the times, and the last code window used (no replay)
    checked_in_at = models.DateTimeField(_("signed in at"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("signed out at"), null=True, blank=True)
    code_window = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("activity sign-up")
        verbose_name_plural = _("activity sign-ups")
        ordering = ["activity", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "user"], name="activitysignup_unique"),
            models.CheckConstraint(
                condition=Q(checked_out_at__isnull=True)
                | Q(checked_in_at__isnull=False, checked_out_at__gte=F("checked_in_at")),
                name="activitysignup_out_after_in",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.activity}"


def skill_categories() -> models.QuerySet:
    """The care-service categories a giver may name as skills. They belong to the care-service list in services;
    the relation reaches them, so that volunteers imports nothing from the app above it."""
    return VolunteerProfile.skills.field.related_model.objects.all()


def deliverable_items() -> models.QuerySet:
    """The published care-service items an activity (or a giver) may deliver, through the same relation."""
    return Activity.service_item.field.related_model.objects.published()


from volunteers.models_record import Award, CorrectionRequest, Evaluation, FamilyConfirmation, Training  # noqa: E402,F401
from volunteers.pages import ActivityIndexPage  # noqa: E402,F401 — the Wagtail page lives beside the models
