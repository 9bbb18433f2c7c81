"""Pairing (结对帮扶) end to end: `match_run` for a whole county with generated elders and givers.

Target (issue 6): the full match for a county with 5,000 elders within 15 s — reading elders, priority,
needs, givers, skills and open pairings from the database, scoring, solving, writing the proposals and
the run with coverage before/after. The county is 中宁县 (640521), whose villages are not named
…村委会, so the ledger's generated load (which fills 村委会 villages) does not change its size: it holds
exactly the elders made here. Also "accept all" on that run's proposals (a bulk operation) and the proposals
page of the demo township run (township officer).
"""

import datetime
import io
import random

from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

COUNTY = "640521000000"  # 中宁县
ELDERS = 5_000
GIVERS = 1_500
SEED = 6
NAME_PREFIX = "压测"


@transaction.atomic
def generate_county(*, county: str = COUNTY, elders: int = ELDERS, givers: int = GIVERS, seed: int = SEED) -> None:
    """Elders (with families and needs) and givers (with skills and availability) in the county's villages."""
    from portal.identity import check_digit, keyed_hash
    from portal.models import Region, User
    from services.catalogue.selectors import categories_ensure
    from services.models import Elder, FamilyContact, Need
    from volunteers.models import VolunteerProfile

    prefix = county[:6]
    if Elder.objects.filter(village__code__startswith=prefix, name__startswith=NAME_PREFIX).exists():
        return
    rng = random.Random(seed)  # noqa: S311 — generated load, not secrets
    categories = categories_ensure()
    villages = list(Region.objects.filter(level="village", code__startswith=prefix).values_list("code", flat=True))
    rows = []
    for n in range(elders):
        birth = datetime.date(rng.randint(1930, 1964), rng.randint(1, 12), rng.randint(1, 28))
        gender = rng.choice("MF")
        first17 = f"{prefix}{birth:%Y%m%d}{n % 100:02d}{(n % 5) * 2 + (gender == 'M')}"
        number = first17 + check_digit(first17)
        rows.append(
            Elder(
                name=f"{NAME_PREFIX}{n}",
                gender=gender,
                birth_date=birth,
                id_number=number,
                id_hash=keyed_hash(f"{number}#{n}"),  # generated numbers may repeat; the hash must not
                village_id=rng.choice(villages),
                address=f"{rng.randint(1, 9)}组{rng.randint(1, 80)}号",
                economic_status=rng.choices(
                    ["general", "subsistence", "registered_poor", "destitute"], [60, 25, 10, 5]
                )[0],
                ability_level=rng.choices(["intact", "mild", "moderate", "severe", "total"], [55, 25, 10, 7, 3])[0],
                living_arrangement=rng.choices(["alone", "couple", "grandchildren"], [30, 55, 15])[0],
            )
        )
    made = Elder.objects.bulk_create(rows, batch_size=1000)
    if any(e.pk is None for e in made):
        made = list(Elder.objects.filter(village__code__startswith=prefix, name__startswith=NAME_PREFIX))
    FamilyContact.objects.bulk_create(
        [
            FamilyContact(elder=e, name="子女", relation="儿子", phone=f"15{rng.randint(100000000, 999999999)}")
            for e in made
            if rng.random() < 0.7
        ],
        batch_size=2000,
    )
    needs = []
    for e in made:
        if rng.random() < 0.6:
            for category in rng.sample(categories, rng.choice((1, 1, 2))):
                needs.append(
                    Need(
                        elder=e,
                        category=category,
                        professional=category.slug == "jingshen-weijie" and rng.random() < 0.1,
                    )
                )
    Need.objects.bulk_create(needs, batch_size=2000)

    users = User.objects.bulk_create(
        [User(phone=f"170{seed:02d}{n:06d}", real_name=f"志愿者{n}", password="!") for n in range(givers)],  # noqa: S106
        batch_size=1000,
    )
    if any(u.pk is None for u in users):
        users = list(User.objects.filter(phone__startswith=f"170{seed:02d}").order_by("phone"))
    profiles = VolunteerProfile.objects.bulk_create(
        [
            VolunteerProfile(
                user=u,
                village_id=rng.choice(villages),
                kind=rng.choices(["volunteer", "mutual_aid", "social_worker"], [70, 25, 5])[0],
                max_elders=rng.choice((1, 2, 2, 3, 5)),
                available_days=rng.sample(["1", "2", "3", "4", "5", "6", "7"], rng.randint(1, 4)),
                available_times=rng.sample(["morning", "afternoon", "evening"], rng.randint(1, 2)),
            )
            for u in users
        ],
        batch_size=1000,
    )
    if any(p.pk is None for p in profiles):
        profiles = list(VolunteerProfile.objects.filter(user__in=users))
    for p in profiles:
        if p.kind == "social_worker":
            p.qualification, p.certificate_number = "social_worker", f"SW{p.pk}"
    VolunteerProfile.objects.bulk_update(
        [p for p in profiles if p.kind == "social_worker"], ["qualification", "certificate_number"]
    )
    through = VolunteerProfile.skills.through
    through.objects.bulk_create(
        [
            through(volunteerprofile_id=p.pk, servicecategory_id=c.pk)
            for p in profiles
            for c in rng.sample(categories, rng.randint(1, 3))
        ],
        batch_size=2000,
    )


