"""Pairing's messages, constants and permission checks: who may confirm pairings in a village or run the matching."""

from __future__ import annotations

import datetime
import logging

from django.utils.translation import gettext_lazy as _

from portal.models import Region, RoleKind
from portal.scoping import can_write, has_role, in_scope
from services.ledger.models import ElderStatus, PriorityLevel
from services.pairing.models import (
    EndReason,
)

# --- messages (the tests reuse them) ----------------------------------------------------------------

READ_ONLY = _("Your role may not change pairings here.")
OUT_OF_SCOPE = _("This region is outside your area.")
ELDER_NOT_ACTIVE = _("This elder is no longer on the active ledger.")
NEED_DUPLICATE = _("This elder already has an open need in this category.")
NEED_ALREADY_CLOSED = _("This need is already closed.")
BAD_URGENCY = _("Choose how urgent the need is.")
ONE_GIVER = _("Choose exactly one giver: a person or an organisation.")
GIVER_NOT_REGISTERED = _("This person has no volunteer profile; they cannot be paired.")
GIVER_INACTIVE = _("This giver's account is closed.")
ORGANISATION_NOT_APPROVED = _("This organisation is not approved; it cannot be paired.")
GIVER_TOO_FAR = _("The giver lives outside the elder's county.")
GIVER_FULL = _("This giver already has as many elders as they can take.")
PAIRING_DUPLICATE = _("This elder and giver are already paired or proposed.")
NOT_PROPOSED = _("This pairing is no longer a proposal; it was accepted or declined already.")
NOT_ACTIVE = _("This pairing is not active.")
BAD_END_REASON = _("Choose why the pairing ends.")
NOTHING_CHOSEN = _("Choose at least one proposal.")
RUN_FAILED = _("The matching could not be completed: {error}")
RUN_BUSY = _("A matching run for this area (or an area that overlaps it) is still working; wait until it is done.")
BAD_CAPACITY = _("Give a whole number of elders, 0 or more.")
GIVER_PENDING = _(
    "This volunteer's membership is still waiting for the organisation's approval; they cannot be paired yet."
)
OFFER_ANSWERED = _("This offer has been answered already.")
OFFER_EXPIRED = _("This offer has expired; the place goes to the next matching run.")
RUN_STALE = _("The run stopped without finishing (the server was restarted?). Run the matching again.")

# Who may run matching and accept, reject or end pairings: the officers over the elder's village.
OFFICER_ROLES = (RoleKind.TOWNSHIP_OFFICER, RoleKind.COUNTY_OFFICER, RoleKind.REGION_ADMIN)
# Reasons an officer may give by hand (the others are set by the system).
OFFICER_END_REASONS = (EndReason.OFFICER, EndReason.GIVER_LEFT, EndReason.ELDER_MOVED, EndReason.ELDER_DECEASED)
# Elder status → why the pairings end.
ELDER_STATUS_REASON = {
    ElderStatus.MOVED: EndReason.ELDER_MOVED,
    ElderStatus.DECEASED: EndReason.ELDER_DECEASED,
    ElderStatus.NOT_LEFT_BEHIND: EndReason.ELDER_NOT_LEFT_BEHIND,
}
# Givers an elder should have by priority (一般 only when they have an open need).
TARGET_GIVERS = {PriorityLevel.KEY: 2, PriorityLevel.ATTENTION: 1, PriorityLevel.NORMAL: 1}
# Candidates kept per elder (the best by distance, skills, availability, continuity).
CANDIDATES_PER_ELDER = 50
_NOBODY = object()  # stands for any elder of a group: serves nobody yet
# Look beyond the elder's township only when it offers fewer candidates than this.
NEARBY_MIN = 10
# Keep every candidate's score in the run when there are at most this many; else a summary.
KEEP_ALL_SCORES = 2000

SMS_PAIRED = _(
    "You have been paired with an elder in {village} (结对帮扶). Sign in to the care portal to see how to reach them."
)
SMS_OFFER = _("Would you help an elder in {village} (结对帮扶)? Please accept or decline by {deadline}: {url}")
SMS_OFFERS = _("You are asked to help {count} elders (结对帮扶). Please accept or decline by {deadline}: {url}")
SMS_ENDED = _("Your pairing with an elder in {village} has ended. Thank you for your care.")
SMS_PAIRED_MANY = _("You have been paired with elders (结对帮扶). Sign in to the care portal to see them.")

logger = logging.getLogger(__name__)

# A queued or running run older than this is taken as dead (its worker was restarted) and marked failed.
RUN_STALE_AFTER = datetime.timedelta(minutes=10)
RUN_START_ATTEMPTS = 5
# The stages a run goes through (stored as the key in MatchRun.stage) and what the page shows.
RUN_STAGES = {
    "queued": _("Waiting to start"),
    "reading": _("Reading elders, needs and givers"),
    "scoring": _("Scoring the possible pairs"),
    "solving": _("Finding the best set of pairs"),
    "saving": _("Saving the proposals"),
    "done": _("Done"),
    "failed": _("Failed"),
}
# What an organisation of a kind usually offers (its members' own skills are added to this).
ORGANISATION_KIND_SKILLS = {
    "laonian-xiehui": ("jingshen-weijie", "anquan-jianhu", "wenti-yule"),  # 老年协会: visits, watch, recreation
    "zhiyuan-fuwudui": ("shenghuo-zhaoliao", "jingshen-weijie"),  # 志愿服务队
    "shehui-gongzuozhan": ("jingshen-weijie", "quanyi-weihu"),  # 社会工作站
    "weilao-fuwu-jigou": ("shenghuo-zhaoliao", "jiankang-guanli", "kangfu-huli"),  # 为老服务机构
    "huzhu-xingfuyuan": ("shenghuo-zhaoliao", "jingshen-weijie", "wenti-yule"),  # 互助幸福院
    "nongcun-laofanzhuo": ("shenghuo-zhaoliao",),  # 农村老饭桌
}


class Mode:
    """一帮一 / 多帮一 / 一帮多, read from the set of active pairings."""

    ONE_TO_ONE = "one_to_one"
    MANY_TO_ONE = "many_to_one"
    ONE_TO_MANY = "one_to_many"
    LABELS = {
        ONE_TO_ONE: _("One helps one (一帮一)"),
        MANY_TO_ONE: _("Many help one (多帮一)"),
        ONE_TO_MANY: _("One helps many (一帮多)"),
    }


# --- permissions and selectors ----------------------------------------------------------------------


def can_confirm(user, village_code: str) -> bool:
    """May the user accept, reject or end pairings of elders in this village (an officer over it)?"""
    if getattr(user, "is_superuser", False):
        return True
    return can_write(user) and in_scope(user, village_code, roles=OFFICER_ROLES)


def can_run(user, region: Region) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    return can_write(user) and in_scope(user, region, roles=OFFICER_ROLES)


def can_run_somewhere(user) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    return can_write(user) and has_role(user, *OFFICER_ROLES)
