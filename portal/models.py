"""The shared base: users, the region tree, staff roles and the audit trail."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.files.storage import storages
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .identity import EncryptedTextField
from .phone import clean_phone, validate_phone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, phone: str, password: str | None, **extra):
        phone = clean_phone(phone)
        user = self.model(phone=phone, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, phone: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(phone, password, **extra)

    def create_superuser(self, phone: str, password: str | None = None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create(phone, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: identified by a mainland mobile number, known by their real name."""

    phone = models.CharField(_("mobile number"), max_length=11, unique=True, validators=[validate_phone])
    phone_verified = models.BooleanField(_("mobile number verified"), default=False)
    real_name = models.CharField(_("real name"), max_length=50, blank=True)
    email = models.EmailField(_("email"), blank=True)
    is_staff = models.BooleanField(
        _("admin site access"), default=False, help_text=_("May sign in to the Django admin site.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "phone"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.real_name or self.phone

    def get_full_name(self) -> str:
        return self.real_name or self.phone

    def get_short_name(self) -> str:
        return self.real_name or self.phone

    # Wagtail's admin shows these
    @property
    def first_name(self) -> str:
        return self.real_name

    @property
    def last_name(self) -> str:
        return ""

    @property
    def username(self) -> str:
        return self.phone


class RegionLevel(models.TextChoices):
    PROVINCE = "province", _("Province")
    CITY = "city", _("City")
    COUNTY = "county", _("County / district")
    TOWNSHIP = "township", _("Township / town / subdistrict")
    VILLAGE = "village", _("Village / community")


# How many leading digits of the 12-digit code identify a region at each level.
PREFIX_LENGTH = {
    RegionLevel.PROVINCE: 2,
    RegionLevel.CITY: 4,
    RegionLevel.COUNTY: 6,
    RegionLevel.TOWNSHIP: 9,
    RegionLevel.VILLAGE: 12,
}


class Region(models.Model):
    """An administrative division (统计用区划代码). The subtree of a region is a prefix match on code."""

    code = models.CharField(_("division code"), max_length=12, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=RegionLevel.choices, db_index=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]
        indexes = [models.Index(fields=["parent", "code"])]

    def __str__(self) -> str:
        return self.name

    @property
    def prefix(self) -> str:
        return self.code[: PREFIX_LENGTH[self.level]]

    def contains(self, other: "Region | str") -> bool:
        code = other if isinstance(other, str) else other.code
        return code.startswith(self.prefix)

    def subtree(self):
        return Region.objects.filter(code__startswith=self.prefix)


class RoleKind(models.TextChoices):
    VILLAGE_LIAISON = "village_liaison", _("Village liaison")
    TOWNSHIP_OFFICER = "township_officer", _("Township officer")
    COUNTY_OFFICER = "county_officer", _("County civil-affairs officer")
    SUPERVISOR = "supervisor", _("Supervisor (read-only)")
    REGION_ADMIN = "region_admin", _("Region administrator")
    # A receiving unit of referrals (派出所, 卫生院/家庭医生, 司法所/法律援助, 临时救助): it sees and answers only
    # the referrals sent to its region, nothing else of the portal.
    DEPARTMENT = "department", _("Receiving department")


# The level a role is held at; a role given at another level would make its scope ambiguous.
ROLE_LEVELS = {
    RoleKind.VILLAGE_LIAISON: {RegionLevel.VILLAGE},
    RoleKind.TOWNSHIP_OFFICER: {RegionLevel.TOWNSHIP},
    RoleKind.COUNTY_OFFICER: {RegionLevel.COUNTY},
    RoleKind.SUPERVISOR: {RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY, RegionLevel.TOWNSHIP},
    RoleKind.REGION_ADMIN: {RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY},
    RoleKind.DEPARTMENT: {RegionLevel.TOWNSHIP, RegionLevel.COUNTY},
}
# Roles that must sign in with a second factor.
MFA_REQUIRED_ROLES = {RoleKind.COUNTY_OFFICER, RoleKind.REGION_ADMIN}
# Roles that may only read.
READ_ONLY_ROLES = {RoleKind.SUPERVISOR}
# Roles that open only the pages naming them: "any staff role" (no roles asked) never means one of these.
NARROW_ROLES = {RoleKind.DEPARTMENT}


class StaffRole(models.Model):
    """A staff duty held by a user over a region and everything under it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="staff_roles"
    )
    role = models.CharField(_("role"), max_length=20, choices=RoleKind.choices)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("staff role")
        verbose_name_plural = _("staff roles")
        constraints = [models.UniqueConstraint(fields=["user", "role", "region"], name="staffrole_unique")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.region}"

    @property
    def prefix(self) -> str:
        return self.region.prefix


class AuditAction(models.TextChoices):
    VIEW = "view", _("Viewed")
    EXPORT = "export", _("Exported")
    CREATE = "create", _("Created")
    CHANGE = "change", _("Changed")
    DELETE = "delete", _("Deleted")
    GRANT = "grant", _("Granted a role")
    REVOKE = "revoke", _("Revoked a role")
    LOGIN = "login", _("Signed in")


class AuditEvent(models.Model):
    """Who viewed, exported or changed what, when and from where. Written only through portal.audit."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("who"), null=True, blank=True, on_delete=models.SET_NULL
    )
    action = models.CharField(_("action"), max_length=10, choices=AuditAction.choices)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    changes = models.JSONField(_("fields"), default=dict, blank=True)
    # The actor's id as written, kept apart from the FK (which a deleted user sets to NULL) for the hash chain.
    actor_ref = models.CharField(_("actor id"), max_length=20, blank=True, editable=False)
    prev_hash = models.CharField(_("previous hash"), max_length=64, blank=True, editable=False)
    hash = models.CharField(_("hash"), max_length=64, blank=True, editable=False, db_index=True)
    # Position in the hash chain, given when the event is sealed (after its transaction commits).
    seal_seq = models.BigIntegerField(_("chain position"), null=True, blank=True, unique=True, editable=False)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    path = models.CharField(_("path"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.get_action_display()} {self.object_repr}"


class PasswordResetCode(models.Model):
    """One SMS code for a password reset, kept on the server so that its attempts are counted atomically
    (a conditional UPDATE), whatever the number of parallel requests sharing the session."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64)
    attempts = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("password reset code")
        verbose_name_plural = _("password reset codes")

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M}"


class SmsStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class SmsMessage(models.Model):
    """One text message in the outbox (portal.sms): written by send_sms, delivered by a task.

    The number and the text are encrypted at rest (the text may hold a one-time code); staff see the
    masked number, the template key and the delivery, never the text. `phone_hash` (keyed HMAC) counts a
    phone's messages for the daily cap.
    """

    phone = EncryptedTextField(_("mobile number"))
    phone_hash = models.CharField(max_length=64, db_index=True, editable=False)
    phone_masked = models.CharField(_("mobile number"), max_length=16)
    body = EncryptedTextField(_("message"))
    template = models.CharField(_("template"), max_length=64, blank=True)
    params = EncryptedTextField(_("template parameters"), blank=True, default="")
    region = models.ForeignKey(
        Region, verbose_name=_("region"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=SmsStatus.choices, default=SmsStatus.QUEUED, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    provider_answer = models.CharField(_("provider answer"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    claimed_at = models.DateTimeField(_("sending since"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("text message")
        verbose_name_plural = _("text messages")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="sms_due"),
            models.Index(fields=["phone_hash", "sent_at"], name="sms_phone_day"),
        ]

    def __str__(self) -> str:
        return f"{self.phone_masked} · {self.template or '-'} · {self.get_status_display()}"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting for its turn")
    RUNNING = "running", _("Being made")
    DONE = "done", _("Ready to download")
    FAILED = "failed", _("Failed")


def export_storage():
    return storages["private"]


class ExportJob(models.Model):
    """A long export made by a worker (portal.export_jobs): the list's URL and query as the user asked for
    them, run again by the worker as that user, so the rows are exactly what the list would have given."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE)
    path = models.CharField(_("list"), max_length=300)
    query = models.TextField(_("filters"), blank=True)
    language = models.CharField(max_length=10, default="zh-hans")
    label = models.CharField(_("what"), max_length=200)
    export_format = models.CharField(_("format"), max_length=4)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED, db_index=True
    )
    file = models.FileField(_("file"), upload_to="exports/%Y/%m/", storage=export_storage, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("asked at"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.label} ({self.export_format}, {self.rows})"
