"""Demo spot checks: last month's draw for 吉强镇 (seed kept), a few call-backs recorded by the township officer
13900000002 — confirmed, a visit that did not happen, one unanswered call. Idempotent (runs after care and
purchasing demos)."""

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from portal.models import Region, User
from services.spotchecks import actions
from services.spotchecks.models import SpotCheckDraw, SpotCheckKind, SpotCheckOutcome

TOWNSHIP = "640422100000"  # 吉强镇
OFFICER_PHONE = "13900000002"
SEED = 20261101


@transaction.atomic
def seed() -> None:
    region = Region.objects.filter(code=TOWNSHIP).first()
    officer = User.objects.filter(phone=OFFICER_PHONE).first()
    if region is None or officer is None:
        return
    month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    if SpotCheckDraw.objects.filter(month=month, region__code__startswith="640422").exists():
        return
    draw, created = actions.draw_month(
        actor=officer, region=region, month=month, seed=SEED, share=Decimal("0.3"), system=True
    )
    if not created:
        return
    checks = list(draw.checks.order_by("pk"))
    visits = [c for c in checks if c.kind == SpotCheckKind.VISIT]
    records = [c for c in checks if c.kind == SpotCheckKind.PURCHASED]
    for check in visits[:2] + records[:1]:
        actions.record_result(actor=officer, check=check, result=SpotCheckOutcome.CONFIRMED, note="老人说确有此事")
    if len(visits) > 2:
        actions.record_result(
            actor=officer, check=visits[2], result=SpotCheckOutcome.NOT_HAPPENED, note="家属说当月没有人来过"
        )
    if len(visits) > 3:
        actions.record_result(actor=officer, check=visits[3], result=actions.NO_ANSWER)
