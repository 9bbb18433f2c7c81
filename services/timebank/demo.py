"""Demo time bank: the demo records confirmed before the bank existed deposit now (as a confirmation would
have), and 海小勇 (13900000006) has given two hours to 马兰花 (13900000001)'s account as kin would — so the
account page, the statement PDF and the association's list (马兰花 runs 大营村老年协会) all show something.

Idempotent: a record deposits once (the bank's own guard), the transfer is made only if none exists yet."""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from portal.models import User
from services.records.models import COUNTED_STATUSES, ServiceRecord
from services.timebank import actions as bank
from services.timebank.models import TimeTransaction, TransactionKind

logger = logging.getLogger(__name__)


@transaction.atomic
def seed() -> None:
    records = ServiceRecord.objects.filter(status__in=COUNTED_STATUSES, sign=1, time_transaction__isnull=True)
    for record in records.select_related("service_item__category", "activity", "giver"):
        bank.deposit_for_record(record=record, actor=record.confirmed_by)
    giver = User.objects.filter(phone="13900000006").first()
    kin = User.objects.filter(phone="13900000001").first()
    if giver and kin and not TimeTransaction.objects.filter(kind=TransactionKind.TRANSFER).exists():
        try:
            bank.transfer_to_kin(actor=giver, phone=kin.phone, relation="姨妈", hours="2")
        except ValidationError as exc:  # too few demo hours: the page still works
            logger.info("demo time-bank transfer skipped: %s", exc.messages)
