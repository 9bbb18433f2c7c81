"""Givers of care at scale: 20,000 volunteers, 2,000 organisations, 50,000 activities (generated once).

Cases: the public activity list (all of Ningxia and one county), the public organisation directory, and
an organiser's member list (马兰花, admin of 大营村老年协会, with 1,000 members). Floors: one hand-written
query fetching the rows each page shows.
"""

import datetime
import random

from django.utils import timezone

VOLUNTEERS = 20_000
ORGANISATIONS = 2_000
ACTIVITIES = 50_000
MEMBERS = 1_000
COUNTY = "640422"
ORGANISER = "13900000001"
UNUSABLE = "!"  # noqa: S105 — an unusable password hash: generated people never sign in  # 马兰花, admin of the demo association


def _ensure_data() -> None:
    from portal.models import Region, User
    from volunteers.models import Activity, Membership, Organisation, OrganisationKind, VolunteerProfile

    rng = random.Random(5)
    villages = list(Region.objects.filter(level="village").values_list("code", flat=True))
    townships = list(Region.objects.filter(level="township").values_list("code", flat=True))
    if VolunteerProfile.objects.count() < VOLUNTEERS:
        User.objects.bulk_create(
            [User(phone=f"186{n:08d}", real_name=f"志愿者{n}", password=UNUSABLE) for n in range(VOLUNTEERS)],
            ignore_conflicts=True,
            batch_size=2000,
        )
        users = User.objects.filter(phone__startswith="186").order_by("pk")
        VolunteerProfile.objects.bulk_create(
            [
                VolunteerProfile(user_id=pk, village_id=rng.choice(villages), available_days=["6", "7"])
                for pk in users.values_list("pk", flat=True)
            ],
            ignore_conflicts=True,
            batch_size=2000,
        )
    kinds = list(OrganisationKind.objects.values_list("pk", flat=True))
    if Organisation.objects.count() < ORGANISATIONS:
        Organisation.objects.bulk_create(
            [
                Organisation(
                    name=f"测试组织{n}",
                    kind_id=rng.choice(kinds),
                    region_id=rng.choice(villages if n % 3 else townships),
                    contact_name="联系人",
                    contact_phone="13900000009",
                    status="approved" if n % 10 else "pending",
                )
                for n in range(ORGANISATIONS)
            ],
            batch_size=1000,
        )
    if Activity.objects.count() < ACTIVITIES:
        org_ids = list(Organisation.objects.filter(status="approved").values_list("pk", "region_id"))
        now = timezone.now()
        rows = []
        for n in range(ACTIVITIES):
            org_id, region_id = rng.choice(org_ids)
            start = now + datetime.timedelta(hours=rng.randint(-24 * 60, 24 * 90))
            village = region_id if len(region_id) == 12 and not region_id.endswith("000") else rng.choice(villages)
            rows.append(
                Activity(
                    organisation_id=org_id,
                    title=f"互助活动{n}",
                    kind=rng.choice(["mutual_aid", "recreation", "training", "lecture", "health", "other"]),
                    village_id=village,
                    start=start,
                    end=start + datetime.timedelta(hours=2),
                    signup_deadline=start - datetime.timedelta(hours=12),
                    capacity=30,
                    status="published" if n % 5 else "draft",
                )
            )
        Activity.objects.bulk_create(rows, batch_size=2000)
    association = Organisation.objects.get(name="大营村老年协会")
    if association.memberships.count() < MEMBERS:
        taken = set(association.memberships.values_list("user_id", flat=True))
        ids = list(User.objects.filter(phone__startswith="186").values_list("pk", flat=True)[:MEMBERS])
        Membership.objects.bulk_create(
            [Membership(organisation=association, user_id=pk, status="active") for pk in ids if pk not in taken],
            batch_size=1000,
        )


def _analyze() -> None:
    """Give PostgreSQL's planner statistics for the rows just bulk-loaded.

    In production autovacuum analyses a table soon after such a load; a bench run starts right after it,
    and without statistics the planner takes every table for one row (the activity list took seconds).
    """
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _seed() -> None:
    """The demo data these cases stand on (the accounts, the home page, the demo association)."""
    import cms.demo
    import portal.demo
    import services.catalogue.demo
    import volunteers.demo

    portal.demo.seed()
    services.catalogue.demo.seed()
    cms.demo.seed()
    volunteers.demo.seed()


