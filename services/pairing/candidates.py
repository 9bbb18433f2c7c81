"""The inputs of a matching run, read from the ORM into plain `services.pairing.scoring` values, the coverage of an
area (elders served and short of givers) and the candidate graph (`candidate_edges`).

Every operation is keyword-only and atomic and writes its audit event. The lifecycle:

    proposed ──accept──▶ active ──end (reason)──▶ ended
        └──reject / superseded──▶ declined

`match_run` builds the plain inputs of `services.pairing.scoring` from the ORM, solves with
`services.pairing.matching.assign` and stores a `MatchRun` with the proposals (or, with ``apply``, active
pairings). How the inputs are built:

* elders: active elders of the region; priority from `Elder.objects.with_priority()`; needs are their
  open `Need` categories (slugs), professional ones apart; **demand** = the number of givers the elder
  should have (重点 2, 关注 1, 一般 1 if they have an open need, else 0) minus the active pairings they
  already have.
* givers: people with a volunteer profile (volunteers, social workers, mutual-aid helpers) living in the
  same county as the region (candidates beyond the county are never generated); **capacity** =
  `max_elders` minus their open pairings; skills = their service categories; availability = days and
  times they gave; social worker = a qualified one (`VolunteerProfile.is_professional`).
* continuity: proposals of earlier runs that this run replaces count as "current" pairs, so running the
  matching twice proposes the same pairs unless something changed.
* pairs already open (active or proposed by hand) are not proposed again.
* organisations (一帮多: an elder association, a 互助幸福院 …) are givers too when they are approved, based
  in the county and offer places (`Organisation.pairing_capacity` > 0, set by their admins): id
  ``o<pk>``, place = their region (a village or a township), capacity = places minus open pairings,
  skills = what their kind usually offers (`ORGANISATION_KIND_SKILLS`) plus the skills of their active
  members, a social worker when one of their active members is a qualified one. They get their
  proposals, acceptance and SMS like people (the SMS goes to the organisation's admins); they can still
  be paired by hand when they offer no places."""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import Count, Q, QuerySet

from portal.models import Region
from services.ledger.models import Elder, ElderStatus, PriorityLevel
from services.pairing import rules as pairing_rules
from services.pairing import scoring
from services.pairing.models import (
    OPEN_STATUSES,
    Need,
    Pairing,
    PairingStatus,
)
from volunteers.models import Membership, MembershipStatus, Organisation, OrganisationStatus, VolunteerProfile

# --- coverage ---------------------------------------------------------------------------------------


@dataclass
class _Area:
    """What coverage needs to know about an area, read in a few queries."""

    elders: list[tuple[int, str, str]]  # (id, village code, priority)
    needs: dict[int, set[str]]  # elder → open need slugs
    covered: dict[int, set[str]]  # elder → categories of active pairings
    paired: set[int]  # elders with an active pairing
    spare: dict[str, tuple[str, int]]  # giver key → (village code, spare places)


def _read_area(prefix: str) -> _Area:
    elders = list(
        Elder.objects.active()
        .filter(village__code__startswith=prefix)
        .with_priority()
        .values_list("id", "village_id", "priority_level")
    )
    ids = Elder.objects.active().filter(village__code__startswith=prefix).values("id")
    needs: dict[int, set[str]] = defaultdict(set)
    for elder_id, slug in Need.objects.filter(elder_id__in=ids, closed_at__isnull=True).values_list(
        "elder_id", "category__slug"
    ):
        needs[elder_id].add(slug)
    active = Pairing.objects.filter(elder_id__in=ids, status=PairingStatus.ACTIVE)
    paired = set(active.values_list("elder_id", flat=True))
    covered: dict[int, set[str]] = defaultdict(set)
    for elder_id, slug in Pairing.categories.through.objects.filter(pairing__in=active).values_list(
        "pairing__elder_id", "servicecategory__slug"
    ):
        covered[elder_id].add(slug)
    profiles = list(
        VolunteerProfile.objects.filter(village__code__startswith=prefix, user__is_active=True).values_list(
            "user_id", "village_id", "max_elders"
        )
    )
    used = dict(
        Pairing.objects.filter(giver_user_id__in=[p[0] for p in profiles], status=PairingStatus.ACTIVE)
        .values_list("giver_user_id")
        .annotate(n=Count("pk"))
        .values_list("giver_user_id", "n")
    )
    spare = {f"u{uid}": (village, max(cap - used.get(uid, 0), 0)) for uid, village, cap in profiles}
    organisations = list(_offering_organisations(prefix).values_list("pk", "region_id", "pairing_capacity"))
    if organisations:
        org_used = dict(
            Pairing.objects.filter(giver_organisation_id__in=[o[0] for o in organisations], status=PairingStatus.ACTIVE)
            .values_list("giver_organisation_id")
            .annotate(n=Count("pk"))
            .values_list("giver_organisation_id", "n")
        )
        for org_id, place, places in organisations:
            spare[_giver_key(None, org_id)] = (place, max(places - org_used.get(org_id, 0), 0))
    return _Area(elders=elders, needs=needs, covered=covered, paired=paired, spare=spare)


