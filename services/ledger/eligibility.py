"""Who belongs on the ledger: the policy's definition of a rural left-behind elder, in one function.

The policy (宁夏回族自治区关于加强农村留守老年人关爱服务工作的实施意见, /work/shared/seeds):

    "农村留守老年人是指因子女全部离开县域范围外出务工或经商等半年以上，留在农村生活、身边没有赡养人或者是
    赡养人没有赡养能力的 60 周岁以上老年人。"

So an elder is on the ledger when they are 60 or older AND either all their children have been away from the
county for six months or more (no supporter at their side), or the supporter at their side cannot care for
them. Age is a hard rule (the ID number gives it); the reason for being left behind is what the village
records (`Elder.left_behind_basis`); an elder whose reason is not recorded yet stays on the ledger and is
listed for the yearly review (`review_queryset`) with those not reviewed for 12 months.

`check_eligibility` is used by the elder form, `services.ledger.actions` (every path that creates or edits an
elder) and the import (a row error with the same reason).
"""

import datetime
from dataclasses import dataclass

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from services.ledger.models import Elder, ElderStatus, LeftBehindBasis, age_on, birth_cutoff

POLICY_AGE = 60
REVIEW_MONTHS = 12

UNDER_AGE = _("Not a left-behind elder under the policy: %(age)s years old; the policy covers people aged 60 or older.")
NOT_LEFT_BEHIND = _(
    "Not a left-behind elder under the policy: the children are not all away from the county for six months or "
    "more, and there is a supporter at home able to care."
)
REVIEW_UNDER_AGE = _("Under 60 by the birth date on the ledger")
REVIEW_NO_BASIS = _("Reason for being left behind not recorded")
REVIEW_NOT_LEFT_BEHIND = _("Recorded as not left behind")
REVIEW_DUE = _("Not reviewed for 12 months")


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    reason: str = ""  # why not, in words for the person entering the data
    field: str = ""  # the field the reason is about (birth_date or left_behind_basis)


def check_eligibility(
    *, birth_date: datetime.date | None, basis: str = "", today: datetime.date | None = None
) -> Eligibility:
    """Does someone with this birth date and recorded reason belong on the ledger? (See the module docstring.)

    A blank `basis` (not recorded yet) does not refuse: the elder is listed for review instead."""
    today = today or timezone.localdate()
    if birth_date is not None:
        age = age_on(birth_date, today)
        if age < POLICY_AGE:
            return Eligibility(False, str(UNDER_AGE % {"age": age}), "birth_date")
    if basis == LeftBehindBasis.NEITHER:
        return Eligibility(False, str(NOT_LEFT_BEHIND), "left_behind_basis")
    return Eligibility(True)


def review_cutoff(today: datetime.date) -> datetime.date:
    """Reviewed on or before this day: due again (12 months; 29 February falls back to the 28th)."""
    return birth_cutoff(1, today)


def review_queryset(elders: models.QuerySet, today: datetime.date | None = None) -> models.QuerySet:
    """Active elders whose eligibility should be checked again: ineligible by the data on the ledger (under 60,
    recorded as not left behind), reason not recorded, or not reviewed for 12 months (never reviewed: counted
    from the day they were added)."""
    today = today or timezone.localdate()
    last_year = review_cutoff(today)
    under_age = Q(birth_date__gt=birth_cutoff(POLICY_AGE, today))
    stale = Q(eligibility_reviewed_on__lte=last_year) | Q(
        eligibility_reviewed_on__isnull=True, created_at__date__lte=last_year
    )
    return elders.filter(status=ElderStatus.ACTIVE).filter(
        under_age | Q(left_behind_basis__in=["", LeftBehindBasis.NEITHER]) | stale
    )


def review_reasons(elder: Elder, today: datetime.date | None = None) -> list[str]:
    """Why one elder is on the review list, in words."""
    today = today or timezone.localdate()
    reasons = []
    if elder.birth_date and age_on(elder.birth_date, today) < POLICY_AGE:
        reasons.append(str(REVIEW_UNDER_AGE))
    if elder.left_behind_basis == "":
        reasons.append(str(REVIEW_NO_BASIS))
    elif elder.left_behind_basis == LeftBehindBasis.NEITHER:
        reasons.append(str(REVIEW_NOT_LEFT_BEHIND))
    reviewed = elder.eligibility_reviewed_on or timezone.localtime(elder.created_at).date()
    if reviewed <= review_cutoff(today):
        reasons.append(str(REVIEW_DUE))
    return reasons
