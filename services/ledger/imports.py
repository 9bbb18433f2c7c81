"""Import elders from a spreadsheet (see services.ledger.spreadsheet for reading it).

Three steps, the same for the web page and `manage.py import_elders`:
1. `import_start` — refuse a file that is too large, empty, not a spreadsheet or without the known
   Chinese headers (nothing is written); otherwise keep its rows (encrypted) in an ImportJob;
2. `import_validate` — check every row (ID check digit and agreement, dates, village known and in the
   importer's area, duplicates in the file and on the ledger) and record row-by-row errors;
3. `import_apply` — all-or-nothing: new elders are created, elders already on the ledger (same ID
   number) are updated, so re-importing the same file changes nothing.

Large files run steps 2 and 3 on the background queue (`run_import`); progress goes to the cache (a transaction in
progress is invisible to other connections) and the final state to the ImportJob row."""

import datetime
import hashlib
import json
from collections.abc import Callable, Iterable
from types import SimpleNamespace

from django_tasks import task

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal import audit
from portal.identity import INVALID_FORMAT, encrypt_many, keyed_hash, mask_resident_id, parse_resident_id
from portal.models import AuditAction, Region, RegionLevel
from portal.phone import INVALID_PHONE, clean_phone
from services.care.state import refresh_elders
from services.ledger import spreadsheet
from services.ledger.eligibility import check_eligibility
from services.ledger.models import (
    Elder,
    ElderChange,
    ElderChangeKind,
    ImportJob,
    ImportStatus,
)
from services.ledger.selectors import LEDGER_FIELDS, plain, writable_villages

ROW_REQUIRED = _("%(column)s is empty.")
ROW_ID_AS_NUMBER = _(
    "Excel stored this ID number as a number, so its last digits are lost. In Excel select the ID column, choose "
    "Format Cells → Text, type the numbers again (or start each with an apostrophe ') and upload again."
)
ROW_TWO_TICKS = _("More than one option is ticked in %(column)s: %(value)s. Tick one.")
ROW_BAD_DATE = _("%(value)s is not a real date.")
ROW_DATE_FUTURE = _("The birth date is in the future.")
ROW_BIRTH_MISMATCH = _("The birth date does not agree with the ID number.")
ROW_SEX_MISMATCH = _("The sex does not agree with the ID number.")
ROW_BAD_SEX = _("Sex must be 男 or 女.")
ROW_BAD_CHOICE = _("%(value)s is not one of: %(choices)s.")
ROW_DUPLICATE_IN_FILE = _("The same ID number is already on row %(row)s of this file.")
ROW_DUPLICATE_ELSEWHERE = _("This ID number is already on the ledger of a village outside your area.")
ROW_UNKNOWN_VILLAGE = _("No village %(value)s in your area.")
ROW_VILLAGE_OUT_OF_SCOPE = _("Village %(value)s is outside your area.")
ROW_AMBIGUOUS_VILLAGE = _("More than one village in your area is called %(value)s; use the 行政区划代码 column.")
ROW_BAD_NUMBER = _("%(value)s is not a whole number.")
ROW_TOO_LONG = _("%(column)s is longer than %(limit)s characters (it has %(length)s); shorten it in the file.")


# --- checking rows ---------------------------------------------------------------------------------


def parse_date(text: str) -> datetime.date | None:
    """YYYY-MM-DD, YYYY/M/D, YYYY.M.D, YYYY年M月D日 or YYYYMMDD; None if not a real date."""
    value = text.strip().replace("年", "-").replace("月", "-").replace("日", "").replace("/", "-").replace(".", "-")
    value = value.split(" ")[0].split("T")[0]
    try:
        if value.isdigit() and len(value) == 8:
            return datetime.date(int(value[:4]), int(value[4:6]), int(value[6:]))
        parts = value.split("-")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            return datetime.date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None
    return None


