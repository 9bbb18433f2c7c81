"""Demo 平安铃: two elders of 大营村 enrolled (demo numbers), a week of answers, one with two missed days. Idempotent."""

import datetime

from django.db import transaction
from django.utils import timezone

from portal.models import User
from services.ledger.models import Elder, ElderStatus
from services.safecheck import actions
from services.safecheck.models import CheckinDay, CheckinEnrolment

VILLAGE = "640422100201"
LIAISON_PHONE = "13900000001"
NUMBERS = ["13700000101", "13700000102"]  # demo numbers: the log sender writes to the console only


@transaction.atomic
def seed() -> None:
    liaison = User.objects.filter(phone=LIAISON_PHONE).first()
    if liaison is None or CheckinEnrolment.objects.filter(village_id=VILLAGE).exists():
        return
    elders = list(Elder.objects.filter(village_id=VILLAGE, status=ElderStatus.ACTIVE).order_by("pk")[:2])
    today = timezone.localdate()
    for n, (elder, phone) in enumerate(zip(elders, NUMBERS, strict=False)):
        enrolment = actions.enrol(actor=liaison, elder=elder, phone=phone, send_at=datetime.time(8 + n, 0))
        for back in range(7, 0, -1):
            day = today - datetime.timedelta(days=back)
            sent = timezone.make_aware(datetime.datetime.combine(day, enrolment.send_at))
            missed = n == 1 and back <= 2
            CheckinDay.objects.create(
                enrolment=enrolment,
                day=day,
                first_sent_at=sent,
                second_sent_at=sent + datetime.timedelta(hours=2) if missed else None,
                answered_at=None if missed else sent + datetime.timedelta(minutes=12 + back),
                missed=missed,
            )
