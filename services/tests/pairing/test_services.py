"""Pairing: needs, the lifecycle (propose → accept → end), giver access and matching runs from the ORM."""

import datetime
import json
from io import StringIO

import pytest

from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from portal.models import AuditEvent, Region
from services.catalogue.selectors import categories_ensure
from services.models import MatchRun, Need, Pairing, ServiceCategory
from services.pairing import candidates, lifecycle, needs, scoring
from services.pairing import rules as pairing_rules
from services.pairing import runs as match_runs
from services.pairing import selectors as pairing_reads
from services.pairing.models import EndReason, PairingStatus
from services.tests.factories_care import OTHER_TOWNSHIP_VILLAGE, add_supporter, make_elder, make_key_elder
from services.tests.factories_pairing import accept_offers, start_pairing
from tests.factories import UserFactory
from volunteers.models import Membership, Organisation, OrganisationKind, VolunteerProfile

pytestmark = pytest.mark.django_db

VILLAGE = "640422100201"  # 大营村委会, 吉强镇
TOWNSHIP = "640422100000"
COUNTY = "640422000000"
OTHER_COUNTY_VILLAGE = "640104001002"  # 崇安社区, 兴庆区


def region(code):
    return Region.objects.get(code=code)


def cat(slug):
    return ServiceCategory.objects.get(slug=slug)


def make_giver(*, village=VILLAGE, max_elders=2, skills=("shenghuo-zhaoliao",), kind="volunteer", **profile):
    categories_ensure()
    user = UserFactory()
    if kind == "social_worker":
        profile.setdefault("qualification", "social_worker")
        profile.setdefault("certificate_number", "SW-2026-001")
    p = VolunteerProfile.objects.create(user=user, village=region(village), max_elders=max_elders, kind=kind, **profile)
    p.skills.set([cat(s) for s in skills])
    return user


def normal_elder(**fields):
    elder = make_elder(**fields)
    add_supporter(elder)
    return elder


def need(elder, slug="shenghuo-zhaoliao", **kwargs):
    categories_ensure()
    return Need.objects.create(elder=elder, category=cat(slug), **kwargs)


def proposal(elder, giver, **kwargs):
    return Pairing.objects.create(elder=elder, giver_user=giver, status=PairingStatus.PROPOSED, **kwargs)


# --- needs ------------------------------------------------------------------------------------------


def test_liaison_records_a_need_once_per_category(liaison):
    categories_ensure()
    elder = make_key_elder()
    n = needs.need_record(actor=liaison, elder=elder, category=cat("jingshen-weijie"), urgency="high", note="想念子女")
    assert n.is_open and n.recorded_by == liaison
    assert AuditEvent.objects.filter(object_type="services.need", object_id=str(n.pk), action="create").exists()
    with pytest.raises(ValidationError) as exc:
        needs.need_record(actor=liaison, elder=elder, category=cat("jingshen-weijie"))
    assert pairing_rules.NEED_DUPLICATE in exc.value.message_dict["category"]
    assert Need.objects.filter(elder=elder).count() == 1
    needs.need_close(actor=liaison, need=n)
    needs.need_record(actor=liaison, elder=elder, category=cat("jingshen-weijie"))  # a new need after closing
    with pytest.raises(ValidationError):
        needs.need_close(actor=liaison, need=n)  # replayed close


def test_need_bad_input_and_scope(liaison, township_officer, supervisor):
    categories_ensure()
    elder = make_key_elder(village=OTHER_TOWNSHIP_VILLAGE)
    with pytest.raises(ValidationError) as exc:
        needs.need_record(actor=liaison, elder=elder, category=cat("shenghuo-zhaoliao"))
    assert exc.value.messages == [str(pairing_rules.READ_ONLY)]
    mine = make_key_elder()
    with pytest.raises(ValidationError):
        needs.need_record(actor=supervisor, elder=mine, category=cat("shenghuo-zhaoliao"))
    with pytest.raises(ValidationError) as exc:
        needs.need_record(actor=liaison, elder=mine, category=cat("shenghuo-zhaoliao"), urgency="tomorrow")
    assert pairing_rules.BAD_URGENCY in exc.value.message_dict["urgency"]
    mine.status = "deceased"
    mine.save()
    with pytest.raises(ValidationError) as exc:
        needs.need_record(actor=township_officer, elder=mine, category=cat("shenghuo-zhaoliao"))
    assert exc.value.messages == [str(pairing_rules.ELDER_NOT_ACTIVE)]
    assert not Need.objects.exists()