def _coverage(area: _Area, extra: Iterable[tuple[int, str, Iterable[str]]] = ()) -> dict:
    """Totals and per-village rows; `extra`: pairs (elder id, giver key, categories) taken as active."""
    paired = set(area.paired)
    covered = {k: set(v) for k, v in area.covered.items()}
    spare = {k: list(v) for k, v in area.spare.items()}
    for elder_id, giver_key, cats in extra:
        paired.add(elder_id)
        covered.setdefault(elder_id, set()).update(cats)
        if giver_key in spare:
            spare[giver_key][1] = max(spare[giver_key][1] - 1, 0)
    rows: dict[str, Counter] = defaultdict(Counter)
    for elder_id, village, priority in area.elders:
        row = rows[village]
        row["elders"] += 1
        if priority == PriorityLevel.KEY:
            row["key_total"] += 1
            row["key_covered"] += elder_id in paired
        elif priority == PriorityLevel.ATTENTION:
            row["attention_total"] += 1
            row["attention_covered"] += elder_id in paired
        if area.needs.get(elder_id, set()) - covered.get(elder_id, set()):
            row["unmet_needs"] += 1
    for village, places in spare.values():
        if places > 0:
            rows[village]["givers_spare"] += 1
    keys = ("elders", "key_total", "key_covered", "attention_total", "attention_covered", "unmet_needs", "givers_spare")
    totals = {k: sum(r[k] for r in rows.values()) for k in keys}
    totals["villages"] = [{"code": code, **{k: rows[code][k] for k in keys}} for code in sorted(rows)]
    return totals


def coverage(region: Region) -> dict:
    """Coverage of an area now: 重点/关注 elders with an active pairing, elders with unmet needs, givers
    with spare capacity — totals and per village (`villages`: rows with `code`)."""
    return _coverage(_read_area(region.prefix))


# --- matching ---------------------------------------------------------------------------------------


def _elder_inputs(prefix: str, area: _Area) -> tuple[list[scoring.ElderInput], dict[int, str]]:
    open_counts = dict(
        Pairing.objects.filter(elder_id__in=[e[0] for e in area.elders], status=PairingStatus.ACTIVE)
        .values_list("elder_id")
        .annotate(n=Count("pk"))
        .values_list("elder_id", "n")
    )
    professional: dict[int, set[str]] = defaultdict(set)
    for elder_id, slug in Need.objects.filter(
        elder__village__code__startswith=prefix,
        elder__status=ElderStatus.ACTIVE,
        closed_at__isnull=True,
        professional=True,
    ).values_list("elder_id", "category__slug"):
        professional[elder_id].add(slug)
    inputs = []
    for elder_id, village, priority in area.elders:
        needs = area.needs.get(elder_id, set())
        target = pairing_rules.TARGET_GIVERS[priority] if (priority != PriorityLevel.NORMAL or needs) else 0
        inputs.append(
            scoring.ElderInput(
                id=elder_id,
                village_code=village,
                priority=priority,
                needs=frozenset(needs),
                professional_needs=frozenset(professional.get(elder_id, ())),
                demand=max(target - open_counts.get(elder_id, 0), 0),
            )
        )
    return inputs, {e[0]: e[1] for e in area.elders}