class VillageResolver:
    """Find a row's village among the villages the importer may write, by code or by name."""

    def __init__(self, villages: QuerySet, default: Region | None):
        self.by_code = dict(villages.values_list("code", "name"))
        self.by_name: dict[str, list[str]] = {}
        for code, name in self.by_code.items():
            for key in self._keys(name):
                self.by_name.setdefault(key, []).append(code)
        self.default = default.code if default is not None and default.code in self.by_code else None

    @staticmethod
    def _keys(name: str) -> set[str]:
        name = name.strip()
        keys = {name}
        for suffix in ("村民委员会", "居民委员会", "委会", "村委会", "社区"):
            if name.endswith(suffix):
                keys.add(name[: -len(suffix)])
                keys.add(name[: -len(suffix)] + ("村" if suffix != "社区" else "社区"))
        return {k for k in keys if k}

    def resolve(self, code: str, name: str) -> tuple[str | None, str | None]:
        """(village code, error message)."""
        if code:
            if code in self.by_code:
                return code, None
            if Region.objects.filter(code=code, level=RegionLevel.VILLAGE).exists():
                return None, ROW_VILLAGE_OUT_OF_SCOPE % {"value": code}
            return None, ROW_UNKNOWN_VILLAGE % {"value": code}
        if name:
            candidates = set()
            for key in self._keys(name):
                candidates.update(self.by_name.get(key, []))
            if len(candidates) == 1:
                return candidates.pop(), None
            if len(candidates) > 1:
                if self.default in candidates:
                    return self.default, None
                return None, ROW_AMBIGUOUS_VILLAGE % {"value": name}
            return None, ROW_UNKNOWN_VILLAGE % {"value": name}
        if self.default:
            return self.default, None
        return None, spreadsheet.NO_VILLAGE_COLUMN


def _too_long(field: str, text: str) -> dict:
    limit = spreadsheet.TEXT_LIMITS.get(field, 2000)
    return {"column": spreadsheet.HEADER_LABELS.get(field, field), "limit": limit, "length": len(text)}


def _looks_like_excel_number(raw) -> bool:
    """6.40422E+17 in a CSV: an ID number Excel had turned into a number."""
    text = str(raw or "").strip().upper().replace(",", "")
    if "E+" in text:
        mantissa = text.split("E+")[0].replace(".", "")
        return mantissa.isdigit()
    return False


