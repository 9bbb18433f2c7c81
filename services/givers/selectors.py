"""What the portal knows of a giver across the services: their confirmed hours and open pairings, for their own
page and for the staff's list of givers (the giver's own data — profile, organisations, sign-ups — is in
volunteers.profiles)."""

from django.db.models import Count, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest

from portal.scoping import scope_queryset
from services.pairing.models import OPEN_STATUSES, Pairing
from services.records.models import RecordKind, ServiceRecord
from services.records.selectors import giver_totals
from volunteers.models import VolunteerProfile
from volunteers.profiles import STAFF_LIST_ROLES


def giver_service_hours(*, user) -> float:
    """Service hours so far, from confirmed service records.

    Only confirmed (or settled) volunteer service counts, reversals subtracted (services.records.actions).
    """
    return giver_totals(user=user)["volunteer_minutes"] / 60


def profiles_for_staff(user) -> QuerySet[VolunteerProfile]:
    """Giver profiles whose home village is in `user`'s scope, each with its open pairings, spare pairing
    capacity and confirmed volunteer minutes (subqueries: sorting and filtering on them stays one query).

    Open pairings are proposed or active ones, as the matching counts them (services.pairing.lifecycle); minutes
    are counted the way the giver's own totals count them (confirmed or settled, reversals subtracted).
    """
    open_pairings = (
        Pairing.objects.filter(giver_user=OuterRef("user_id"), status__in=OPEN_STATUSES)
        .order_by()
        .values("giver_user")
        .annotate(n=Count("pk"))
        .values("n")
    )
    minutes = (
        ServiceRecord.objects.counted()
        .filter(giver=OuterRef("user_id"), kind=RecordKind.VOLUNTEER)
        .order_by()
        .values("giver")
        .annotate(m=Sum(F("minutes") * F("sign")))
        .values("m")
    )
    queryset = (
        VolunteerProfile.objects.select_related("user", "village__parent")
        .annotate(
            open_pairings=Coalesce(Subquery(open_pairings), Value(0)),
            volunteer_minutes=Coalesce(Subquery(minutes), Value(0)),
        )
        .annotate(spare=Greatest(F("max_elders") - F("open_pairings"), Value(0)))
        # village, then registration order: read off the village index, so only the page's rows run the
        # subqueries (ordering by name would sort every giver of a county, subqueries and all, first)
        .order_by("village_id", "pk")
    )
    return scope_queryset(user, queryset, region_field="village", roles=STAFF_LIST_ROLES)


def giver_pairings_for_staff(*, viewer, giver) -> tuple[list, int]:
    """The giver's open pairings with elders in the viewer's scope, and how many others lie outside it.

    Elders are personal data of their own village: a liaison sees that the giver is paired elsewhere,
    not with whom."""
    pairings = Pairing.objects.filter(giver_user=giver, status__in=OPEN_STATUSES)
    visible = list(
        scope_queryset(viewer, pairings, region_field="elder__village")
        .select_related("elder__village")
        .order_by("elder__village_id", "elder__name")
    )
    return visible, pairings.count() - len(visible)
