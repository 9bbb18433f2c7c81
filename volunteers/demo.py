"""Demo givers of care in 西吉县: 海小勇's volunteer profile, an organisation of every kind, members,
and upcoming activities that show on the home page and the activity list. Idempotent."""

import datetime

from django.db import transaction
from django.utils import timezone

from wagtail.models import Site

from portal.demo import COUNTY, DEMO_PASSWORD, TOWNSHIP, VILLAGE
from portal.models import Region, User
from volunteers.models import (
    Activity,
    ActivityIndexPage,
    ActivityKind,
    ActivitySignup,
    ActivityStatus,
    Audience,
    GiverKind,
    Membership,
    MembershipStatus,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    VolunteerProfile,
    skill_categories,
)
from volunteers.organisations import kinds_ensure

OTHER_VILLAGE = "640422100202"  # a second village of 吉强镇, when present

# slug of kind, name, region code, address, contact, phone, credit code
ORGANISATIONS = [
    ("laonian-xiehui", "大营村老年协会", VILLAGE, "大营村村委会院内", "马兰花", "13900000001", ""),
    ("zhiyuan-fuwudui", "吉强镇青年志愿服务队", TOWNSHIP, "吉强镇政府二楼", "海小勇", "13900000006", ""),
    ("shehui-gongzuozhan", "吉强镇社会工作站", TOWNSHIP, "吉强镇便民服务中心", "杨志强", "13900000002", ""),
    ("weilao-fuwu-jigou", "西吉县康乐为老服务中心", TOWNSHIP, "吉强镇西大街", "张慧", "13900000004", ""),
    ("huzhu-xingfuyuan", "大营村互助幸福院", VILLAGE, "大营村二组", "马兰花", "13900000001", ""),
    ("nongcun-laofanzhuo", "大营村老饭桌", VILLAGE, "大营村互助幸福院食堂", "马兰花", "13900000001", ""),
]

EXTRA_VOLUNTEERS = [("13900000021", "马小梅"), ("13900000022", "李明亮")]

# organisation name, kind, title, days from today, start hour, hours, capacity, audience, description
ACTIVITIES = [
    (
        "大营村老年协会",
        ActivityKind.HEALTH,
        "重阳健康义诊：量血压、测血糖",
        3,
        9,
        3,
        30,
        Audience.ELDERS,
        "县医院医生到村里为老人免费量血压、测血糖，讲解冬季防病知识。请带上医保卡。",
    ),
    (
        "吉强镇青年志愿服务队",
        ActivityKind.MUTUAL_AID,
        "冬季入户送温暖：帮留守老人清理院子、检查炉子",
        5,
        14,
        3,
        10,
        Audience.VOLUNTEERS,
        "两人一组入户，帮老人清扫院落、检查煤炉和烟囱，防止一氧化碳中毒。",
    ),
    (
        "大营村老年协会",
        ActivityKind.RECREATION,
        "秦腔唱段交流会",
        9,
        15,
        2,
        40,
        Audience.MEMBERS,
        "协会会员自带唱段，互相交流；欢迎会员带家人来听。",
    ),
]


def _deadline(start: datetime.datetime) -> datetime.datetime:
    """Sign-up closes at 20:00 the evening before."""
    day_before = timezone.localtime(start).date() - datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(day_before, datetime.time(20)))


def _user(phone: str, name: str) -> User:
    user, created = User.objects.get_or_create(phone=phone, defaults={"real_name": name, "phone_verified": True})
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


def _profile(user: User, village: Region, kind=GiverKind.VOLUNTEER, skills=(), about="") -> VolunteerProfile:
    profile, created = VolunteerProfile.objects.get_or_create(
        user=user,
        defaults={
            "kind": kind,
            "village": village,
            "available_days": ["6", "7"],
            "available_times": ["morning", "afternoon"],
            "max_elders": 2,
            "about": about,
        },
    )
    if created and skills:
        profile.skills.set(skill_categories().filter(name__in=skills))
    return profile