# --- lifecycle --------------------------------------------------------------------------------------


def test_propose_accept_end_notifies_and_controls_access(township_officer, outbox):
    elder = make_key_elder()
    giver = make_giver()
    p = lifecycle.pairing_propose(
        actor=township_officer, elder=elder, giver_user=giver, categories=[cat("shenghuo-zhaoliao")]
    )
    assert p.status == PairingStatus.PROPOSED
    assert not pairing_reads.is_paired(giver, elder)
    assert list(pairing_reads.pairings_for_giver(giver)) == []

    lifecycle.pairing_accept(actor=township_officer, pairing=p)
    p.refresh_from_db()
    assert p.status == PairingStatus.OFFERED and p.confirmed_by == township_officer
    assert not pairing_reads.is_paired(giver, elder)  # nothing of the elder's shows before the volunteer says yes
    assert list(pairing_reads.pairings_for_giver(giver)) == []
    accept_offers([p])
    assert p.status == PairingStatus.ACTIVE and p.start_date == timezone.localdate()
    assert pairing_reads.is_paired(giver, elder)
    assert list(pairing_reads.pairings_for_giver(giver)) == [p]

    with pytest.raises(ValidationError) as exc:  # replayed accept
        lifecycle.pairing_accept(actor=township_officer, pairing=p)
    assert exc.value.messages == [str(pairing_rules.NOT_PROPOSED)]

    lifecycle.pairing_end(actor=township_officer, pairing=p, reason=EndReason.OFFICER, note="换人")
    p.refresh_from_db()
    assert p.status == PairingStatus.ENDED and p.end_reason == EndReason.OFFICER and p.end_date == timezone.localdate()
    assert not pairing_reads.is_paired(giver, elder)
    assert pairing_reads.is_paired(
        giver, elder, at=timezone.now()
    )  # the service-records check of a day inside the period
    assert not pairing_reads.is_paired(giver, elder, at=timezone.localdate() + datetime.timedelta(days=1))
    assert list(pairing_reads.pairings_for_giver(giver)) == []


def test_accept_sends_sms_without_elder_details(township_officer, outbox, django_capture_on_commit_callbacks):
    elder = make_key_elder(name="马秀英")
    giver = make_giver()
    p = proposal(elder, giver)
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.pairing_accept(actor=township_officer, pairing=p)
    assert len(outbox) == 1
    phone, text = outbox[0]
    assert phone == giver.phone
    assert "马秀英" not in text and "大营" in text


def test_end_needs_a_valid_reason_and_an_active_pairing(township_officer):
    p = proposal(make_key_elder(), make_giver())
    with pytest.raises(ValidationError) as exc:
        lifecycle.pairing_end(actor=township_officer, pairing=p, reason=EndReason.OFFICER)
    assert exc.value.messages == [str(pairing_rules.NOT_ACTIVE)]
    start_pairing(officer=township_officer, pairing=p)
    with pytest.raises(ValidationError) as exc:
        lifecycle.pairing_end(actor=township_officer, pairing=p, reason="<script>")
    assert pairing_rules.BAD_END_REASON in exc.value.message_dict["reason"]
    p.refresh_from_db()
    assert p.status == PairingStatus.ACTIVE


def test_reject_a_proposal(township_officer):
    p = proposal(make_key_elder(), make_giver())
    lifecycle.pairing_reject(actor=township_officer, pairing=p)
    p.refresh_from_db()
    assert p.status == PairingStatus.DECLINED and p.end_reason == EndReason.REJECTED
    with pytest.raises(ValidationError):
        lifecycle.pairing_accept(actor=township_officer, pairing=p)


