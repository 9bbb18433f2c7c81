"""Reads of the spot checks: what a user may see, and the figures (share confirmed, failures by provider and
village) that supervision shows."""

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from portal.scoping import scope_queryset
from services.spotchecks import rules
from services.spotchecks.models import SpotCheck, SpotCheckDraw, SpotCheckOutcome


def checks_for(user) -> QuerySet:
    return scope_queryset(user, SpotCheck.objects.all(), region_field="village", roles=rules.READER_ROLES)


def draws_for(user) -> QuerySet:
    """Draws of regions in the user's scope, and draws of a wider region that hold checks in it."""
    visible_draws = checks_for(user).values("draw_id")
    own = scope_queryset(user, SpotCheckDraw.objects.all(), region_field="region", roles=rules.READER_ROLES)
    return SpotCheckDraw.objects.filter(Q(pk__in=own.values("pk")) | Q(pk__in=visible_draws))


def check_visible(*, user, pk: int) -> SpotCheck:
    check = (
        checks_for(user)
        .select_related(
            "draw", "village", "elder", "visit__visitor", "record__service_item", "organisation", "called_by"
        )
        .filter(pk=pk)
        .first()
    )
    if check is None:
        raise Http404
    return check


def tally(queryset: QuerySet) -> dict:
    """Counts per outcome and the share confirmed among the checks answered (None when none was)."""
    counts = queryset.aggregate(
        total=Count("pk"),
        pending=Count("pk", filter=Q(outcome=SpotCheckOutcome.PENDING)),
        confirmed=Count("pk", filter=Q(outcome=SpotCheckOutcome.CONFIRMED)),
        partly=Count("pk", filter=Q(outcome=SpotCheckOutcome.PARTLY)),
        not_happened=Count("pk", filter=Q(outcome=SpotCheckOutcome.NOT_HAPPENED)),
        unreachable=Count("pk", filter=Q(outcome=SpotCheckOutcome.UNREACHABLE)),
    )
    reached = counts["confirmed"] + counts["partly"] + counts["not_happened"]
    counts["reached"] = reached
    counts["confirmed_percent"] = round(100 * counts["confirmed"] / reached) if reached else None
    return counts


def failures_by_provider(queryset: QuerySet) -> list[dict]:
    """Providers with records found not to have happened, most first."""
    return list(
        queryset.filter(outcome=SpotCheckOutcome.NOT_HAPPENED, organisation__isnull=False)
        .values("organisation_id", "organisation__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "organisation__name")[:20]
    )


def failures_by_village(queryset: QuerySet) -> list[dict]:
    return list(
        queryset.filter(outcome=SpotCheckOutcome.NOT_HAPPENED)
        .values("village_id", "village__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "village_id")[:20]
    )


def confirmed_share_by_village(queryset: QuerySet) -> dict[str, tuple[int, int]]:
    """{village code: (confirmed, reached)} — the figure behind the warning sign 关爱服务流于形式."""
    rows = (
        queryset.exclude(outcome__in=(SpotCheckOutcome.PENDING, SpotCheckOutcome.UNREACHABLE))
        .values("village_id")
        .annotate(
            confirmed=Count("pk", filter=Q(outcome=SpotCheckOutcome.CONFIRMED)),
            reached=Count("pk"),
        )
    )
    return {row["village_id"]: (row["confirmed"], row["reached"]) for row in rows}