def _check_row(
    values: dict, resolver: VillageResolver, today: datetime.date | None = None
) -> tuple[dict, list[tuple[str, str]]]:
    """Clean one row; returns (record with plain JSON values, [(column, message)])."""
    today = today or timezone.localdate()
    errors: list[tuple[str, str]] = []
    record: dict[str, object] = {}

    def err(field, message):
        errors.append((spreadsheet.HEADER_LABELS.get(field, field), str(message)))

    name = str(values.get("name") or "").strip()
    if not name:
        err("name", ROW_REQUIRED % {"column": spreadsheet.HEADER_LABELS["name"]})
    if len(name) > spreadsheet.TEXT_LIMITS["name"]:
        err("name", ROW_TOO_LONG % _too_long("name", name))
    record["name"] = name

    raw_id = values.get("id_number")
    id_birth = id_sex = None
    if isinstance(raw_id, int | float) or _looks_like_excel_number(raw_id):
        err("id_number", ROW_ID_AS_NUMBER)
    elif not raw_id:
        err("id_number", ROW_REQUIRED % {"column": spreadsheet.HEADER_LABELS["id_number"]})
    else:
        try:
            number, id_birth, id_sex = parse_resident_id(str(raw_id))
            record["id_number"] = number
        except ValidationError as exc:
            err("id_number", exc.messages[0] if exc.messages else INVALID_FORMAT)

    sex_text = str(values.get("gender") or "").strip()
    if sex_text:
        sex = {"男": "M", "女": "F", "m": "M", "f": "F", "男性": "M", "女性": "F"}.get(sex_text.lower())
        if sex is None:
            err("gender", ROW_BAD_SEX)
        elif id_sex and sex != id_sex:
            err("gender", ROW_SEX_MISMATCH)
        record["gender"] = sex or id_sex
    else:
        record["gender"] = id_sex

    birth_text = str(values.get("birth_date") or "").strip()
    if birth_text.isdigit() and 1 < int(birth_text) < 80_000:  # an Excel date serial (days since 1899-12-30)
        birth_text = (datetime.date(1899, 12, 30) + datetime.timedelta(days=int(birth_text))).isoformat()
    if birth_text:
        birth = parse_date(birth_text)
        if birth is None:
            err("birth_date", ROW_BAD_DATE % {"value": birth_text[:20]})
        elif birth > today:
            err("birth_date", ROW_DATE_FUTURE)
        elif id_birth and birth != id_birth:
            err("birth_date", ROW_BIRTH_MISMATCH)
        record["birth_date"] = (birth or id_birth).isoformat() if (birth or id_birth) else None
    else:
        record["birth_date"] = id_birth.isoformat() if id_birth else None

    code, village_error = resolver.resolve(
        str(values.get("village_code") or "").strip(), str(values.get("village") or "").strip()
    )
    if village_error:
        err("village", village_error)
    record["village"] = code

    phone = str(values.get("phone") or "").strip()
    if phone:
        try:
            record["phone"] = clean_phone(phone)
        except ValidationError:
            err("phone", INVALID_PHONE)

    for field in spreadsheet.TEXT_FIELDS:
        text = str(values.get(field) or "").strip()
        if len(text) > spreadsheet.TEXT_LIMITS.get(field, 2000):
            err(field, ROW_TOO_LONG % _too_long(field, text))
        elif text:
            record[field] = text

    for field, lookup in spreadsheet.CHOICE_LOOKUP.items():
        text = str(values.get(field) or "").strip()
        if not text:
            continue
        if text.startswith(spreadsheet.TWO_TICKS_MARK):
            column = spreadsheet.HEADER_LABELS.get(field, field)
            err(field, ROW_TWO_TICKS % {"column": column, "value": text[len(spreadsheet.TWO_TICKS_MARK) :][:40]})
            continue
        value = lookup.get(spreadsheet._norm_choice(text))
        if value is None:
            err(field, ROW_BAD_CHOICE % {"value": text[:20], "choices": spreadsheet.choice_labels(field)})
        else:
            record[field] = str(value)

    if id_birth or record.get("birth_date"):
        birth = datetime.date.fromisoformat(record["birth_date"]) if record.get("birth_date") else id_birth
        result = check_eligibility(birth_date=birth, basis=str(record.get("left_behind_basis") or ""), today=today)
        if not result.eligible:
            err(result.field, result.reason)

    for field in spreadsheet.BOOL_FIELDS:
        text = str(values.get(field) or "").strip().lower()
        if not text:
            continue
        if text in spreadsheet.TRUE_WORDS:
            record[field] = True
        elif text in spreadsheet.FALSE_WORDS:
            record[field] = False
        else:
            err(field, ROW_BAD_CHOICE % {"value": text[:20], "choices": "是、否"})

    count = str(values.get("children_count") or "").strip()
    if count:
        if count.isdigit() and int(count) < 100:
            record["children_count"] = int(count)
        else:
            err("children_count", ROW_BAD_NUMBER % {"value": count[:10]})
    return record, errors


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _existing_by_hash(hashes: list[str]) -> dict[str, Elder]:
    found: dict[str, Elder] = {}
    for chunk in _chunks(hashes, 2000):
        for elder in Elder.objects.filter(id_hash__in=chunk):
            found[elder.id_hash] = elder
    return found


def check_rows(
    rows: list[tuple[int, dict]],
    *,
    villages: QuerySet,
    default_village: Region | None,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[dict], list[dict]]:
    """Check every row. Returns (records, errors); errors are {row, column, message} with IDs masked."""
    resolver = VillageResolver(villages, default_village)
    today = timezone.localdate()
    records: list[dict] = []
    errors: list[dict] = []
    first_row_of: dict[str, int] = {}
    for index, (row_number, values) in enumerate(rows):
        record, row_errors = _check_row(values, resolver, today)
        number = record.get("id_number")
        if number:
            record["id_hash"] = keyed_hash(number)
            if number in first_row_of:
                row_errors.append(
                    (spreadsheet.HEADER_LABELS["id_number"], str(ROW_DUPLICATE_IN_FILE % {"row": first_row_of[number]}))
                )
            else:
                first_row_of[number] = row_number
        record["row"] = row_number
        for column, message in row_errors:
            errors.append({"row": row_number, "name": record.get("name", ""), "column": column, "message": message})
        records.append(record)
        if progress and index % 500 == 0:
            progress(index)
    # on the ledger already: an update if it is in the importer's area, else an error
    existing = _existing_by_hash([r["id_hash"] for r in records if r.get("id_hash")])
    for record in records:
        elder = existing.get(record.get("id_hash"))
        if elder is None:
            record["action"] = "create"
        elif elder.village_id in resolver.by_code:
            record["action"] = "update"
        else:
            record["action"] = "error"
            errors.append(
                {
                    "row": record["row"],
                    "name": record.get("name", ""),
                    "column": spreadsheet.HEADER_LABELS["id_number"],
                    "message": str(ROW_DUPLICATE_ELSEWHERE),
                }
            )
    errors.sort(key=lambda e: e["row"])
    return records, errors