@transaction.atomic
def seed() -> None:
    kinds = {k.slug: k for k in kinds_ensure()}
    village = Region.objects.get(code=VILLAGE)
    officer = User.objects.filter(phone="13900000003").first()
    xiaoyong = _user("13900000006", "海小勇")
    lanhua = _user("13900000001", "马兰花")
    _profile(xiaoyong, village, skills=["生活照料", "精神慰藉"], about="在镇上开农机维修店，周末有空，会开车。")
    extras = [_user(phone, name) for phone, name in EXTRA_VOLUNTEERS]
    _profile(extras[0], village, GiverKind.MUTUAL_AID, ["生活照料"], "六十岁，身体好，住在大营村一组。")
    _profile(extras[1], village, GiverKind.VOLUNTEER, ["文体娱乐"], "小学老师，会拉二胡。")

    organisations = {}
    now = timezone.now()
    for slug, name, code, address, contact, phone, credit in ORGANISATIONS:
        kind = kinds.get(slug) or OrganisationKind.objects.get(slug=slug)
        organisation, _created = Organisation.objects.get_or_create(
            name=name,
            defaults={
                "kind": kind,
                "region": Region.objects.get(code=code),
                "address": address,
                "contact_name": contact,
                "contact_phone": phone,
                "credit_code": credit,
                "status": OrganisationStatus.APPROVED,
                "decided_by": officer,
                "decided_at": now,
                "created_by": lanhua,
                "description": f"{name}，立足{Region.objects.get(code=COUNTY).name}，为留守老人提供关爱服务。",
            },
        )
        organisations[name] = organisation

    def member(org_name, user, admin=False, status=MembershipStatus.ACTIVE):
        Membership.objects.get_or_create(
            organisation=organisations[org_name],
            user=user,
            defaults={"status": status, "is_admin": admin, "decided_at": now if status != "pending" else None},
        )

    association, team = "大营村老年协会", "吉强镇青年志愿服务队"
    member(association, lanhua, admin=True)
    member(association, xiaoyong)
    member(association, extras[0])
    member(association, extras[1], status=MembershipStatus.PENDING)
    member(team, xiaoyong, admin=True)
    member(team, extras[1])
    for name in organisations:
        if name not in (association, team):
            member(name, lanhua, admin=True)

    today = timezone.localdate()
    for org_name, kind, title, days, hour, hours, capacity, audience, description in ACTIVITIES:
        start = timezone.make_aware(
            datetime.datetime.combine(today + datetime.timedelta(days=days), datetime.time(hour))
        )
        activity, created = Activity.objects.get_or_create(
            organisation=organisations[org_name],
            title=title,
            defaults={
                "kind": kind,
                "description": description,
                "village": village,
                "address": organisations[org_name].address,
                "start": start,
                "end": start + datetime.timedelta(hours=hours),
                "signup_deadline": _deadline(start),
                "capacity": capacity,
                "audience": audience,
                "status": ActivityStatus.PUBLISHED,
                "created_by": lanhua,
            },
        )
        if not created and activity.end < timezone.now() and activity.status == ActivityStatus.PUBLISHED:
            # an old demo database: move the demo activity forward so the home page still shows it
            activity.start, activity.end = start, start + datetime.timedelta(hours=hours)
            activity.signup_deadline = _deadline(start)
            activity.save(update_fields=["start", "end", "signup_deadline"])
    first = Activity.objects.get(organisation=organisations[team], title=ACTIVITIES[1][2])
    if not ActivitySignup.objects.filter(activity=first, user=extras[1]).exists():
        ActivitySignup.objects.create(activity=first, user=extras[1])
        first.signup_count = first.signups.filter(status="signed_up").count()
        first.save(update_fields=["signup_count"])
    _index_page()


def _index_page() -> ActivityIndexPage:
    """The activities page under the site's home page (cms.demo makes the home page; seed_demo runs it first)."""
    page = ActivityIndexPage.objects.first()
    if page is None:
        home = Site.objects.get(is_default_site=True).root_page
        page = home.add_child(
            instance=ActivityIndexPage(
                title="互助活动",
                slug="activities",
                intro="老年协会、志愿服务队和社会工作站组织的互助活动，欢迎报名参加。",
            )
        )
    return page