def _giver_key(user_id: int | None, organisation_id: int | None) -> str:
    return f"u{user_id}" if user_id else f"o{organisation_id}"


def _giver_fields(key: str) -> dict:
    """The Pairing fields of a giver id in matching ("u12" → giver_user_id=12, "o3" → giver_organisation_id=3)."""
    return {"giver_user_id": int(key[1:])} if key[0] == "u" else {"giver_organisation_id": int(key[1:])}


def _offering_organisations(prefix: str) -> QuerySet:
    """Approved organisations based in the area that offer places to the matching."""

    return Organisation.objects.filter(
        region__code__startswith=prefix, status=OrganisationStatus.APPROVED, pairing_capacity__gt=0
    )


def _giver_inputs(county_prefix: str, continuing: dict[str, set[int]], replaced: Q) -> list[scoring.GiverInput]:
    """People with a volunteer profile and organisations offering places, in the county. `replaced`: the
    proposals this run replaces (they do not take a place)."""

    # Not yet vetted: a membership still waiting for approval and none accepted (a giver without any
    # organisation stays a candidate).
    pending = Membership.objects.filter(status=MembershipStatus.PENDING).values("user_id")
    vetted = Membership.objects.filter(status=MembershipStatus.ACTIVE).values("user_id")
    profiles = list(
        VolunteerProfile.objects.filter(village__code__startswith=county_prefix, user__is_active=True)
        .filter(~Q(user_id__in=pending) | Q(user_id__in=vetted))
        .values_list(
            "pk",
            "user_id",
            "village_id",
            "kind",
            "max_elders",
            "qualification",
            "certificate_number",
            "available_days",
            "available_times",
        )
    )
    skills: dict[int, set[str]] = defaultdict(set)
    for profile_id, slug in VolunteerProfile.skills.through.objects.filter(
        volunteerprofile__village__code__startswith=county_prefix
    ).values_list("volunteerprofile_id", "servicecategory__slug"):
        skills[profile_id].add(slug)
    taken = Pairing.objects.filter(status__in=OPEN_STATUSES).exclude(replaced)
    used = dict(
        taken.filter(giver_user_id__in=[p[1] for p in profiles])
        .values_list("giver_user_id")
        .annotate(n=Count("pk"))
        .values_list("giver_user_id", "n")
    )
    givers = []
    for pk, user_id, village, kind, max_elders, qualification, certificate, days, times in profiles:
        key = _giver_key(user_id, None)
        givers.append(
            scoring.GiverInput(
                id=key,
                village_code=village,
                capacity=max(max_elders - used.get(user_id, 0), 0),
                skills=frozenset(skills.get(pk, ())),
                is_social_worker=kind == "social_worker" and bool(qualification and certificate),
                availability=frozenset([*(days or []), *(times or [])]),
                current_elders=frozenset(continuing.get(key, ())),
            )
        )

    organisations = list(
        _offering_organisations(county_prefix).values_list("pk", "region_id", "kind__slug", "pairing_capacity")
    )
    if not organisations:
        return givers
    org_ids = [o[0] for o in organisations]
    org_skills: dict[int, set[str]] = defaultdict(set)
    org_social_worker: set[int] = set()
    for org_id, slug, kind, qualification, certificate in Membership.objects.filter(
        organisation_id__in=org_ids, status=MembershipStatus.ACTIVE, user__is_active=True
    ).values_list(
        "organisation_id",
        "user__volunteer_profile__skills__slug",
        "user__volunteer_profile__kind",
        "user__volunteer_profile__qualification",
        "user__volunteer_profile__certificate_number",
    ):
        if slug:
            org_skills[org_id].add(slug)
        if kind == "social_worker" and qualification and certificate:
            org_social_worker.add(org_id)
    org_used = dict(
        taken.filter(giver_organisation_id__in=org_ids)
        .values_list("giver_organisation_id")
        .annotate(n=Count("pk"))
        .values_list("giver_organisation_id", "n")
    )
    for org_id, place, kind_slug, places in organisations:
        key = _giver_key(None, org_id)
        givers.append(
            scoring.GiverInput(
                id=key,
                village_code=place,
                capacity=max(places - org_used.get(org_id, 0), 0),
                skills=frozenset(pairing_rules.ORGANISATION_KIND_SKILLS.get(kind_slug, ()))
                | org_skills.get(org_id, set()),
                is_social_worker=org_id in org_social_worker,
                current_elders=frozenset(continuing.get(key, ())),
            )
        )
    return givers