# --- applying --------------------------------------------------------------------------------------


def _to_model_values(record: dict) -> dict:
    values = {}
    for field in LEDGER_FIELDS:
        if field not in record or record[field] is None:
            continue
        value = record[field]
        if field == "birth_date":
            value = datetime.date.fromisoformat(value)
        values["village_id" if field == "village" else field] = value
    return values


@transaction.atomic
def apply_records(records: list[dict], *, actor=None, progress: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Create new elders and update existing ones in one transaction. Returns (created, updated)."""
    now = timezone.now()
    existing = _existing_by_hash([r["id_hash"] for r in records])
    to_create: list[Elder] = []
    create_changes: list[dict] = []
    to_update: list[Elder] = []
    update_changes: list[tuple[Elder, dict]] = []
    changed_fields: set[str] = set()
    defaults = _elder_defaults()
    for index, record in enumerate(records):
        values = _to_model_values(record)
        elder = existing.get(record["id_hash"])
        if elder is None:
            # a plain namespace with the model's defaults: Model.__init__ costs more than the INSERT
            elder = SimpleNamespace(
                **{
                    **defaults,
                    **values,
                    "id_hash": record["id_hash"],
                    "created_by_id": actor.pk if getattr(actor, "pk", None) else None,
                }
            )
            to_create.append(elder)
            create_changes.append(
                {
                    f: [None, plain(f, values.get("village_id" if f == "village" else f))]
                    for f in LEDGER_FIELDS
                    if values.get("village_id" if f == "village" else f) not in (None, "", False, 0)
                }
            )
        else:
            changes = {}
            for attr, value in values.items():
                old = getattr(elder, attr)
                if old != value:
                    field = "village" if attr == "village_id" else attr
                    changes[field] = [plain(field, old), plain(field, value)]
                    setattr(elder, attr, value)
                    changed_fields.add(attr)
            if changes:
                elder.version += 1
                elder.updated_at = now
                to_update.append(elder)
                update_changes.append((elder, changes))
        if progress and index % 500 == 0:
            progress(index)
    user = actor if actor is not None and getattr(actor, "pk", None) else None
    new_ids = _insert_elders(to_create, now=now)
    if to_update:
        Elder.objects.bulk_update(to_update, [*changed_fields, "version", "updated_at"], batch_size=500)
    history = [(new_ids[e.id_hash], c) for e, c in zip(to_create, create_changes, strict=True)]
    history += [(e.pk, c) for e, c in update_changes]
    finish_import_write(history=history, actor_id=user.pk if user else None, at=now)
    return len(to_create), len(to_update)


def _elder_defaults() -> dict:
    return {f.attname: f.get_default() for f in Elder._meta.concrete_fields if not f.primary_key}


def _insert_elders(elders: list, *, now) -> dict[str, int]:
    """INSERT the new elders, exactly the rows save() would write (the encrypted ID number, the model's
    defaults), without the ORM's per-object work. Returns {id_hash: pk}.

    PostgreSQL: primary keys taken from the sequence in one query, then one COPY (≈10× a multi-row INSERT).
    Other databases: executemany in batches, then the new keys read back by id_hash. ID numbers are encrypted
    in one batch (portal.identity.encrypt_many)."""
    if not elders:
        return {}
    from django.db import models as dj

    fields = [f for f in Elder._meta.concrete_fields if not f.primary_key]
    for elder in elders:
        elder.created_at = elder.updated_at = now
    encrypted = iter(encrypt_many([str(e.id_number or "") for e in elders]))
    columns_of = [(f.attname, f.name == "id_number") for f in fields]
    postgres = connection.vendor == "postgresql"
    if postgres:
        rows = [
            tuple(next(encrypted) if secret else getattr(elder, attname) for attname, secret in columns_of)
            for elder in elders
        ]
    else:
        ops = connection.ops
        adapters = []
        for field in fields:
            if isinstance(field, dj.DateTimeField):
                adapters.append(ops.adapt_datetimefield_value)
            elif isinstance(field, dj.DateField):
                adapters.append(ops.adapt_datefield_value)
            else:
                adapters.append(None)
        rows = [
            tuple(
                next(encrypted) if secret else (adapt(getattr(elder, attname)) if adapt else getattr(elder, attname))
                for (attname, secret), adapt in zip(columns_of, adapters, strict=True)
            )
            for elder in elders
        ]
    table = connection.ops.quote_name(Elder._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    if postgres:
        pk_column = connection.ops.quote_name(Elder._meta.pk.column)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [Elder._meta.db_table, Elder._meta.pk.column, len(rows)],
            )
            pks = [row[0] for row in cursor.fetchall()]
            with cursor.cursor.copy(f"COPY {table} ({pk_column}, {columns}) FROM STDIN") as copy:
                for pk, row in zip(pks, rows, strict=True):
                    copy.write_row((pk, *row))
        return {elder.id_hash: pk for elder, pk in zip(elders, pks, strict=True)}
    marks = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, 1000):
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", chunk)  # noqa: S608
    ids: dict[str, int] = {}
    for chunk in _chunks([e.id_hash for e in elders], 500):
        ids.update(Elder.objects.filter(id_hash__in=chunk).values_list("id_hash", "pk"))
    return ids


def finish_import_write(*, history: list[tuple[int, dict]], actor_id: int | None, at) -> None:
    """The end of an import's write, in its transaction: one history entry per new or changed elder.

    The rows were written without save() (COPY, bulk_update), so no signal refreshes the stored per-elder
    state (tier, next due date: services.care.state): one bulk refresh here does."""
    _insert_history(history, actor_id=actor_id, at=at)
    refresh_elders([elder_id for elder_id, _changes in history], now=at)


def _insert_history(entries: list[tuple[int, dict]], *, actor_id: int | None, at) -> None:
    if not entries:
        return
    kind = ElderChangeKind.IMPORT.value
    table = connection.ops.quote_name(ElderChange._meta.db_table)
    if connection.vendor == "postgresql":
        dumps = json.JSONEncoder(ensure_ascii=False, default=_json_default).encode
        sql = f"COPY {table} (elder_id, kind, actor_id, at, changes, reason) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for elder_id, changes in entries:
                copy.write_row((elder_id, kind, actor_id, at, dumps(changes), ""))
        return
    ops = connection.ops
    when = ops.adapt_datetimefield_value(at)
    rows = [
        (elder_id, kind, actor_id, when, ops.adapt_json_value(changes, DjangoJSONEncoder), "")
        for elder_id, changes in entries
    ]
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, 1000):
            cursor.executemany(
                f"INSERT INTO {table} (elder_id, kind, actor_id, at, changes, reason) VALUES (%s, %s, %s, %s, %s, %s)",  # noqa: S608
                chunk,
            )


def _json_default(value):
    return DjangoJSONEncoder().default(value)


# --- jobs ------------------------------------------------------------------------------------------


def progress_key(job_id: int) -> str:
    return f"ledger-import-progress:{job_id}"


def job_progress(job: ImportJob) -> int:
    """Rows done so far: from the cache while a step runs, else from the row."""
    if job.status in (ImportStatus.VALIDATING, ImportStatus.RUNNING):
        return int(cache.get(progress_key(job.pk), job.processed) or 0)
    return job.processed


def _set_progress(job_id: int, done: int) -> None:
    cache.set(progress_key(job_id), done, 3600)


def import_start(*, actor, content: bytes, filename: str, default_village: Region | None = None) -> ImportJob:
    """Read the file and keep its rows for checking; raise ImportFileError (nothing written) if unusable."""
    parsed = spreadsheet.parse_file(content=content, filename=filename)
    job = ImportJob.objects.create(
        created_by=actor,
        region=default_village,
        filename=filename[:200],
        file_sha256=hashlib.sha256(content).hexdigest(),
        status=ImportStatus.VALIDATING,
        total=len(parsed.rows),
        payload=json.dumps({"rows": parsed.rows, "ignored": parsed.ignored}, ensure_ascii=False),
    )
    return job


def _job_villages(job: ImportJob) -> QuerySet:
    return writable_villages(job.created_by)


def import_validate(*, job: ImportJob, villages: QuerySet | None = None) -> ImportJob:
    """Check the job's rows; afterwards the job is READY (a preview) or INVALID (row errors)."""
    data = json.loads(job.payload)
    rows = [(number, values) for number, values in data["rows"]]
    villages = villages if villages is not None else _job_villages(job)
    records, errors = check_rows(
        rows, villages=villages, default_village=job.region, progress=lambda n: _set_progress(job.pk, n)
    )
    job.errors = errors[:1000]
    job.processed = len(rows)
    job.created_count = sum(1 for r in records if r.get("action") == "create")
    job.updated_count = sum(1 for r in records if r.get("action") == "update")
    job.status = ImportStatus.INVALID if errors else ImportStatus.READY
    job.message = str(len(errors))
    job.payload = json.dumps({"records": records if not errors else [], "ignored": data.get("ignored", [])})
    job.save()
    return job


NOT_READY = _("This import was already started or cannot be imported.")


def import_claim(job: ImportJob) -> bool:
    """Move a READY job to RUNNING exactly once (a second click or a replayed form gets False)."""
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.READY).update(
        status=ImportStatus.RUNNING, processed=0, updated_at=timezone.now()
    )
    if claimed:
        job.status, job.processed = ImportStatus.RUNNING, 0
    return bool(claimed)


