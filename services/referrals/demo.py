"""Demo referrals: from a visit in 大营村 to 吉强镇's clinic (acknowledged by the department account 13900000008)
and from another to legal aid, still waiting. Idempotent."""

from django.db import transaction

from portal.models import User
from services.care.models import Visit
from services.referrals import actions
from services.referrals.models import Referral, ReferralKind

VILLAGE = "640422100201"
LIAISON_PHONE = "13900000001"
DEPARTMENT_PHONE = "13900000008"


@transaction.atomic
def seed() -> None:
    liaison = User.objects.filter(phone=LIAISON_PHONE).first()
    department = User.objects.filter(phone=DEPARTMENT_PHONE).first()
    if liaison is None or Referral.objects.filter(village_id=VILLAGE).exists():
        return
    visits = list(Visit.objects.filter(elder__village_id=VILLAGE, contact_made=True).order_by("-visited_at")[:2])
    if not visits:
        return
    health = actions.refer(
        actor=liaison,
        kind=ReferralKind.HEALTH,
        reason="老人腿部旧伤复发，行动不便，请家庭医生上门看看。",
        visit=visits[0],
    )
    if department is not None:
        actions.acknowledge(actor=department, referral=health)
    if len(visits) > 1:
        actions.refer(
            actor=liaison,
            kind=ReferralKind.LEGAL,
            reason="子女长期不履行赡养义务，老人希望咨询法律援助。",
            level=actions.COUNTY,
            visit=visits[1],
        )
