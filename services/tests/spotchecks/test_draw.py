"""The monthly draw: stratified by township and provider, seeded, reproducible; the command's JSON summary."""

import datetime
import io
import json
from decimal import Decimal

import pytest

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command

from portal.models import Region
from services.records.models import RecordKind, RecordStatus
from services.spotchecks import actions, draw
from services.spotchecks.models import SpotCheck, SpotCheckDraw, SpotCheckKind
from services.tests.factories_care import OTHER_TOWNSHIP_VILLAGE, SAME_TOWNSHIP_VILLAGE, make_elder
from services.tests.factories_proof import local, make_visit
from services.tests.factories_purchasing import add_member, make_item, make_provider, make_record

COUNTY = "640422000000"
OCT = datetime.date(2026, 10, 1)
pytestmark = pytest.mark.django_db


@pytest.fixture
def month_of_care(liaison):
    """October 2026 in 西吉县: visits in two townships, records of two providers, and things never drawn."""
    elders = [make_elder(), make_elder(village=SAME_TOWNSHIP_VILLAGE), make_elder(village=OTHER_TOWNSHIP_VILLAGE)]
    for i in range(30):
        make_visit(elders[i % 3], visitor=liaison, at=local(datetime.date(2026, 10, 1 + i % 28), 10))
    make_visit(elders[0], visitor=liaison, at=local(datetime.date(2026, 10, 5)), contact_made=False)  # no contact
    make_visit(elders[0], visitor=liaison, at=local(datetime.date(2026, 11, 2)))  # another month
    one, _ = make_provider(name="大营村老年协会")
    two, _ = make_provider(name="吉强镇助老服务中心", code="640422100000")
    item = make_item()
    for org in (one, two):
        giver = add_member(org)
        for i in range(12):
            make_record(
                organisation=org,
                giver=giver,
                elder=elders[i % 2],
                item=item,
                start=local(datetime.date(2026, 10, 1 + i), 8 + (org.pk % 5)),
            )
        make_record(
            organisation=org, giver=giver, elder=elders[0], item=item, start=local(OCT), kind=RecordKind.VOLUNTEER
        )
        make_record(
            organisation=org,
            giver=giver,
            elder=elders[0],
            item=item,
            start=local(OCT, 15),
            status=RecordStatus.SUBMITTED,
        )
    return elders, (one, two)


def _drawn(draw_row) -> list[tuple]:
    return sorted((c.kind, c.visit_id or c.record_id) for c in SpotCheck.objects.filter(draw=draw_row))


def test_the_draw_is_stratified_and_reproduces_from_its_seed(month_of_care, county_officer):
    county = Region.objects.get(code=COUNTY)
    made, created = actions.draw_month(
        actor=county_officer, region=county, month=OCT, seed=20261101, share=Decimal("0.2")
    )
    assert created and made.seed == 20261101 and made.share == Decimal("0.2000")
    strata = draw.population(county.prefix, OCT)
    # visits in two townships (吉强镇, 兴隆镇), records of two providers; the never-drawn rows are not there
    assert sorted(strata) == sorted(
        [
            "visit:640422100",
            "visit:640422101",
            f"purchased:640422100:{month_of_care[1][0].pk}",
            f"purchased:640422100:{month_of_care[1][1].pk}",
        ]
    )
    assert made.population == 30 + 24
    # each stratum gives ceil(20 %): 吉强镇 20 visits → 4, 兴隆镇 10 → 2, each provider 12 → 3
    kinds = list(SpotCheck.objects.filter(draw=made).values_list("kind", "village_id"))
    assert sum(1 for k, v in kinds if k == SpotCheckKind.VISIT and v.startswith("640422100")) == 4
    assert sum(1 for k, v in kinds if k == SpotCheckKind.VISIT and v.startswith("640422101")) == 2
    assert sum(1 for k, _ in kinds if k == SpotCheckKind.PURCHASED) == 6
    # the stored seed reproduces the same sample
    again = sorted((kind, pk) for kind, pk, *_ in draw.sample(strata, seed=made.seed, share=made.share))
    assert again == _drawn(made)
    other = sorted((kind, pk) for kind, pk, *_ in draw.sample(strata, seed=made.seed + 1, share=made.share))
    assert other != again


def test_a_month_is_drawn_once_and_a_township_inside_a_drawn_county_is_not_drawn_again(month_of_care, township_officer):
    county = Region.objects.get(code=COUNTY)
    first, created = actions.draw_month(actor=None, region=county, month=OCT, system=True)
    assert created
    second, created = actions.draw_month(actor=None, region=county, month=datetime.date(2026, 10, 17), system=True)
    assert not created and second == first
    township = Region.objects.get(code="640422100000")
    inside, created = actions.draw_month(actor=township_officer, region=township, month=OCT)
    assert not created and inside == first and SpotCheckDraw.objects.count() == 1


def test_only_an_officer_over_the_region_draws(month_of_care, liaison, township_officer, supervisor):
    county = Region.objects.get(code=COUNTY)
    for actor in (liaison, township_officer, supervisor):
        with pytest.raises(PermissionDenied):
            actions.draw_month(actor=actor, region=county, month=OCT)
    with pytest.raises(ValidationError):
        actions.draw_month(actor=None, region=Region.objects.get(code="640422100201"), month=OCT, system=True)
    assert not SpotCheckDraw.objects.exists()


def test_command_prints_the_summary_as_its_last_line(month_of_care):
    out = io.StringIO()
    call_command(
        "draw_spotchecks", "--month", "2026-10", "--region", COUNTY, "--seed", "7", "--share", "0.1", stdout=out
    )
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    made = SpotCheckDraw.objects.get()
    assert summary == {
        "region": COUNTY,
        "month": "2026-10",
        "seed": 7,
        "share": "0.1000",
        "population": 54,
        "drawn": made.drawn,
        "visits": SpotCheck.objects.filter(kind="visit").count(),
        "records": SpotCheck.objects.filter(kind="purchased").count(),
        "created": True,
    }
    assert summary["visits"] == 2 + 1 and summary["records"] == 2 + 2
    out = io.StringIO()
    call_command("draw_spotchecks", "--month", "2026-10", "--region", COUNTY, stdout=out)
    assert json.loads(out.getvalue().strip().splitlines()[-1])["created"] is False


@pytest.mark.parametrize(
    "args",
    [
        ["--month", "2026-13", "--region", COUNTY],
        ["--month", "October", "--region", COUNTY],
        ["--month", "2026-10", "--region", "999999999999"],
        ["--month", "2026-10", "--region", COUNTY, "--share", "abc"],
        ["--month", "2026-10", "--region", COUNTY, "--share", "1.5"],
        ["--month", "2026-10", "--region", "640422100201"],
    ],
)
def test_command_refuses_bad_input_and_draws_nothing(month_of_care, args):
    with pytest.raises(CommandError):
        call_command("draw_spotchecks", *args, stdout=io.StringIO())
    assert not SpotCheckDraw.objects.exists()