def test_officer_cannot_accept_outside_scope(township_officer, liaison, supervisor):
    far = proposal(make_key_elder(village=OTHER_TOWNSHIP_VILLAGE), make_giver(village=OTHER_TOWNSHIP_VILLAGE))
    for actor in (township_officer, liaison, supervisor):
        with pytest.raises(ValidationError) as exc:
            lifecycle.pairing_accept(actor=actor, pairing=far)
        assert exc.value.messages == [str(pairing_rules.READ_ONLY)]
    far.refresh_from_db()
    assert far.status == PairingStatus.PROPOSED


def test_giver_at_capacity_cannot_take_more(township_officer):
    giver = make_giver(max_elders=1)
    first, second = proposal(make_key_elder(), giver), proposal(make_key_elder(), giver)
    accepted, refused = lifecycle.pairings_accept(actor=township_officer, pairings=[first, second])
    assert accepted == [first]
    assert refused == [(second, str(pairing_rules.GIVER_FULL))]
    second.refresh_from_db()
    assert second.status == PairingStatus.PROPOSED
    with pytest.raises(ValidationError) as exc:
        lifecycle.pairing_propose(actor=township_officer, elder=make_key_elder(), giver_user=giver)
    assert exc.value.messages == [str(pairing_rules.GIVER_FULL)]


def test_propose_refuses_bad_givers(township_officer):
    elder = make_key_elder()
    nobody = UserFactory()
    with pytest.raises(ValidationError) as exc:
        lifecycle.pairing_propose(actor=township_officer, elder=elder, giver_user=nobody)
    assert exc.value.messages == [str(pairing_rules.GIVER_NOT_REGISTERED)]
    with pytest.raises(ValidationError) as exc:
        lifecycle.pairing_propose(actor=township_officer, elder=elder)
    assert exc.value.messages == [str(pairing_rules.ONE_GIVER)]
    far = make_giver(village=OTHER_COUNTY_VILLAGE)
    with pytest.raises(ValidationError) as exc:
        lifecycle.pairing_propose(actor=township_officer, elder=elder, giver_user=far)
    assert exc.value.messages == [str(pairing_rules.GIVER_TOO_FAR)]
    giver = make_giver()
    lifecycle.pairing_propose(actor=township_officer, elder=elder, giver_user=giver)
    with pytest.raises(ValidationError) as exc:  # replayed submission
        lifecycle.pairing_propose(actor=township_officer, elder=elder, giver_user=giver)
    assert exc.value.messages == [str(pairing_rules.PAIRING_DUPLICATE)]
    assert Pairing.objects.count() == 1


