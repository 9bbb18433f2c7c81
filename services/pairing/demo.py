"""Demo data for pairing (结对帮扶) in 大营村: needs of the priority elders and a few active pairings.

The demo volunteer 海小勇 (13900000006) is paired with one 重点 elder and has room for one more, and the
village's elder association offers three places to the matching (一帮多), so the township officer
(13900000002) can run the matching for 吉强镇, accept the proposals and see them get their elders. Runs after services.ledger.demo and volunteers.demo (it needs their elders and givers);
idempotent.
"""

from django.db import transaction
from django.utils import timezone

from portal.models import Region, User
from services.catalogue.models import ServiceCategory
from services.catalogue.selectors import categories_ensure
from services.ledger.models import Elder
from services.pairing.models import Need, Pairing, PairingOrigin, PairingStatus, Urgency
from volunteers.models import Organisation, VolunteerProfile

VILLAGE = "640422100201"  # 大营村委会
# (category, urgency, professional, note) for the first priority elders of the village, in order.
NEEDS = [
    [
        ("生活照料", Urgency.HIGH, False, "行动不便，挑水做饭困难"),
        ("精神慰藉", Urgency.MEDIUM, False, "独居，常念叨在外的儿子"),
    ],
    [("健康管理", Urgency.HIGH, False, "高血压，常忘记吃药"), ("生活照料", Urgency.MEDIUM, False, "")],
    [("精神慰藉", Urgency.MEDIUM, True, "老伴去世后情绪低落，需要心理疏导")],
    [("安全监护", Urgency.MEDIUM, False, "冬季烧煤取暖，需检查炉具烟囱")],
    [("生活照料", Urgency.MEDIUM, False, "代购米面油")],
    [("文体娱乐", Urgency.LOW, False, "喜欢秦腔，想参加协会活动")],
    [("生活照料", Urgency.LOW, False, ""), ("健康管理", Urgency.MEDIUM, False, "糖尿病")],
    [("精神慰藉", Urgency.LOW, False, "")],
]


def _pair(*, elder, categories, confirmed_by, giver_user=None, giver_organisation=None, days_ago=30) -> None:
    which = {"giver_user": giver_user} if giver_user else {"giver_organisation": giver_organisation}
    if Pairing.objects.filter(elder=elder, **which).exists():
        return
    start = timezone.localdate() - timezone.timedelta(days=days_ago)
    pairing = Pairing.objects.create(
        elder=elder,
        status=PairingStatus.ACTIVE,
        origin=PairingOrigin.MANUAL,
        start_date=start,
        confirmed_by=confirmed_by,
        confirmed_at=timezone.now() - timezone.timedelta(days=days_ago),
        **which,
    )
    pairing.categories.set(categories)


@transaction.atomic
def seed() -> None:
    categories_ensure()
    village = Region.objects.filter(code=VILLAGE).first()
    xiaoyong = User.objects.filter(phone="13900000006").first()
    if village is None or xiaoyong is None or not VolunteerProfile.objects.filter(user=xiaoyong).exists():
        return
    officer = User.objects.filter(phone="13900000002").first()
    categories = {c.name: c for c in ServiceCategory.objects.all()}
    elders = list(
        Elder.objects.active().filter(village=village).with_priority().order_by("priority_rank", "pk")[: len(NEEDS)]
    )
    for elder, needs in zip(elders, NEEDS, strict=False):
        for name, urgency, professional, note in needs:
            Need.objects.get_or_create(
                elder=elder,
                category=categories[name],
                closed_at=None,
                defaults={"urgency": urgency, "professional": professional, "note": note},
            )
    if not elders:
        return
    # 海小勇: one 重点 elder (生活照料、精神慰藉); one place left for the matching to fill.
    _pair(
        elder=elders[0],
        giver_user=xiaoyong,
        categories=[categories["生活照料"], categories["精神慰藉"]],
        confirmed_by=officer,
        days_ago=45,
    )
    # the elder association helps the same elder too (多帮一)
    association = Organisation.objects.filter(name="大营村老年协会").first()
    if association is not None:
        # and offers three places to the matching (一帮多): the township's run may propose it
        Organisation.objects.filter(pk=association.pk, pairing_capacity=0).update(pairing_capacity=3)
        _pair(
            elder=elders[0],
            giver_organisation=association,
            categories=[categories["生活照料"]],
            confirmed_by=officer,
            days_ago=40,
        )
    # a mutual-aid helper of the village (互助员) with the next elder
    helper = (
        VolunteerProfile.objects.filter(village=village, kind="mutual_aid")
        .exclude(user=xiaoyong)
        .select_related("user")
        .first()
    )
    if helper is not None and len(elders) > 1:
        _pair(
            elder=elders[1],
            giver_user=helper.user,
            categories=[categories["生活照料"]],
            confirmed_by=officer,
            days_ago=20,
        )
