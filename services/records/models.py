"""Service records (志愿服务记录 / 购买服务记录) and the certificates issued from them.

A record says who served (giver), whom or where (an elder or an activity), what (a care-service item),
when (start, end; minutes are derived, never typed), where, and who vouched for it. It belongs to one of
two ledgers that are never mixed: volunteer service (unpaid; what certificates count) and purchased
service (delivered by an organisation under a contract; what settlements pay).

Corrections. A confirmed or settled record is never edited and minutes are never negative. It is
corrected by a *reversal*: a second record with `sign = -1` and `reverses` pointing at the original
(one reversal per original, enforced by the one-to-one link). Totals are `Sum(minutes * sign)`, so the
original and its reversal both stay visible and cancel out; a corrected entry, if any, is a new record.

All the business rules live in `services.records.rules.check_record`; this module holds fields and constraints.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from portal.models import Region
from services.ledger.models import private_storage

PHOTO_TOO_LARGE = _("The photo is larger than %(mb)s MB; please send a smaller one.")


def photo_max_bytes() -> int:
    return int(getattr(settings, "RECORDS_PHOTO_MAX_BYTES", 5 * 1024 * 1024))


def validate_photo_size(file) -> None:
    if file and getattr(file, "size", 0) > photo_max_bytes():
        raise ValidationError(PHOTO_TOO_LARGE, code="photo_too_large", params={"mb": photo_max_bytes() // 2**20})


def minutes_between(start, end) -> int:
    """The one place where a record's minutes are computed (whole minutes, rounded down)."""
    if start is None or end is None or end <= start:
        return 0
    return int((end - start).total_seconds() // 60)


class RecordKind(models.TextChoices):
    VOLUNTEER = "volunteer", _("Volunteer service")  # 志愿服务 (unpaid)
    PURCHASED = "purchased", _("Purchased service")  # 政府购买服务


class RecordStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Awaiting confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Rejected")
    SETTLED = "settled", _("Settled")


COUNTED_STATUSES = (RecordStatus.CONFIRMED, RecordStatus.SETTLED)
LOCKED_STATUSES = (RecordStatus.CONFIRMED, RecordStatus.SETTLED)


def record_photo_upload_to(instance, filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower()[:5] if "." in filename else "jpg"
    import uuid

    return f"records/{instance.start:%Y/%m}/{uuid.uuid4().hex}.{ext}"


class ServiceRecordQuerySet(models.QuerySet):
    def counted(self):
        """Records that count in totals: confirmed or settled (reversals included, they subtract)."""
        return self.filter(status__in=COUNTED_STATUSES)

    def live(self):
        """Records occupying the giver's time: not rejected, not a reversal, not reversed."""
        return self.exclude(status=RecordStatus.REJECTED).filter(sign=1, reversal__isnull=True)


class ServiceRecord(models.Model):
    giver = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("giver"), on_delete=models.PROTECT, related_name="service_records"
    )
    organisation = models.ForeignKey(
        "volunteers.Organisation",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_records",
    )
    elder = models.ForeignKey(
        "services.Elder",
        verbose_name=_("elder"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_records",
    )
    activity = models.ForeignKey(
        "volunteers.Activity",
        verbose_name=_("activity"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_records",
    )
    # The village where the service happened (the elder's or the activity's): scoping and regional totals.
    region = models.ForeignKey(Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+")
    service_item = models.ForeignKey(
        "services.ServiceItem", verbose_name=_("service item"), on_delete=models.PROTECT, related_name="records"
    )
    kind = models.CharField(_("ledger"), max_length=10, choices=RecordKind.choices, default=RecordKind.VOLUNTEER)
    start = models.DateTimeField(_("started"))
    end = models.DateTimeField(_("ended"))
    minutes = models.PositiveIntegerField(_("minutes"), editable=False)
    sign = models.SmallIntegerField(_("sign"), default=1, editable=False)
    place = models.CharField(_("place"), max_length=200)
    content = models.TextField(_("what was done"), max_length=1000)
    # Private storage: a photo shows an elder's home; it is served only through the scoped record-photo view.
    photo = models.ImageField(
        _("photo"),
        upload_to=record_photo_upload_to,
        storage=private_storage,
        blank=True,
        validators=[validate_photo_size],
    )
    status = models.CharField(_("status"), max_length=10, choices=RecordStatus.choices, default=RecordStatus.SUBMITTED)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed or rejected by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed or rejected at"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversal",
    )
    group_key = models.UUIDField(_("group entry"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ServiceRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("service record")
        verbose_name_plural = _("service records")
        ordering = ["-start", "-pk"]
        indexes = [
            models.Index(fields=["giver", "start"], name="record_giver_start"),
            models.Index(fields=["organisation", "status", "start"], name="record_org_status_start"),
            models.Index(fields=["region", "status", "start"], name="record_region_status_start"),
            models.Index(fields=["status", "start"], name="record_status_start"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="record_ends_after_start"),
            models.CheckConstraint(
                condition=Q(elder__isnull=False, activity__isnull=True) | Q(elder__isnull=True, activity__isnull=False),
                name="record_elder_xor_activity",
            ),
            models.CheckConstraint(condition=Q(sign__in=[1, -1]), name="record_sign_valid"),
            models.CheckConstraint(
                condition=Q(sign=1, reverses__isnull=True) | Q(sign=-1, reverses__isnull=False),
                name="record_reversal_has_sign",
            ),
            models.CheckConstraint(condition=~Q(status="rejected") | ~Q(reason=""), name="record_rejected_has_reason"),
            models.CheckConstraint(
                condition=~Q(kind="purchased") | Q(organisation__isnull=False), name="record_purchased_has_org"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.giver} · {self.start:%Y-%m-%d} · {self.minutes}′"

    def save(self, *args, **kwargs):
        self.minutes = minutes_between(self.start, self.end)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"start", "end"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "minutes"}
        super().save(*args, **kwargs)

    @property
    def hours(self) -> str:
        """Shown as hours with one decimal (the sign included for a reversal)."""
        return hours_display(self.sign * (self.minutes or 0))

    @property
    def is_locked(self) -> bool:
        return self.status in LOCKED_STATUSES

    @property
    def is_reversal(self) -> bool:
        return self.sign == -1

    @property
    def target_name(self) -> str:
        return self.elder.name if self.elder_id else self.activity.title


def hours_display(minutes: int | None) -> str:
    """Integer minutes → hours with one decimal, rounded half up on the minute total (never float sums)."""
    minutes = int(minutes or 0)
    negative = minutes < 0
    tenths = (abs(minutes) * 10 + 30) // 60
    text = f"{tenths // 10}.{tenths % 10}"
    return f"-{text}" if negative and tenths else text


class Certificate(models.Model):
    """志愿服务证明: issued from confirmed volunteer records for a period; verifiable by its public code.

    `snapshot` holds exactly what the PDF prints (name, masked ID, periods, items, total, units), and
    `digest` is a keyed hash of it: the verification page recomputes it, so a row changed in the
    database after issue no longer verifies.
    """

    serial = models.CharField(_("serial number"), max_length=24, unique=True)
    code = models.CharField(_("verification code"), max_length=32, unique=True)
    giver = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("volunteer"), on_delete=models.PROTECT, related_name="certificates"
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    total_minutes = models.PositiveIntegerField(_("confirmed volunteer minutes"))
    snapshot = models.JSONField(_("content"), default=dict)
    digest = models.CharField(max_length=64, editable=False)
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)

    class Meta:
        verbose_name = _("volunteer service certificate")
        verbose_name_plural = _("volunteer service certificates")
        ordering = ["-issued_at"]
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="certificate_period_order"),
        ]

    def __str__(self) -> str:
        return self.serial

    @property
    def hours(self) -> str:
        return hours_display(self.total_minutes)