def test_database_refuses_two_givers_or_none():
    from django.db import IntegrityError, transaction

    elder = make_key_elder()
    giver = make_giver()
    kind, _ = OrganisationKind.objects.get_or_create(name="老年协会", defaults={"slug": "laonian-xiehui-t"})
    org = Organisation.objects.create(
        name="协会", kind=kind, region=region(VILLAGE), contact_name="马", contact_phone="13900000001"
    )
    for kwargs in ({}, {"giver_user": giver, "giver_organisation": org}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Pairing.objects.create(elder=elder, **kwargs)


def test_organisation_pairing_is_seen_by_its_admin(township_officer, outbox, django_capture_on_commit_callbacks):
    kind, _ = OrganisationKind.objects.get_or_create(name="老年协会", defaults={"slug": "laonian-xiehui-t"})
    org = Organisation.objects.create(
        name="大营村老年协会",
        kind=kind,
        region=region(VILLAGE),
        contact_name="马",
        contact_phone="13900000009",
        status="approved",
    )
    admin = UserFactory()
    Membership.objects.create(organisation=org, user=admin, status="active", is_admin=True)
    elder = make_key_elder()
    p = lifecycle.pairing_propose(actor=township_officer, elder=elder, giver_organisation=org)
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.pairing_accept(actor=township_officer, pairing=p)
    assert list(pairing_reads.pairings_for_giver(admin)) == [p]
    assert [phone for phone, _ in outbox] == [admin.phone]  # the organisation's admins are told
    assert lifecycle.pairings_end_for_giver(giver_organisation=org, reason=EndReason.GIVER_LEFT) == 1
    assert list(pairing_reads.pairings_for_giver(admin)) == []


def test_elder_who_moves_or_dies_ends_pairings(township_officer):
    elder = make_key_elder()
    a, b = make_giver(), make_giver()
    active = start_pairing(officer=township_officer, pairing=proposal(elder, a))
    pending = proposal(elder, b)
    assert lifecycle.pairings_end_for_elder(elder=elder, reason="deceased", actor=township_officer) == 2
    active.refresh_from_db()
    pending.refresh_from_db()
    assert (active.status, active.end_reason) == (PairingStatus.ENDED, EndReason.ELDER_DECEASED)
    assert (pending.status, pending.end_reason) == (PairingStatus.DECLINED, EndReason.ELDER_DECEASED)
    assert not pairing_reads.is_paired(a, elder)
    assert lifecycle.pairings_end_for_elder(elder=elder, reason="moved") == 0
    with pytest.raises(ValueError):
        lifecycle.pairings_end_for_elder(elder=elder, reason="bogus")


def test_giver_who_leaves_ends_pairings(township_officer):
    giver = make_giver(max_elders=3)
    for _ in range(2):
        lifecycle.pairing_accept(actor=township_officer, pairing=proposal(make_key_elder(), giver))
    assert lifecycle.pairings_end_for_giver(giver_user=giver) == 2
    assert set(Pairing.objects.values_list("end_reason", flat=True)) == {EndReason.GIVER_LEFT}
    assert not pairing_reads.pairings_for_giver(giver).exists()


def test_modes_follow_from_the_set_of_pairings(township_officer):
    e1, e2, e3 = make_key_elder(), make_key_elder(), make_key_elder()
    g1, g2, g3 = make_giver(max_elders=3), make_giver(), make_giver()
    pairs = [proposal(e1, g1), proposal(e2, g1), proposal(e3, g2), proposal(e3, g3)]
    lifecycle.pairings_accept(actor=township_officer, pairings=pairs)
    accept_offers(pairs)
    modes = pairing_reads.pairing_modes(Pairing.objects.all())
    assert modes[pairs[0].pk] == pairing_rules.Mode.ONE_TO_MANY
    assert modes[pairs[2].pk] == modes[pairs[3].pk] == pairing_rules.Mode.MANY_TO_ONE
    lifecycle.pairing_end(actor=township_officer, pairing=pairs[1], reason=EndReason.OFFICER)
    lifecycle.pairing_end(actor=township_officer, pairing=pairs[3], reason=EndReason.OFFICER)
    modes = pairing_reads.pairing_modes(Pairing.objects.filter(status="active"))
    assert set(modes.values()) == {pairing_rules.Mode.ONE_TO_ONE}


# --- matching runs ----------------------------------------------------------------------------------


def test_match_run_proposes_with_reasons_and_priority_first(township_officer):
    key = make_key_elder(name="重点老人")
    need(key, "shenghuo-zhaoliao")
    normal = normal_elder(name="一般老人")
    need(normal, "shenghuo-zhaoliao")
    giver = make_giver(max_elders=1, available_days=["1"])
    run = match_runs.match_run(region=region(TOWNSHIP), user=township_officer)
    proposals = list(run.pairings.all())
    assert [(p.elder_id, p.giver_user_id, p.status) for p in proposals] == [(key.pk, giver.pk, PairingStatus.PROPOSED)]
    p = proposals[0]
    assert "same_village" in p.reasons and "covers:shenghuo-zhaoliao" in p.reasons and "priority:key" in p.reasons
    assert [c.slug for c in p.categories.all()] == ["shenghuo-zhaoliao"]
    labels = pairing_reads.reason_labels(p.reasons)
    assert "生活照料" in " ".join(labels)
    assert run.inputs["elders"] == 2 and run.inputs["givers"] == 1 and run.inputs["candidates"] == 2
    assert run.coverage_before["key_covered"] == 0 and run.coverage_after["key_covered"] == 1
    assert run.total_score == p.score


def test_rerun_replaces_open_proposals_and_keeps_them_stable(township_officer):
    elder = make_key_elder()
    need(elder)
    make_giver()
    make_giver()
    first = match_runs.match_run(region=region(TOWNSHIP), user=township_officer)
    chosen = {(r["elder"], r["giver"]) for r in first.chosen}
    second = match_runs.match_run(region=region(TOWNSHIP), user=township_officer)
    assert {(r["elder"], r["giver"]) for r in second.chosen} == chosen
    assert all("continuing" in r["reasons"] for r in second.chosen)
    assert set(first.pairings.values_list("status", "end_reason")) == {(PairingStatus.DECLINED, EndReason.SUPERSEDED)}
    assert second.pairings.filter(status=PairingStatus.PROPOSED).count() == len(chosen)


def test_match_run_bad_inputs_give_sensible_results(township_officer):
    # empty region: a village with nobody
    empty = Region.objects.filter(level="village", code__startswith=TOWNSHIP[:9]).exclude(code=VILLAGE).first()
    run = match_runs.match_run(region=empty, user=township_officer)
    assert run.status == "done" and run.chosen == [] and run.inputs["elders"] == 0
    # elders but no givers
    need(make_key_elder())
    run = match_runs.match_run(region=region(VILLAGE), user=township_officer)
    assert run.chosen == [] and run.inputs["givers"] == 0 and run.coverage_after["key_total"] == 1
    # givers with zero capacity, and one already at capacity
    make_giver(max_elders=0)
    full = make_giver(max_elders=1)
    lifecycle.pairing_accept(actor=township_officer, pairing=proposal(make_key_elder(), full))
    run = match_runs.match_run(region=region(VILLAGE), user=township_officer)
    assert run.chosen == [] and run.inputs["capacity"] == 0
    # elders with zero demand (一般, no needs) are never proposed
    normal_elder()
    roomy = make_giver(max_elders=5)
    run = match_runs.match_run(region=region(VILLAGE), user=township_officer)
    assert {r["giver"] for r in run.chosen} == {f"u{roomy.pk}"}
    assert len(run.chosen) == 2  # the two 重点 elders; one already had a giver, so wants one more


def test_officer_cannot_run_outside_scope(township_officer, liaison, supervisor):
    for actor, code in (
        (township_officer, "640422101000"),
        (township_officer, COUNTY),
        (liaison, VILLAGE),
        (supervisor, VILLAGE),
    ):
        with pytest.raises(ValidationError) as exc:
            match_runs.match_run(region=region(code), user=actor)
        assert exc.value.messages == [str(pairing_rules.OUT_OF_SCOPE)]
    assert not MatchRun.objects.exists()


def test_candidates_stay_within_the_county(county_officer):
    elder = make_key_elder()
    need(elder)
    make_giver(village=OTHER_COUNTY_VILLAGE, max_elders=5)
    run = match_runs.match_run(region=region(COUNTY), user=county_officer)
    assert run.chosen == [] and run.inputs["givers"] == 0


def test_professional_need_goes_to_a_social_worker(county_officer):
    elder = make_key_elder()
    need(elder, "jingshen-weijie", professional=True)
    make_giver(skills=("jingshen-weijie",), max_elders=3)
    worker = make_giver(skills=("jingshen-weijie",), kind="social_worker", village=OTHER_TOWNSHIP_VILLAGE)
    run = match_runs.match_run(region=region(COUNTY), user=county_officer)
    assert [r["giver"] for r in run.chosen] == [f"u{worker.pk}"]
    assert "social_worker" in run.chosen[0]["reasons"]


def test_command_prints_json_summary_last_and_applies(outbox, django_capture_on_commit_callbacks):
    elder = make_key_elder()
    need(elder)
    giver = make_giver()
    out = StringIO()
    call_command("match", "--region", TOWNSHIP, stdout=out)
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["pairs"] == 1 and summary["priority_total"] == 1
    assert summary["coverage_before"]["key_covered"] == 0 and summary["coverage_after"]["key_covered"] == 1
    assert not pairing_reads.is_paired(giver, elder)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("match", "--region", TOWNSHIP, "--apply", stdout=out)
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["applied"] is True and summary["pairs"] == 1
    assert not pairing_reads.is_paired(giver, elder)  # offered: the volunteer answers first
    accept_offers(Pairing.objects.filter(giver_user=giver))
    assert pairing_reads.is_paired(giver, elder)
    assert [p for p, _ in outbox] == [giver.phone]
    # coverage now counts the active pairing
    out = StringIO()
    call_command("match", "--region", TOWNSHIP, stdout=out)
    assert json.loads(out.getvalue().strip().splitlines()[-1])["coverage_before"]["key_covered"] == 1


@pytest.mark.parametrize("bad", ["", "64042210", "999999999999", "6404221000x0"])
def test_command_refuses_bad_region(bad):
    with pytest.raises(CommandError):
        call_command("match", "--region", bad, stdout=StringIO())


@pytest.mark.parametrize("seed", range(8))
def test_candidate_generation_agrees_with_scoring_when_nothing_is_cut(seed):
    """Without the cut per elder, the fast generation gives exactly scoring.score_candidates' edges."""
    import random

    rng = random.Random(seed)  # noqa: S311 — test data
    villages = ["640422100201", "640422100202", "640422101200", "640104001002"]
    skills = ["a", "b", "c"]
    elders = [
        scoring.ElderInput(
            id=i,
            village_code=rng.choice(villages),
            priority=rng.choice(scoring.PRIORITIES),
            needs=frozenset(rng.sample(skills, rng.randint(0, 2))),
            demand=rng.randint(0, 2),
            availability=frozenset(rng.sample(["1", "2"], rng.randint(0, 1))),
        )
        for i in range(12)
    ]
    givers = [
        scoring.GiverInput(
            id=f"u{j}",
            village_code=rng.choice(villages),
            capacity=rng.randint(0, 2),
            skills=frozenset(rng.sample(skills, rng.randint(0, 2))),
            availability=frozenset(rng.sample(["1", "2"], rng.randint(0, 2))),
            current_elders=frozenset(rng.sample(range(12), rng.randint(0, 2))),
        )
        for j in range(8)
    ]
    expected = scoring.score_candidates(elders, givers)
    ops_nearby_min, pairing_rules.NEARBY_MIN = pairing_rules.NEARBY_MIN, 10**6  # always look across the county too
    try:
        got = candidates.candidate_edges(elders, givers, per_elder=10**6)
    finally:
        pairing_rules.NEARBY_MIN = ops_nearby_min
    assert set(got) == set(expected)
    for key, edge in expected.items():
        assert (got[key].score, got[key].component, got[key].reasons) == (edge.score, edge.component, edge.reasons)


def test_candidates_of_normal_elders_are_cut_to_the_best_priority_elders_keep_all():
    normal = scoring.ElderInput(id=1, village_code=VILLAGE, priority="normal", needs=frozenset({"a"}))
    key = scoring.ElderInput(id=2, village_code=VILLAGE, priority="key", needs=frozenset({"a"}))
    givers = [
        scoring.GiverInput(id=f"u{j}", village_code=VILLAGE if j < 3 else "640422100202", skills=frozenset({"a"}))
        for j in range(6)
    ]
    got = candidates.candidate_edges([normal, key], givers, per_elder=3)
    assert sorted(g for e, g in got if e == 1) == ["u0", "u1", "u2"]  # the same-village givers score best
    assert sorted(g for e, g in got if e == 2) == [f"u{j}" for j in range(6)]  # 重点: never cut