def import_apply(*, job: ImportJob, actor=None, request=None, claimed: bool = False) -> ImportJob:
    """Import a READY job all-or-nothing; on failure nothing is written and the job says why."""
    if not claimed and not import_claim(job):
        raise ValidationError(NOT_READY, code="not_ready")
    records = json.loads(job.payload)["records"]
    try:
        created, updated = apply_records(records, actor=actor, progress=lambda n: _set_progress(job.pk, n))
    except Exception as exc:  # noqa: BLE001 — the job must end in a state the page can show
        job.status = ImportStatus.FAILED
        job.message = gettext("The import failed and nothing was written: %(error)s") % {"error": type(exc).__name__}
        job.save(update_fields=["status", "message", "updated_at"])
        raise
    job.status = ImportStatus.DONE
    job.processed = len(records)
    job.created_count, job.updated_count = created, updated
    job.payload = ""
    job.save()
    audit.record(
        AuditAction.CREATE,
        request=request,
        actor=actor,
        obj=job,
        changes={"created": created, "updated": updated, "rows": len(records), "file": job.filename},
    )
    return job


def preview_rows(job: ImportJob, limit: int = 20) -> list[dict]:
    """The first rows of a READY job for the preview, ID numbers masked."""
    if not job.payload:
        return []
    records = json.loads(job.payload).get("records", [])[:limit]
    names = dict(Region.objects.filter(code__in={r.get("village") for r in records}).values_list("code", "name"))
    return [
        {
            "row": r["row"],
            "name": r.get("name"),
            "id": mask_resident_id(r.get("id_number")),
            "village": names.get(r.get("village"), ""),
            "action": r.get("action"),
        }
        for r in records
    ]


