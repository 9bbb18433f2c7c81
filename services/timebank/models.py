"""The time bank (时间银行): mutual-aid hours given now, drawn later by the giver or their kin.

A double-entry ledger. Every movement is one `TimeTransaction` whose `TimeEntry` legs sum to zero:

- deposit: the giver's account +m, the bank's "issued" account −m (a confirmed volunteer record of mutual aid);
- reversal: the opposite legs (the record's reversing entry; it names the reversing record);
- transfer: the sender −m, the kin +m (a yearly cap per sender);
- withdrawal: the requester −m, the bank's "spent" account +m (service asked for and paid in time);
- refund: the opposite of a withdrawal (a request cancelled before it was served).

Units are integer minutes (60 minutes = 1 unit, shown as hours with one decimal), never floats. A person's
`balance` is kept beside the entries so that taking time out is one conditional UPDATE; the database refuses
a negative balance, and a record deposits at most once (a unique constraint on the transaction's record).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from services.records.models import hours_display


class AccountKind(models.TextChoices):
    PERSON = "person", _("Personal account")
    ISSUED = "issued", _("Time issued for service")
    SPENT = "spent", _("Time spent on service")


class TimeAccount(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="time_account",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=AccountKind.choices, default=AccountKind.PERSON)
    balance = models.IntegerField(_("balance (minutes)"), default=0)
    created_at = models.DateTimeField(_("opened at"), auto_now_add=True)

    class Meta:
        verbose_name = _("time account")
        verbose_name_plural = _("time accounts")
        constraints = [
            models.CheckConstraint(condition=~Q(kind="person") | Q(balance__gte=0), name="timeaccount_never_negative"),
            models.CheckConstraint(
                condition=Q(kind="person", user__isnull=False) | (~Q(kind="person") & Q(user__isnull=True)),
                name="timeaccount_person_has_user",
            ),
            models.UniqueConstraint(fields=["kind"], condition=Q(user__isnull=True), name="timeaccount_one_system"),
        ]

    def __str__(self) -> str:
        return str(self.user) if self.user_id else self.get_kind_display()

    @property
    def hours(self) -> str:
        return hours_display(self.balance)


class TransactionKind(models.TextChoices):
    DEPOSIT = "deposit", _("Deposit for service")
    REVERSAL = "reversal", _("Deposit reversed")
    TRANSFER = "transfer", _("Transfer to kin")
    WITHDRAWAL = "withdrawal", _("Service paid in time")
    REFUND = "refund", _("Request cancelled, time returned")


RECORD_KINDS = (TransactionKind.DEPOSIT, TransactionKind.REVERSAL)


class TimeRequestStatus(models.TextChoices):
    OPEN = "open", _("Waiting for a volunteer")
    ARRANGED = "arranged", _("Arranged")
    CANCELLED = "cancelled", _("Cancelled")


class TimeRequest(models.Model):
    """A member (or their kin, after a transfer) asks for service and pays it in time. The minutes are taken
    when the request is made and returned if it is cancelled before it is arranged; the association arranges
    it through its existing paths (an activity, or a pairing need for the elder)."""

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        "volunteers.Organisation", verbose_name=_("elder association"), on_delete=models.PROTECT, related_name="+"
    )
    beneficiary = models.CharField(_("for whom"), max_length=50)
    service_item = models.ForeignKey(
        "services.ServiceItem", verbose_name=_("service"), on_delete=models.PROTECT, related_name="+"
    )
    minutes = models.PositiveIntegerField(_("minutes"))
    description = models.CharField(_("what is needed"), max_length=300)
    status = models.CharField(
        _("status"), max_length=10, choices=TimeRequestStatus.choices, default=TimeRequestStatus.OPEN
    )
    activity = models.ForeignKey(
        "volunteers.Activity",
        verbose_name=_("arranged as activity"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)

    class Meta:
        verbose_name = _("service paid in time")
        verbose_name_plural = _("services paid in time")
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(minutes__gt=0), name="timerequest_minutes_positive")]

    def __str__(self) -> str:
        return f"{self.beneficiary} · {self.service_item}"

    @property
    def hours(self) -> str:
        return hours_display(self.minutes)


class TimeTransaction(models.Model):
    kind = models.CharField(_("kind"), max_length=10, choices=TransactionKind.choices)
    minutes = models.PositiveIntegerField(_("minutes"))
    record = models.OneToOneField(
        "services.ServiceRecord",
        verbose_name=_("service record"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="time_transaction",
    )
    request = models.ForeignKey(
        TimeRequest,
        verbose_name=_("service paid in time"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transactions",
    )
    relation = models.CharField(_("relation"), max_length=20, blank=True)
    memo = models.CharField(_("memo"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("time-bank transaction")
        verbose_name_plural = _("time-bank transactions")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["kind", "created_at"], name="timetx_kind_created")]
        constraints = [
            models.CheckConstraint(condition=Q(minutes__gt=0), name="timetx_minutes_positive"),
            # deposits and reversals name their record (one each: the one-to-one link); nothing else does
            models.CheckConstraint(
                condition=Q(kind__in=["deposit", "reversal"], record__isnull=False)
                | (~Q(kind__in=["deposit", "reversal"]) & Q(record__isnull=True)),
                name="timetx_record_iff_deposit",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["withdrawal", "refund"]) | Q(request__isnull=False),
                name="timetx_request_for_withdrawal",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {hours_display(self.minutes)}"


class TimeEntry(models.Model):
    """One leg of a transaction: signed minutes on one account (the legs of a transaction sum to zero)."""

    transaction = models.ForeignKey(
        TimeTransaction, verbose_name=_("transaction"), on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(
        TimeAccount, verbose_name=_("account"), on_delete=models.PROTECT, related_name="entries"
    )
    minutes = models.IntegerField(_("minutes"))

    class Meta:
        verbose_name = _("time-bank entry")
        verbose_name_plural = _("time-bank entries")
        ordering = ["-transaction__created_at", "-pk"]
        indexes = [models.Index(fields=["account", "transaction"], name="timeentry_account_tx")]
        constraints = [
            models.CheckConstraint(condition=~Q(minutes=0), name="timeentry_not_zero"),
            models.UniqueConstraint(fields=["transaction", "account"], name="timeentry_one_leg_per_account"),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.minutes:+d}′"

    @property
    def hours(self) -> str:
        return hours_display(self.minutes)
