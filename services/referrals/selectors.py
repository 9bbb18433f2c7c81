"""Reads of the referrals: the area's staff see their villages' referrals, a department those sent to it."""

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from portal.models import RoleKind
from portal.scoping import scope_queryset
from services.referrals import rules
from services.referrals.models import Referral, ReferralStatus


def referrals_for(user) -> QuerySet:
    base = Referral.objects.all()
    by_area = scope_queryset(user, base, region_field="village", roles=rules.AREA_READER_ROLES)
    by_department = scope_queryset(user, base, region_field="department_region", roles=[RoleKind.DEPARTMENT])
    return base.filter(Q(pk__in=by_area.values("pk")) | Q(pk__in=by_department.values("pk")))


def referral_visible(*, user, pk: int) -> Referral:
    referral = (
        referrals_for(user)
        .select_related("elder", "village", "department_region", "alert", "visit", "created_by", "acknowledged_by")
        .filter(pk=pk)
        .first()
    )
    if referral is None:
        raise Http404
    return referral


def overdue_q(now=None) -> Q:
    return ~Q(status=ReferralStatus.DONE) & Q(deadline__lt=now or timezone.now())


def counts(queryset: QuerySet, now=None) -> dict:
    """Open, overdue and done referrals (for the list and for supervision)."""
    return queryset.aggregate(
        total=Count("pk"),
        open=Count("pk", filter=~Q(status=ReferralStatus.DONE)),
        overdue=Count("pk", filter=overdue_q(now)),
        done=Count("pk", filter=Q(status=ReferralStatus.DONE)),
    )