def ignored_columns(job: ImportJob) -> list[str]:
    if not job.payload:
        return []
    return json.loads(job.payload).get("ignored", [])


def run_in_background(job_id: int, step: str) -> None:
    """Run a step (validate/apply) on the queue (portal.tasks). The task's row is written in the caller's
    transaction, so it exists exactly when the job's state does."""
    run_import.enqueue(job_id, step)


@task()
def run_import(job_id: int, step: str) -> str:
    """Validate or apply a job. Applying is all-or-nothing and keyed by ID number (a second run updates what
    the first created), so a task run again after its worker died (TASKS_REQUEUE_AFTER) changes nothing
    twice; a job its dead worker left RUNNING is taken up again."""
    job = ImportJob.objects.select_related("created_by", "region").get(pk=job_id)
    expected = ImportStatus.VALIDATING if step == "validate" else ImportStatus.RUNNING
    if job.status != expected:  # a second run of a step that was done before its worker died
        return job.status
    try:
        if step == "validate":
            job = import_validate(job=job)
        else:
            job = import_apply(job=job, actor=job.created_by, claimed=True)
    except Exception:
        ImportJob.objects.filter(pk=job_id).exclude(status=ImportStatus.DONE).update(status=ImportStatus.FAILED)
        raise
    return job.status
