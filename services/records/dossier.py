"""The volunteer record (志愿服务记录): reading it whole, entering training/awards/evaluations, corrections.

Who sees what:
- the volunteer sees their whole record, the ID number unmasked (it is theirs);
- a recording unit (an organisation's admin) sees, for an active member, what *it* recorded: the member's
  service under the organisation and the training, awards and evaluations it entered, with the ID masked.
  Another unit's entries are not its business.
Who corrects what: the unit that recorded the entry — the organisation's admins, or for service vouched for
by the village liaison without an organisation, that village's liaison (services.records.selectors.may_reverse).
"""

import datetime

import tablib

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal import audit
from portal.exports import safe_dataset
from portal.identity import mask_resident_id
from portal.models import AuditAction, RoleKind
from portal.scoping import can_write, scope_queryset
from services.records import actions as record_actions
from services.records import rules as record_rules
from services.records.certificates import _unit_of  # the one definition of "recording unit and person in charge"
from services.records.models import LOCKED_STATUSES, RecordKind, RecordStatus, ServiceRecord, hours_display
from volunteers.models import Membership, MembershipStatus, Organisation, VolunteerProfile
from volunteers.models_record import (
    MAX_TRAINING_HOURS,
    Award,
    CorrectionRequest,
    CorrectionStatus,
    CorrectionTarget,
    Evaluation,
    Training,
)

IN_FUTURE = _("The date cannot be in the future.")
TOO_OLD = _("The date is too long ago; check the year.")
HOURS_RANGE = _("Training hours must be more than 0 and at most %(max)s.")
NOT_A_MEMBER = _("%(name)s is not an active member of %(organisation)s.")
NOT_RECORDING_UNIT = _("Only the admins of an organisation enter training, awards and evaluations for its members.")
NOT_YOURS = _("You can ask for corrections of your own record only.")
NOT_CORRECTABLE = _(
    "This service record is still waiting for confirmation: change it yourself, or ask whoever entered it."
)
ALREADY_PENDING = _("A correction of this entry is already waiting for the recording unit.")
ALREADY_DECIDED = _("This correction request has already been decided.")
NOT_DECIDER = _("Only the unit that recorded this entry decides on its correction.")
REASON_REQUIRED = _("Give the reason, so the volunteer knows why.")
NO_UNIT = _("Choose the organisation that should correct your personal details.")
ENTRY_NOT_FOUND = _("This entry was not found in your record.")
CORRECTION_REVERSAL = _("Correction request #%(pk)s: %(wrong)s")

EARLIEST = datetime.date(1950, 1, 1)


# --- checks shared by the forms and the services ---------------------------------------------------


def check_date(day: datetime.date | None) -> None:
    if day is None:
        return
    if day > timezone.localdate():
        raise ValidationError({"date": ValidationError(IN_FUTURE, code="in_future")})
    if day < EARLIEST:
        raise ValidationError({"date": ValidationError(TOO_OLD, code="too_old")})


def check_training_hours(value) -> None:
    if value is None or value <= 0 or value > MAX_TRAINING_HOURS:
        raise ValidationError(
            {"hours": ValidationError(HOURS_RANGE, code="hours_range", params={"max": MAX_TRAINING_HOURS})}
        )


# --- who is the recording unit ---------------------------------------------------------------------


def admin_organisations(user) -> QuerySet:
    if not getattr(user, "is_authenticated", False):
        return Organisation.objects.none()
    return Organisation.objects.filter(
        memberships__user=user, memberships__is_admin=True, memberships__status=MembershipStatus.ACTIVE
    ).order_by("name")


def is_active_member(user, organisation) -> bool:
    return Membership.objects.filter(user=user, organisation=organisation, status=MembershipStatus.ACTIVE).exists()