def register(suite) -> None:
    suite.setup(_seed)
    suite.setup(_ensure_data)
    suite.setup(_analyze)

    activity_floor = (
        'SELECT a.id, a.title, a.kind, a.start, a."end", a.capacity, a.signup_count, o.name, v.name, t.name '
        "FROM volunteers_activity a JOIN volunteers_organisation o ON o.id = a.organisation_id "
        "JOIN portal_region v ON v.code = a.village_id JOIN portal_region t ON t.code = v.parent_id "
        "WHERE a.status = 'published' AND o.status = 'approved' AND a.\"end\" >= %s AND a.village_id LIKE %s "
        "ORDER BY a.start, a.id LIMIT 20"
    )
    suite.sql_floor("SQL floor: upcoming activities", activity_floor, [timezone.now(), "64%"])
    suite.public_page("activity list (public)", "/volunteers/activities/", floor="SQL floor: upcoming activities")
    suite.sql_floor("SQL floor: upcoming activities of a county", activity_floor, [timezone.now(), COUNTY + "%"])
    suite.public_page(
        "activity list, one county (public)",
        f"/volunteers/activities/?county={COUNTY}000000",
        floor="SQL floor: upcoming activities of a county",
    )
    # List floors fetch what the page shows in one query: its rows and the total it prints ("N organisations").
    suite.sql_floor(
        "SQL floor: organisation directory",
        "SELECT o.id, o.name, k.name, r.name, r.level, p.name, g.name, "
        "(SELECT COUNT(*) FROM volunteers_organisation c WHERE c.status = 'approved') FROM volunteers_organisation o "
        "JOIN volunteers_organisationkind k ON k.id = o.kind_id JOIN portal_region r ON r.code = o.region_id "
        "LEFT JOIN portal_region p ON p.code = r.parent_id LEFT JOIN portal_region g ON g.code = p.parent_id "
        "WHERE o.status = 'approved' ORDER BY o.region_id, o.name LIMIT 30",
    )
    suite.public_page(
        "organisation directory (public)", "/volunteers/organisations/", floor="SQL floor: organisation directory"
    )
    suite.sql_floor(
        "SQL floor: members of an organisation",
        "SELECT m.id, u.real_name, u.phone, m.status, m.is_admin, m.created_at, "
        "(SELECT COUNT(*) FROM volunteers_membership c JOIN volunteers_organisation co "
        "ON co.id = c.organisation_id WHERE co.name = %s) "
        "FROM volunteers_membership m "
        "JOIN portal_user u ON u.id = m.user_id JOIN volunteers_organisation o ON o.id = m.organisation_id "
        "WHERE o.name = %s ORDER BY m.is_admin DESC, m.status, m.created_at LIMIT 50",
        ["大营村老年协会", "大营村老年协会"],
    )
    association: list[int] = []

    def member_list():
        from volunteers.models import Organisation

        if not association:  # looked up once: the case times (and counts the queries of) the page alone
            association.append(Organisation.objects.filter(name="大营村老年协会").values_list("pk", flat=True).get())
        response = suite.client_for(ORGANISER).get(f"/volunteers/organisations/{association[0]}/members/")
        assert response.status_code == 200, response.status_code
        return response

    suite.call("member list (organiser)", member_list, floor="SQL floor: members of an organisation")

    # The staff's list of givers: 李建国, county officer of 西吉县 (about 1/20 of the 20,000 givers live there).
    suite.sql_floor(
        "SQL floor: givers of a county",
        "SELECT p.id, u.real_name, u.phone, p.kind, v.name, t.name, p.max_elders, "
        "(SELECT COUNT(*) FROM services_pairing x WHERE x.giver_user_id = p.user_id "
        "AND x.status IN ('proposed', 'active')), "
        "(SELECT SUM(r.minutes * r.sign) FROM services_servicerecord r WHERE r.giver_id = p.user_id "
        "AND r.kind = 'volunteer' AND r.status IN ('confirmed', 'settled')), "
        "(SELECT COUNT(*) FROM volunteers_volunteerprofile c WHERE c.village_id BETWEEN %s AND %s) "
        "FROM volunteers_volunteerprofile p JOIN portal_user u ON u.id = p.user_id "
        "JOIN portal_region v ON v.code = p.village_id JOIN portal_region t ON t.code = v.parent_id "
        "WHERE p.village_id BETWEEN %s AND %s ORDER BY p.village_id, p.id LIMIT 50",
        [COUNTY + "000000", COUNTY + "999999", COUNTY + "000000", COUNTY + "999999"],
    )
    suite.page(
        "volunteer list (county officer)",
        "/volunteers/staff/volunteers/",
        user="13900000003",
        floor="SQL floor: givers of a county",
    )
