"""The family portal's part of `seed_demo`: a son working in Yinchuan (13900000007, 马强) who is the primary
contact of one elder of the demo village, with a few reported contacts and a change of whereabouts waiting for the
liaison. He signs in by SMS code at /accounts/login/ (the demo password works too)."""

import datetime

from django.db import transaction
from django.utils import timezone

from portal.demo import DEMO_PASSWORD, VILLAGE
from portal.models import User
from services.family.models import FamilyContactLog, WhereaboutsChange
from services.ledger.models import Elder, ElderStatus, FamilyContact

FAMILY_PHONE = "13900000007"
FAMILY_NAME = "马强"


@transaction.atomic
def seed() -> None:
    elder = (
        Elder.objects.filter(village_id=VILLAGE, status=ElderStatus.ACTIVE, anonymised_at__isnull=True)
        .order_by("pk")
        .first()
    )
    if elder is None:
        return
    user, created = User.objects.get_or_create(
        phone=FAMILY_PHONE, defaults={"real_name": FAMILY_NAME, "phone_verified": True}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    contact = FamilyContact.objects.filter(phone=FAMILY_PHONE).first()
    if contact is None:
        FamilyContact.objects.filter(elder=elder, is_primary=True).update(is_primary=False)
        contact = FamilyContact.objects.create(
            elder=elder,
            name=FAMILY_NAME,
            relation="儿子",
            phone=FAMILY_PHONE,
            works_in="银川市金凤区 建筑工地",
            is_primary=True,
        )
    if not FamilyContactLog.objects.filter(contact=contact).exists():
        today = timezone.localdate()
        for days, kind in ((3, "call"), (17, "video"), (45, "visit")):
            FamilyContactLog.objects.create(
                elder=elder,
                contact=contact,
                reporter=user,
                kind=kind,
                contact_date=today - datetime.timedelta(days=days),
            )
        WhereaboutsChange.objects.create(
            elder=elder,
            contact=contact,
            proposed_by=user,
            city="银川市",
            employer="宁夏建工集团",
            since=today.replace(day=1),
        )
