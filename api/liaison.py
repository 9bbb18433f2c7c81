"""Endpoints for staff in a village (the liaison) and above: the elders of their area — always masked —,
visits due and recorded, alerts listed and acknowledged. Rows come only through the scoped selectors
(`elders_for`, `visits_due`, `alerts_for`, all on `portal.scoping`)."""

import datetime

from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from django.core.exceptions import PermissionDenied
from django.http import Http404

from portal import audit
from portal.identity import mask_resident_id
from portal.models import AuditAction
from portal.phone import mask_phone
from portal.scoping import NO_ROLE, has_role
from services.care import alerts as care_alerts
from services.care import visits as care_visits
from services.care.models import AlertKind, AlertStatus, Condition, DutyKept, Mood, RiskLevel, VisitMethod
from services.ledger.models import ElderStatus, Gender
from services.ledger.selectors import elders_for
from services.pairing import lifecycle as pairing_lifecycle
from services.pairing import selectors as pairing_reads
from services.pairing.models import PairingStatus

from .auth import AccessToken
from .errors import errors
from .ids import BodyId, PathId
from .pagination import PagePagination
from .public import RegionOut


class StaffToken(AccessToken):
    """A live access token of someone holding a staff role; anyone else gets 403."""

    def authenticate(self, request, token):
        user = super().authenticate(request, token)
        if user is not None and not has_role(user):
            raise PermissionDenied(NO_ROLE)
        return user


router = Router(tags=["village liaison"], auth=StaffToken())


def _scoped_elders(request):
    return elders_for(request.user).select_related("village")


class ElderOut(Schema):
    """An elder as lists show them: the ID number and phone masked, whatever the role."""

    id: int
    name: str
    gender: Gender
    age: int
    village: RegionOut
    id_number: str
    phone: str
    priority: str
    status: ElderStatus
    last_visit_at: datetime.datetime | None

    @staticmethod
    def resolve_id_number(elder):
        return mask_resident_id(elder.id_number or "")

    @staticmethod
    def resolve_phone(elder):
        return mask_phone(elder.phone or "")


@router.get("/elders/", response={200: list[ElderOut], **errors()}, summary="Elders of my area (masked)")
@paginate(PagePagination)
def elder_list(request, village: str = Query("", pattern=r"^(\d{12})?$"), status: ElderStatus = ElderStatus.ACTIVE):
    elders = _scoped_elders(request).with_priority().filter(status=status)
    if village:
        elders = elders.filter(village_id=village)
    return elders.order_by("village_id", "name", "pk")


@router.get("/elders/{elder_id}", response={200: ElderOut, **errors()}, summary="One elder of my area (masked)")
def elder_detail(request, elder_id: PathId):
    elder = _scoped_elders(request).with_priority().filter(pk=elder_id).first()
    if elder is None:
        raise Http404
    audit.record(AuditAction.VIEW, request=request, actor=request.user, obj=elder, changes={"via": "api"})
    return elder


class DueOut(Schema):
    elder: ElderOut
    next_due: datetime.datetime | None
    open_follow_ups: int

    @staticmethod
    def resolve_elder(row):
        return row

    @staticmethod
    def resolve_open_follow_ups(row):
        return int(getattr(row, "open_follow_ups", 0) or 0)


@router.get("/visits/due", response={200: list[DueOut], **errors()}, summary="Visits due")
@paginate(PagePagination)
def visits_due(request, when: str = Query(care_visits.DUE_THIS_WEEK, pattern=r"^(overdue|week|all)$")):
    """Active elders of my area with their next visit date: `overdue`, due this `week` (default) or `all`."""
    return care_visits.visits_due(request.user, when=when).select_related("village").order_by("next_due", "pk")


class VisitIn(Schema):
    elder: int
    method: VisitMethod = VisitMethod.PHONE
    visited_at: datetime.datetime | None = None
    contact_made: bool = True
    living_conditions: Condition | None = None
    health: Condition | None = None
    mood: Mood | None = None
    family_duty: DutyKept = DutyKept.UNKNOWN
    safety_risks: str = Field("", max_length=1000)
    notes: str = Field("", max_length=2000)
    risk_level: RiskLevel = RiskLevel.NONE
    alert_kind: AlertKind | None = None
    next_visit_due: datetime.date | None = None


class VisitOut(Schema):
    id: int
    elder_id: BodyId
    method: str
    visited_at: datetime.datetime
    contact_made: bool
    risk_level: str
    alert_id: BodyId | None
    next_visit_due: datetime.date | None


