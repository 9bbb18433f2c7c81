"""Demo accounts, one per role, in a real place: 固原市西吉县吉强镇大营村.

Each app adds its own demo data in its `demo.seed()` function; `seed_demo` calls them in order.
"""

from django.contrib.auth.models import Permission
from django.db import transaction

from .models import Region, RoleKind, StaffRole, User

DEMO_PASSWORD = "Guanai-2026"  # noqa: S105 — demo accounts only; seed_demo refuses production

PROVINCE = "640000000000"  # 宁夏回族自治区
CITY = "640400000000"  # 固原市
COUNTY = "640422000000"  # 西吉县
TOWNSHIP = "640422100000"  # 吉强镇
VILLAGE = "640422100201"  # 大营村委会

# phone, real name, role, region code
DEMO_ACCOUNTS = [
    ("13900000001", "马兰花", RoleKind.VILLAGE_LIAISON, VILLAGE),
    ("13900000002", "杨志强", RoleKind.TOWNSHIP_OFFICER, TOWNSHIP),
    ("13900000003", "李建国", RoleKind.COUNTY_OFFICER, COUNTY),
    ("13900000004", "张慧", RoleKind.SUPERVISOR, CITY),
    ("13900000005", "王海燕", RoleKind.REGION_ADMIN, PROVINCE),
    ("13900000006", "海小勇", None, None),  # a volunteer, no staff role
    ("13900000008", "苏文静", RoleKind.DEPARTMENT, TOWNSHIP),  # 吉强镇卫生院: receives referrals
]


@transaction.atomic
def seed() -> list[User]:
    users = []
    for phone, name, role, code in DEMO_ACCOUNTS:
        user, created = User.objects.get_or_create(phone=phone, defaults={"real_name": name, "phone_verified": True})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        if role:
            StaffRole.objects.get_or_create(user=user, role=role, region=Region.objects.get(code=code))
        if role == RoleKind.REGION_ADMIN:
            _make_region_admin(user)
        users.append(user)
    return users


def _make_region_admin(user: User) -> None:
    """Region administrators use both admin sites: roles in the Django admin, content in Wagtail."""
    from django.contrib.auth.models import Group

    user.is_staff = True
    user.save(update_fields=["is_staff"])
    perms = Permission.objects.filter(
        content_type__app_label="portal",
        codename__in=[
            "add_staffrole",
            "view_staffrole",
            "delete_staffrole",
            "view_user",
            "view_region",
            "view_auditevent",
        ],
    )
    user.user_permissions.add(*perms)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    for group in Group.objects.filter(name__in=["Editors", "Moderators"]):
        user.groups.add(group)