class Edge(NamedTuple):
    """A candidate pair's score for `assign`, its priority-free points and its reason codes
    (the fields of `scoring.ScoredEdge`, as a plain tuple: a county has ~200,000 of them)."""

    score: int
    component: int
    reasons: tuple[str, ...]


def candidate_edges(
    elders: list[scoring.ElderInput],
    givers: list[scoring.GiverInput],
    *,
    per_elder: int | None = None,
    progress=None,
    county_wide: frozenset = frozenset(),
    open_givers: frozenset | None = None,
) -> dict[tuple, Edge]:
    """Candidate pairs with their scores, as `scoring.score_candidates` gives them, but generated near
    the elder first so that a county stays fast.

    An elder with needs is scored only against givers who list one of those needs (or already serve
    them: continuity) — givers who cover nothing are never candidates anyway; an elder without needs
    against every giver. The priority tier weights are computed, as `scoring` does, from the largest
    possible number of pairs among the candidates kept. (A county of 5,000 elders and 1,500 givers has
    ~4 million same-county pairs; this keeps a few hundred thousand.)

    Which givers an elder is scored against (the candidate graph): givers of the elder's own township
    first; the rest of the county only when the township gives fewer than `NEARBY_MIN` candidates.
    What is then cut, and why the priority guarantee survives the cut:

    * 一般 (normal) elders keep only their `per_elder` best candidates by the priority-free points
      (distance, skills, availability, continuity).
    * 重点 and 关注 elders are never cut: they keep every candidate.

    Every candidate pair of a 重点 or 关注 elder is therefore in the graph given to `assign`. Take an
    optimum of the uncut graph and keep only its 重点/关注 pairs: that is still a feasible solution of the
    cut graph (dropping pairs frees places, never uses them) with the same numbers of 重点 and 关注 pairs.
    The tier weights make `assign` maximise the number of 重点 pairs first, then of 关注 pairs (proof in
    `services.pairing.scoring`), so the optimum of the cut graph covers exactly as many 重点 and 关注 places as the
    optimum of the uncut graph: an unpaired priority elder is never left out while a lower-priority elder
    holds a giver it is a candidate for. Only the 一般 elders' share of the places left may differ.
    Cutting on the giver side instead (each giver keeps its best K elders, priority first) is not enough:
    a giver may drop the one priority elder that has no other giver while keeping K priority elders who
    are all served elsewhere.

    The township-first rule is part of the candidate definition for every elder: a priority elder whose
    township offers `NEARBY_MIN` candidates or more is not scored against the rest of the county. Making
    priority elders county-wide was measured on the benchmark county (5,000 elders, 1,500 givers): 3.9 M
    candidate pairs instead of 0.4 M and several times the 15 s budget, so it is not done for all of them.
    Instead `match_run` repairs: the priority elders its first solution leaves short are passed back in
    `county_wide` (ids of elders to score against the whole county whatever their township offers, but
    outside their township only against `open_givers`, the givers that could still make room for them)
    and the matching is solved again (see `_solve`).

    `progress`, if given, is called with the share of elders done (0…1) every few hundred elders.
    """
    per_elder = per_elder or pairing_rules.CANDIDATES_PER_ELDER
    township_all: dict[str, list] = defaultdict(list)
    county_all: dict[str, list] = defaultdict(list)
    township_skill: dict[tuple[str, str], list] = defaultdict(list)
    county_skill: dict[tuple[str, str], list] = defaultdict(list)
    continuing: dict[object, list] = defaultdict(list)
    for giver in givers:
        if giver.capacity <= 0:
            continue
        township, county = giver.village_code[:9], giver.village_code[:6]
        township_all[township].append(giver)
        county_all[county].append(giver)
        for skill in giver.skills:
            township_skill[(township, skill)].append(giver)
            county_skill[(county, skill)].append(giver)
        for elder_id in giver.current_elders:
            continuing[elder_id].append(giver)

    def pool(elder, needs, index_all, index_skill, key):
        if not needs:
            return index_all.get(key, ())
        chosen = {g.id: g for need in needs for g in index_skill.get((key, need), ())}
        for g in continuing.get(elder.id, ()):
            chosen.setdefault(g.id, g)
        return chosen.values()

    def score(elder, pool_, township, outside):
        found = []
        for giver in pool_:
            if (giver.village_code[:9] == township) == outside:
                continue
            if outside and giver.village_code[:6] != elder.village_code[:6]:
                continue
            scored = scoring.component_score(elder, giver)
            if scored is not None:
                found.append((-scored[0], str(giver.id), giver.id, scored[1]))
        return found

    # Elders of one village with the same needs and time slots have the same candidates, except for
    # continuity: score each such group once, then redo only the givers an elder already had. Givers
    # outside the township score the same for every village of that township: one list per township.
    inside_cache: dict[tuple, list] = {}
    outside_cache: dict[tuple, list] = {}
    by_signature: dict[tuple, list] = {}
    kept: list[tuple[scoring.ElderInput, object, int, tuple[str, ...]]] = []
    wanting = [e for e in elders if e.demand > 0]
    step = max(len(wanting) // 20, 200)
    for done, elder in enumerate(wanting):
        if progress is not None and done % step == 0:
            progress(done / len(wanting))
        needs = set(elder.needs) | set(elder.professional_needs)
        township, county = elder.village_code[:9], elder.village_code[:6]
        wide = elder.priority != scoring.NORMAL
        whole_county = elder.id in county_wide
        labels = (frozenset(elder.needs), frozenset(elder.professional_needs), frozenset(elder.availability))
        signature = (elder.village_code, whole_county, *labels)
        found = by_signature.get(signature)
        if found is None:
            anyone = dataclasses.replace(elder, id=pairing_rules._NOBODY)
            inside = inside_cache.get((elder.village_code, *labels))
            if inside is None:
                inside = score(anyone, pool(anyone, needs, township_all, township_skill, township), township, False)
                inside_cache[(elder.village_code, *labels)] = inside
            found = list(inside)
            if whole_county and len(found) >= pairing_rules.NEARBY_MIN and open_givers is not None:
                # the repair pass: only the givers of the rest of the county that could make room
                found += [
                    f
                    for f in score(anyone, pool(anyone, needs, county_all, county_skill, county), township, True)
                    if f[2] in open_givers
                ]
            elif len(found) < pairing_rules.NEARBY_MIN or whole_county:
                outside = outside_cache.get((township, *labels))
                if outside is None:
                    outside = score(anyone, pool(anyone, needs, county_all, county_skill, county), township, True)
                    outside_cache[(township, *labels)] = outside
                found += outside
            found.sort()
            by_signature[signature] = found
        mine = continuing.get(elder.id)
        if mine:
            again = {g.id for g in mine}
            redone = [
                (-scored[0], str(g.id), g.id, scored[1])
                for g in mine
                if g.village_code[:6] == county and (scored := scoring.component_score(elder, g)) is not None
            ]
            found = sorted([f for f in found if f[2] not in again] + redone)
        if not wide:
            found = found[:per_elder]
        kept.extend((elder, giver_id, -points, reasons) for points, _key, giver_id, reasons in found)

    degree_elder: Counter = Counter(e.id for e, *_ in kept)
    degree_giver: Counter = Counter(g for _, g, *_ in kept)
    demand = {e.id: e.demand for e in elders}
    capacity = {g.id: g.capacity for g in givers}
    max_pairs = min(
        sum(min(demand[e], d) for e, d in degree_elder.items()),
        sum(min(capacity[g], d) for g, d in degree_giver.items()),
    )
    weights = scoring.tier_weights(max_pairs)
    prefix = {p: (scoring.REASON_PRIORITY.format(priority=p),) for p in scoring.PRIORITIES if p != scoring.NORMAL}
    prefix[scoring.NORMAL] = ()
    edges = {}
    for elder, giver_id, points, reasons in kept:
        edges[(elder.id, giver_id)] = Edge(weights[elder.priority] + points, points, prefix[elder.priority] + reasons)
    if progress is not None:
        progress(1.0)
    return edges