def member_for_admin(*, actor, organisation_pk: int, user_pk: int):
    """(organisation, member) when the actor runs the organisation and the user is its active member; else 404."""
    organisation = admin_organisations(actor).filter(pk=organisation_pk).first()
    if organisation is None:
        raise Http404
    membership = (
        Membership.objects.filter(organisation=organisation, user_id=user_pk, status=MembershipStatus.ACTIVE)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise Http404
    return organisation, membership.user


# --- reading the record ----------------------------------------------------------------------------

RECORD_RELATED = ("service_item__category", "organisation", "region", "activity", "elder", "confirmed_by")


def _service_rows(records) -> list[dict]:
    rows = []
    for record in records:
        unit, person = _unit_of(record)
        rows.append(
            {"record": record, "unit": unit, "person": person, "hours": hours_display(record.sign * record.minutes)}
        )
    return rows


SERVICE_PAGE = 50


def dossier(*, user, organisation=None, unmasked: bool = False, page: str | int | None = None) -> dict:
    """The record of one volunteer; with `organisation`, only what that unit recorded.

    `page`: the service list is paginated (SERVICE_PAGE rows, newest first) for the web page; None gives
    every row (the export). The totals always cover every record. A constant number of queries.
    """
    profile = VolunteerProfile.objects.filter(user=user).select_related("village__parent__parent").first()
    skills = list(profile.skills.order_by("sort_order", "name").values_list("name", flat=True)) if profile else []
    records = ServiceRecord.objects.filter(giver=user, kind=RecordKind.VOLUNTEER).exclude(status=RecordStatus.REJECTED)
    entries = {"trainings": Training.objects, "awards": Award.objects, "evaluations": Evaluation.objects}
    if organisation is not None:
        records = records.filter(organisation=organisation)
        entries = {key: manager.filter(organisation=organisation) for key, manager in entries.items()}
    totals = records.aggregate(
        counted=Coalesce(Sum(F("minutes") * F("sign"), filter=Q(status__in=LOCKED_STATUSES)), 0),
        pending=Coalesce(Sum("minutes", filter=Q(status=RecordStatus.SUBMITTED)), 0),
    )
    categories = list(
        records.filter(status__in=LOCKED_STATUSES, sign=1)
        .order_by("service_item__category__sort_order")
        .values_list("service_item__category__name", flat=True)
        .distinct()
    )
    listed = records.select_related(*RECORD_RELATED).order_by("-start", "-pk")
    page_obj = None
    if page is not None:
        page_obj = Paginator(listed, SERVICE_PAGE).get_page(page)
        listed = page_obj.object_list
    resident_id = profile.resident_id if profile else ""
    return {
        "volunteer": user,
        "profile": profile,
        "area": _area(profile),
        "skills": skills,
        "categories": list(dict.fromkeys(categories)),
        "resident_id": resident_id if unmasked else mask_resident_id(resident_id),
        "services": _service_rows(listed),
        "page_obj": page_obj,
        "total_hours": hours_display(totals["counted"]),
        "pending_hours": hours_display(totals["pending"]),
        "trainings": list(entries["trainings"].filter(volunteer=user).select_related("organisation", "recorded_by")),
        "awards": list(entries["awards"].filter(volunteer=user).select_related("organisation", "recorded_by")),
        "evaluations": list(
            entries["evaluations"].filter(volunteer=user).select_related("organisation", "recorded_by")
        ),
        "organisation": organisation,
    }


def _area(profile) -> str:
    if profile is None:
        return ""
    names, region = [], profile.village
    while region is not None and len(names) < 3:
        names.append(region.name)
        region = region.parent if region.parent_id else None
    return "".join(reversed(names))


def _d(value) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


def export_xlsx(data: dict) -> bytes:
    """The record as a workbook: one sheet per part (personal details, service, training, awards, evaluations)."""
    user, profile = data["volunteer"], data["profile"]
    personal = tablib.Dataset(title=gettext("Personal details"), headers=[gettext("Item"), gettext("Value")])
    for label, value in (
        (gettext("Name"), user.real_name),
        (gettext("Sex"), profile.get_sex_display() if profile and profile.sex else ""),
        (gettext("Birth date"), _d(profile.birth_date) if profile else ""),
        (gettext("Resident ID number"), data["resident_id"]),
        (gettext("Area"), data["area"]),
        (gettext("Contact"), user.phone),
        (gettext("Skills"), "、".join(data["skills"])),
        (gettext("Service categories"), "、".join(data["categories"])),
        (gettext("Confirmed volunteer hours"), data["total_hours"]),
    ):
        personal.append([label, value or ""])
    service = tablib.Dataset(
        title=gettext("Service"),
        headers=[
            gettext("Activity or elder"),
            gettext("Date"),
            gettext("Place"),
            gettext("What was done"),
            gettext("Hours"),
            gettext("Status"),
            gettext("Recording unit"),
            gettext("Person in charge"),
        ],
    )
    for row in data["services"]:
        record = row["record"]
        service.append(
            [
                record.target_name,
                timezone.localtime(record.start).date().isoformat(),
                record.place,
                record.content,
                row["hours"],
                gettext("Reversal") if record.is_reversal else record.get_status_display(),
                row["unit"],
                row["person"],
            ]
        )
    training = tablib.Dataset(
        title=gettext("Training"),
        headers=[gettext("Training"), gettext("Content"), gettext("Hours"), gettext("Organised by"), gettext("Date")],
    )
    for t in data["trainings"]:
        training.append([t.name, t.content, str(t.hours), t.organiser, t.date.isoformat()])
    awards = tablib.Dataset(title=gettext("Awards"), headers=[gettext("Award"), gettext("Date"), gettext("Granted by")])
    for a in data["awards"]:
        awards.append([a.name, a.date.isoformat(), a.granted_by])
    evaluations = tablib.Dataset(
        title=gettext("Evaluations"),
        headers=[gettext("Rating"), gettext("Date"), gettext("By whom"), gettext("Comment")],
    )
    for e in data["evaluations"]:
        evaluations.append(
            [e.get_rating_display(), e.date.isoformat(), f"{e.organisation.name} {e.recorded_by}", e.comment]
        )
    book = tablib.Databook([safe_dataset(d) for d in (personal, service, training, awards, evaluations)])
    return book.export("xlsx")


# --- entering training, awards, evaluations --------------------------------------------------------


def _check_unit(actor, organisation, volunteer) -> None:
    if not admin_organisations(actor).filter(pk=organisation.pk).exists():
        raise PermissionDenied(NOT_RECORDING_UNIT)
    if not is_active_member(volunteer, organisation):
        raise ValidationError(
            NOT_A_MEMBER, code="not_member", params={"name": str(volunteer), "organisation": organisation.name}
        )


ENTRY_MODELS = {"training": Training, "award": Award, "evaluation": Evaluation}


def _validate(entry) -> None:
    check_date(entry.date)
    if isinstance(entry, Training):
        check_training_hours(entry.hours)
    entry.full_clean(exclude=["volunteer", "organisation", "recorded_by"])


@transaction.atomic
def entry_create(*, kind: str, actor, organisation, volunteer, request=None, **fields):
    """Enter one training, award or evaluation for a member (by the organisation's admin)."""
    model = ENTRY_MODELS[kind]
    _check_unit(actor, organisation, volunteer)
    entry = model(volunteer=volunteer, organisation=organisation, recorded_by=actor, **fields)
    _validate(entry)
    entry.save()
    audit.record(AuditAction.CREATE, request=request, actor=actor, obj=entry, changes={"volunteer": volunteer.pk})
    return entry


# --- correction requests ---------------------------------------------------------------------------


def _unit_for_record(record: ServiceRecord) -> dict:
    if record.organisation_id:
        return {"organisation_id": record.organisation_id}
    return {"region_id": record.region_id}


@transaction.atomic
def correction_create(
    *, volunteer, target: str, entry_pk: int | None, wrong: str, should_be: str, organisation=None, request=None
) -> CorrectionRequest:
    """The volunteer asks the recording unit to correct one entry of their own record."""
    wrong, should_be = (wrong or "").strip(), (should_be or "").strip()
    fields: dict = {}
    if target == CorrectionTarget.RECORD:
        record = ServiceRecord.objects.select_for_update().filter(pk=entry_pk, giver=volunteer).first()
        if record is None or record.is_reversal or record.kind != RecordKind.VOLUNTEER:
            raise ValidationError(ENTRY_NOT_FOUND, code="entry_not_found")
        if record.status not in LOCKED_STATUSES:
            raise ValidationError(NOT_CORRECTABLE, code="not_correctable")
        if ServiceRecord.objects.filter(reverses=record).exists():
            raise ValidationError(record_rules.ALREADY_REVERSED, code="already_reversed")
        fields = {"record": record, **_unit_for_record(record)}
    elif target in ENTRY_MODELS:
        entry = ENTRY_MODELS[target].objects.filter(pk=entry_pk, volunteer=volunteer).first()
        if entry is None:
            raise ValidationError(ENTRY_NOT_FOUND, code="entry_not_found")
        fields = {target: entry, "organisation_id": entry.organisation_id}
    elif target == CorrectionTarget.PERSONAL:
        if organisation is None or not is_active_member(volunteer, organisation):
            raise ValidationError(NO_UNIT, code="no_unit")
        fields = {"organisation": organisation}
    else:
        raise ValidationError(ENTRY_NOT_FOUND, code="entry_not_found")
    entry_field = target if target != CorrectionTarget.PERSONAL else None
    if (
        entry_field
        and CorrectionRequest.objects.filter(
            status=CorrectionStatus.PENDING, **{entry_field: fields[entry_field]}
        ).exists()
    ):
        raise ValidationError(ALREADY_PENDING, code="already_pending")
    correction = CorrectionRequest(volunteer=volunteer, target=target, wrong=wrong, should_be=should_be, **fields)
    correction.full_clean(exclude=["volunteer", "record", "training", "award", "evaluation", "organisation", "region"])
    try:
        with transaction.atomic():
            correction.save()
    except IntegrityError as exc:  # a second request for the same record raced the check above
        raise ValidationError(ALREADY_PENDING, code="already_pending") from exc
    audit.record(
        AuditAction.CREATE,
        request=request,
        actor=volunteer,
        obj=correction,
        changes={"target": target, "entry": entry_pk},
    )
    return correction


def corrections_to_decide(user) -> QuerySet:
    """Requests this user decides: those of organisations they run, and liaison-recorded ones in their villages."""
    if not getattr(user, "is_authenticated", False):
        return CorrectionRequest.objects.none()
    base = CorrectionRequest.objects.exclude(volunteer=user)
    by_org = Q(organisation__in=admin_organisations(user).values("pk"))
    if user.is_superuser:
        return base
    if can_write(user):
        villages = scope_queryset(
            user, base.filter(organisation__isnull=True), region_field="region", roles=[RoleKind.VILLAGE_LIAISON]
        )
        return base.filter(by_org | Q(pk__in=villages.values("pk")))
    return base.filter(by_org)


def may_decide(user, correction: CorrectionRequest) -> bool:
    if correction.volunteer_id == getattr(user, "pk", None):
        return False
    return corrections_to_decide(user).filter(pk=correction.pk).exists()


def correction_visible(*, user, pk: int) -> CorrectionRequest:
    """The volunteer's own request, or one the user decides; otherwise 404."""
    qs = CorrectionRequest.objects.select_related(
        "volunteer", "organisation", "region", "decided_by", "record__service_item", "training", "award", "evaluation"
    )
    correction = qs.filter(pk=pk).first()
    if correction is None or (correction.volunteer_id != user.pk and not may_decide(user, correction)):
        raise Http404
    return correction


def _lock_pending(actor, correction: CorrectionRequest) -> CorrectionRequest:
    locked = CorrectionRequest.objects.select_for_update().filter(pk=correction.pk).first()
    if locked is None:
        raise Http404
    if not may_decide(actor, locked):
        raise PermissionDenied(NOT_DECIDER)
    if locked.status != CorrectionStatus.PENDING:
        raise ValidationError(ALREADY_DECIDED, code="already_decided")
    return locked


def _close(locked: CorrectionRequest, *, actor, status: str, reason: str = "", corrected=None) -> None:
    now = timezone.now()
    # the conditional UPDATE is the second guard against a concurrent decision (databases without row locks)
    changed = CorrectionRequest.objects.filter(pk=locked.pk, status=CorrectionStatus.PENDING).update(
        status=status, reason=reason, decided_by=actor, decided_at=now, corrected_record=corrected
    )
    if not changed:
        raise ValidationError(ALREADY_DECIDED, code="already_decided")
    locked.status, locked.reason, locked.decided_by, locked.decided_at = status, reason, actor, now
    locked.corrected_record = corrected


@transaction.atomic
def correction_refuse(*, actor, correction: CorrectionRequest, reason: str, request=None) -> CorrectionRequest:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(REASON_REQUIRED, code="reason_required")
    locked = _lock_pending(actor, correction)
    _close(locked, actor=actor, status=CorrectionStatus.REFUSED, reason=reason[:300])
    audit.record(AuditAction.CHANGE, request=request, actor=actor, obj=locked, changes={"status": "refused"})
    return locked


RECORD_FIELDS = ("service_item", "start", "end", "place", "content")


@transaction.atomic
def correction_accept(
    *, actor, correction: CorrectionRequest, changes: dict | None = None, note: str = "", request=None
) -> CorrectionRequest:
    """Accept and apply a correction.

    A service record: a reversal (services.records.actions.record_reverse), then — unless `changes` is None, meaning
    the service did not happen — a corrected entry with the changed fields, confirmed by the actor and held
    to every rule of services.records.rules.check_record (measured from when the original was logged).
    Training, awards, evaluations: the changed fields are saved, before and after audited.
    Personal details are kept by the volunteer on their profile: accepting records the unit's agreement.
    """
    locked = _lock_pending(actor, correction)
    corrected = None
    if locked.target == CorrectionTarget.RECORD:
        original = ServiceRecord.objects.select_for_update().get(pk=locked.record_id)
        reason = str(CORRECTION_REVERSAL) % {"pk": locked.pk, "wrong": locked.wrong[:200]}
        record_actions.record_reverse(actor=actor, record=original, reason=reason[:300], request=request)
        if changes is not None:
            corrected = _corrected_entry(actor=actor, original=original, changes=changes, request=request)
    elif locked.target in ENTRY_MODELS:
        entry = ENTRY_MODELS[locked.target].objects.select_for_update().get(pk=getattr(locked, f"{locked.target}_id"))
        before = {name: str(getattr(entry, name)) for name in (changes or {})}
        for name, value in (changes or {}).items():
            setattr(entry, name, value)
        _validate(entry)
        entry.save()
        audit.record(
            AuditAction.CHANGE,
            request=request,
            actor=actor,
            obj=entry,
            changes={
                "correction": locked.pk,
                **{n: [before[n], str(getattr(entry, n))] for n in before if before[n] != str(getattr(entry, n))},
            },
        )
    _close(
        locked, actor=actor, status=CorrectionStatus.ACCEPTED, reason=(note or "").strip()[:300], corrected=corrected
    )
    audit.record(AuditAction.CHANGE, request=request, actor=actor, obj=locked, changes={"status": "accepted"})
    return locked


def _corrected_entry(*, actor, original: ServiceRecord, changes: dict, request=None) -> ServiceRecord:
    record = ServiceRecord(
        giver_id=original.giver_id,
        organisation_id=original.organisation_id,
        elder_id=original.elder_id,
        activity_id=original.activity_id,
        region_id=original.region_id,
        service_item_id=original.service_item_id,
        kind=original.kind,
        start=original.start,
        end=original.end,
        place=original.place,
        content=original.content,
        status=RecordStatus.CONFIRMED,
        confirmed_by=actor,
        confirmed_at=timezone.now(),
        # The corrected entry is the original entry, corrected: it keeps who entered the service (and so the
        # village liaison's vouching for the elder link); who corrected it is the correction's decided_by,
        # the confirmer and the audit trail.
        recorded_by_id=original.recorded_by_id,
        # the logging deadline is measured from the original entry: the correction is not a late entry
        created_at=original.created_at,
    )
    for name in RECORD_FIELDS:
        if name in changes:
            setattr(record, name, changes[name])
    record_rules.check_record(record)
    record.full_clean(exclude=["minutes", "recorded_by", "giver", "created_at"], validate_constraints=False)
    record.save()
    # created_at is auto_now_add: the insert stamped "now"; store the value check_record was given.
    type(record).objects.filter(pk=record.pk).update(created_at=original.created_at)
    record.created_at = original.created_at
    audit.record(
        AuditAction.CREATE,
        request=request,
        actor=actor,
        obj=record,
        changes={"corrects": original.pk, "minutes": record.minutes},
    )
    return record