@router.post("/visits/", response={201: VisitOut, **errors()}, summary="Record a visit")
def visit_create(request, payload: VisitIn):
    """Record a phone call or home visit; a high risk raises an alert (the same rules as the portal)."""
    data = payload.dict()
    elder = _scoped_elders(request).filter(pk=data.pop("elder")).first()
    if elder is None:
        raise Http404
    for name in ("living_conditions", "health", "mood", "alert_kind"):
        data[name] = data[name] or ""
    return Status(201, care_visits.visit_record(actor=request.user, elder=elder, request=request, **data))


class AlertOut(Schema):
    id: int
    reference: str
    kind: AlertKind
    status: AlertStatus
    status_label: str
    village: RegionOut
    elder_id: BodyId | None
    elder_name: str
    person_name: str
    description: str
    place: str
    reporter_phone: str
    created_at: datetime.datetime
    due_at: datetime.datetime | None

    @staticmethod
    def resolve_status_label(alert):
        return str(alert.get_status_display())

    @staticmethod
    def resolve_elder_name(alert):
        return alert.elder.name if alert.elder_id else ""

    @staticmethod
    def resolve_reporter_phone(alert):
        return mask_phone(alert.reporter_phone or "")


def _scoped_alerts(request):
    return care_alerts.alerts_for(request.user).select_related("village", "elder")


@router.get("/alerts/", response={200: list[AlertOut], **errors()}, summary="Alerts of my area")
@paginate(PagePagination)
def alert_list(request, status: AlertStatus | None = None):
    """Open alerts (or those in `status`), most urgent first."""
    alerts = _scoped_alerts(request)
    alerts = alerts.filter(status=status) if status else care_alerts.open_alerts(alerts)
    return alerts.order_by("due_at", "pk")


class AcknowledgeIn(Schema):
    note: str = Field("", max_length=1000)


@router.post("/alerts/{alert_id}/acknowledge", response={200: AlertOut, **errors()}, summary="Acknowledge an alert")
def alert_acknowledge(request, alert_id: PathId, payload: AcknowledgeIn):
    alert = _scoped_alerts(request).filter(pk=alert_id).first()
    if alert is None:
        raise Http404
    care_alerts.alert_acknowledge(actor=request.user, alert=alert, note=payload.note, request=request)
    return _scoped_alerts(request).get(pk=alert.pk)


# --- pairing proposals (结对帮扶): accepted or declined by the township or county officer over the village ---


class ProposalOut(Schema):
    id: int
    elder: ElderOut
    giver_name: str
    giver_is_organisation: bool
    score: float | None
    status: str

    @staticmethod
    def resolve_giver_name(pairing):
        if pairing.giver_organisation_id:
            return pairing.giver_organisation.name
        return pairing.giver_user.real_name if pairing.giver_user_id else ""

    @staticmethod
    def resolve_giver_is_organisation(pairing):
        return bool(pairing.giver_organisation_id)


def _scoped_pairings(request):
    return pairing_reads.pairings_for(request.user).select_related("elder__village", "giver_user", "giver_organisation")


@router.get("/pairings/proposals", response={200: list[ProposalOut], **errors()}, summary="Pairing proposals")
@paginate(PagePagination)
def proposal_list(request):
    """Proposed pairings of elders in my area, waiting for an officer (elder masked as in every list)."""
    return _scoped_pairings(request).filter(status=PairingStatus.PROPOSED).order_by("elder__village_id", "pk")


class DecisionIn(Schema):
    note: str = Field("", max_length=300)


def _proposal(request, pairing_id: PathId):
    pairing = _scoped_pairings(request).filter(pk=pairing_id).first()
    if pairing is None:
        raise Http404
    return pairing


@router.post("/pairings/{pairing_id}/accept", response={200: ProposalOut, **errors()}, summary="Accept a proposal")
def proposal_accept(request, pairing_id: PathId):
    """The officer over the village makes the pairing active; the giver is told by SMS (as on the portal)."""
    pairing = pairing_lifecycle.pairing_accept(
        actor=request.user, pairing=_proposal(request, pairing_id), request=request
    )
    return _scoped_pairings(request).get(pk=pairing.pk)


@router.post("/pairings/{pairing_id}/decline", response={200: ProposalOut, **errors()}, summary="Decline a proposal")
def proposal_decline(request, pairing_id: PathId, payload: DecisionIn):
    pairing = pairing_lifecycle.pairing_reject(
        actor=request.user, pairing=_proposal(request, pairing_id), note=payload.note, request=request
    )
    return _scoped_pairings(request).get(pk=pairing.pk)