def register(suite) -> None:
    suite.setup(lambda: call_command("seed_demo", stdout=io.StringIO()))
    suite.setup(generate_county)

    def fresh_county():
        """Every bench run starts from the same county: no pairings (the accept-all case leaves some)."""
        from services.models import Pairing

        Pairing.objects.filter(elder__village__code__startswith=COUNTY[:6]).delete()

    suite.setup(fresh_county)

    def demo_pairing():
        from services.pairing import demo as demo_pairing

        demo_pairing.seed()

    suite.setup(demo_pairing)

    def match_county():
        from portal.models import Region
        from services.pairing.runs import match_run

        run = match_run(region=Region.objects.get(code=COUNTY), user=None)
        assert run.inputs["elders"] >= ELDERS and run.chosen, run.inputs
        return run

    suite.call(f"pairing: match for a county ({ELDERS:,} elders, {GIVERS:,} givers)", match_county, repeat=3)

    accepting = {}

    def accept_all_county():
        """ "Accept all" on the county run's proposals (thousands): one bulk operation. Each call first puts
        the proposals back (one UPDATE, timed too) so that every repeat accepts the same set."""
        from portal.models import User
        from services.models import Pairing
        from services.pairing.lifecycle import pairings_accept
        from services.pairing.models import PairingStatus

        if "run" not in accepting:
            accepting["run"] = match_county()
            accepting["officer"], _ = User.objects.get_or_create(
                phone="17099999999", defaults={"real_name": "压测管理员", "is_superuser": True, "password": "!"}
            )
        proposals = Pairing.objects.filter(match_run=accepting["run"])
        proposals.update(status=PairingStatus.PROPOSED, confirmed_by=None, confirmed_at=None, start_date=None)
        accepted, refused = pairings_accept(
            actor=accepting["officer"], pairings=list(proposals.select_related("elder__village"))
        )
        assert accepted and len(accepted) + len(refused) == len(accepting["run"].chosen)
        return accepted

    suite.call("pairing: accept all proposals of the county run", accept_all_county, repeat=3)

    state = {}

    def proposals_page():
        from portal.models import Region, User
        from services.pairing.runs import match_run

        if "url" not in state:
            officer = User.objects.get(phone="13900000002")
            run = match_run(region=Region.objects.get(code="640422100000"), user=officer)
            state["url"] = reverse("services:match-proposals", args=[run.pk])
        response = suite.client_for("13900000002").get(state["url"])
        assert response.status_code == 200, response.status_code
        return response

    suite.call("pairing: proposals page (township officer)", proposals_page)
