"""Import the spreadsheets villages already keep (.xlsx or .csv in UTF-8 or GBK/GB18030).

Three steps, the same for the web page and `manage.py import_elders`:
1. `import_start` — refuse a file that is too large, empty, not a spreadsheet or without the known
   Chinese headers (nothing is written); otherwise keep its rows (encrypted) in an ImportJob;
2. `import_validate` — check every row (ID check digit and agreement, dates, village known and in the
   importer's area, duplicates in the file and on the ledger) and record row-by-row errors;
3. `import_apply` — all-or-nothing: new elders are created, elders already on the ledger (same ID
   number) are updated, so re-importing the same file changes nothing.

Large files run steps 2 and 3 in a background thread; progress goes to the cache (a transaction in
progress is invisible to other connections) and the final state to the ImportJob row.
"""

import csv
import datetime
import hashlib
import io
import json
import threading
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import SimpleNamespace

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal import audit
from portal.identity import INVALID_FORMAT, keyed_hash, mask_resident_id, parse_resident_id
from portal.models import AuditAction, Region, RegionLevel
from portal.phone import INVALID_PHONE, clean_phone
from services.ledger.actions import LEDGER_FIELDS, plain, writable_villages
from services.ledger.models import (
    AbilityLevel,
    EconomicStatus,
    Elder,
    ElderChange,
    ElderChangeKind,
    ImportJob,
    ImportStatus,
    LivingArrangement,
)

# --- messages (tests reuse them) -------------------------------------------------------------------
FILE_TOO_LARGE = _("The file is larger than %(limit)s MB. Split it into smaller files, one per village.")
FILE_EMPTY = _("The file is empty.")
NOT_A_SPREADSHEET = _("This is not a spreadsheet. Upload an Excel file (.xlsx) or a CSV file.")
OLD_EXCEL = _("Old Excel files (.xls) cannot be read. In Excel choose Save As → Excel Workbook (.xlsx).")
BAD_ENCODING = _("The CSV file is neither UTF-8 nor GBK text. Save it again as CSV (UTF-8).")
NO_ROWS = _("The sheet has headers but no rows of elders.")
MISSING_HEADERS = _(
    "The sheet's headers were not recognised: it needs at least %(required)s. Headers found: %(found)s."
)
NO_VILLAGE_COLUMN = _("The sheet has no 村 (village) or 行政区划代码 column; choose the village the whole file is for.")
TOO_MANY_ROWS = _("The file has more than %(limit)s rows; split it into smaller files.")

ROW_REQUIRED = _("%(column)s is empty.")
ROW_ID_AS_NUMBER = _(
    "The ID number was stored by Excel as a number and lost its last digits; format the column as text."
)
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

# --- columns ---------------------------------------------------------------------------------------
# Header (as villages write it) → field. Spaces, full-width brackets and a trailing * are ignored.
HEADER_ALIASES = {
    "name": ("姓名", "老人姓名", "名字"),
    "gender": ("性别",),
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "身份证", "证件号码"),
    "birth_date": ("出生日期", "出生年月日", "出生年月"),
    "village": ("村", "村委会", "所在村", "所属村", "村(社区)", "村名", "村居", "村民委员会", "行政村"),
    "village_code": ("行政区划代码", "区划代码", "村代码", "统计用区划代码"),
    "address": ("住址", "家庭住址", "地址", "现住址"),
    "phone": ("联系电话", "电话", "手机号", "手机", "本人电话"),
    "income_sources": ("收入来源", "主要收入来源"),
    "family_structure": ("家庭结构", "家庭成员", "家庭成员情况"),
    "children_count": ("子女数", "子女人数", "子女数量"),
    "living_arrangement": ("居住情况", "居住状况", "居住方式"),
    "health": ("健康状况", "身体状况"),
    "ability_level": ("能力等级", "失能等级", "自理能力", "能力评估"),
    "economic_status": ("经济状况", "经济情况", "经济类别"),
    "care_situation": ("照料情况", "照护情况"),
    "difficulties": ("主要困难", "困难", "存在困难"),
    "family_doctor_signed": ("家庭医生签约", "家庭医生"),
    "fire_safety_needed": ("需安装消防设施", "消防安全等级低"),
    "smoke_alarm": ("独立式烟感报警", "烟感报警", "烟感"),
    "sprinkler": ("简易喷淋", "喷淋"),
}
HEADER_LABELS = {field: aliases[0] for field, aliases in HEADER_ALIASES.items()}
REQUIRED = ("name", "id_number")

CHOICE_WORDS = {
    "economic_status": {
        EconomicStatus.DESTITUTE: ("特困", "特困供养", "特困人员", "五保", "五保户"),
        EconomicStatus.SUBSISTENCE: ("低保", "低保户", "农村低保"),
        EconomicStatus.REGISTERED_POOR: ("建档立卡", "建档立卡户", "建档立卡贫困户", "贫困户"),
        EconomicStatus.GENERAL: ("一般", "无", "普通", "一般户"),
    },
    "ability_level": {
        AbilityLevel.INTACT: ("能力完好", "完好", "自理", "能自理", "生活自理"),
        AbilityLevel.MILD: ("轻度失能", "轻度"),
        AbilityLevel.MODERATE: ("中度失能", "中度", "半失能"),
        AbilityLevel.SEVERE: ("重度失能", "重度"),
        AbilityLevel.TOTAL: ("完全失能", "完全不能自理", "全失能"),
    },
    "living_arrangement": {
        LivingArrangement.ALONE: ("独居",),
        LivingArrangement.COUPLE: ("与配偶同住", "空巢", "夫妻同住", "与配偶居住", "夫妻居住"),
        LivingArrangement.WITH_GRANDCHILDREN: ("与孙辈同住", "隔代", "与孙子女同住"),
        LivingArrangement.WITH_RELATIVES: ("与其他亲属同住", "与亲属同住"),
        LivingArrangement.OTHER: ("其他",),
    },
}
CHOICE_LOOKUP = {
    field: {word: value for value, words in mapping.items() for word in words}
    for field, mapping in CHOICE_WORDS.items()
}
TRUE_WORDS = {"是", "有", "已签约", "签约", "已安装", "安装", "√", "✓", "y", "yes", "1", "true"}
FALSE_WORDS = {"否", "无", "未签约", "未安装", "没有", "×", "n", "no", "0", "false"}
BOOL_FIELDS = ("family_doctor_signed", "fire_safety_needed", "smoke_alarm", "sprinkler")
TEXT_FIELDS = ("address", "income_sources", "family_structure", "health", "care_situation", "difficulties")
TEXT_LIMITS = {"name": 50, "address": 200, "income_sources": 200}
MAX_ROWS = 50_000


def max_bytes() -> int:
    return int(getattr(settings, "LEDGER_IMPORT_MAX_BYTES", 10 * 1024 * 1024))


def inline_rows() -> int:
    """Files with more rows than this are checked and imported in the background."""
    return int(getattr(settings, "LEDGER_IMPORT_INLINE_ROWS", 1000))


class ImportFileError(ValidationError):
    pass


def _norm_header(value) -> str:
    text = str(value or "").strip().replace(" ", "").replace("\u3000", "").rstrip("*＊")
    return text.replace("（", "(").replace("）", ")").replace("：", "").replace(":", "")


ALIAS_LOOKUP = {_norm_header(alias): field for field, aliases in HEADER_ALIASES.items() for alias in aliases}


# --- reading the file ------------------------------------------------------------------------------


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def _column_index(ref: str) -> int:
    index = 0
    for char in ref:
        if char.isalpha():
            index = index * 26 + (ord(char.upper()) - 64)
        else:
            break
    return index - 1


def _read_xlsx_fast(content: bytes) -> list[list]:
    """The first sheet's cell values straight from the XML (5× faster than openpyxl for 10,000 rows).

    Dates stay Excel serial numbers here; `_check_row` turns a number in the birth-date column into a date.
    Anything unusual raises, and the caller falls back to openpyxl.
    """
    from xml.etree.ElementTree import iterparse  # noqa: S405 — a zip member of an uploaded workbook; no DTDs in expat

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = set(archive.namelist())
        workbook = archive.read("xl/workbook.xml")
        rels = archive.read("xl/_rels/workbook.xml.rels")
        from xml.etree.ElementTree import fromstring  # noqa: S405

        first = fromstring(workbook).find(f"{_NS}sheets/{_NS}sheet")  # noqa: S314
        rel_id = first.get(f"{_REL_NS}id")
        target = next(r.get("Target") for r in fromstring(rels) if r.get("Id") == rel_id)  # noqa: S314
        path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            for _event, element in iterparse(archive.open("xl/sharedStrings.xml")):  # noqa: S314
                if element.tag == f"{_NS}si":
                    shared.append("".join(t.text or "" for t in element.iter(f"{_NS}t")))
                    element.clear()
        rows: list[list] = []
        for _event, element in iterparse(archive.open(path)):  # noqa: S314
            if element.tag != f"{_NS}row":
                continue
            row: list = []
            for cell in element.iter(f"{_NS}c"):
                kind = cell.get("t")
                if kind == "inlineStr":
                    value = "".join(t.text or "" for t in cell.iter(f"{_NS}t"))
                else:
                    v = cell.find(f"{_NS}v")
                    text = v.text if v is not None else None
                    if text is None:
                        value = None
                    elif kind == "s":
                        value = shared[int(text)]
                    elif kind in ("str", "e"):
                        value = text
                    elif kind == "b":
                        value = text == "1"
                    else:
                        number = float(text)
                        value = int(number) if number.is_integer() and abs(number) < 1e15 else number
                ref = cell.get("r")
                index = _column_index(ref) if ref else len(row)
                row.extend([None] * (index - len(row)))
                row.append(value)
            rows.append(row)
            element.clear()
            if len(rows) > MAX_ROWS + 10:
                break
        return rows


def _read_xlsx(content: bytes) -> list[list]:
    try:
        return _read_xlsx_fast(content)
    except Exception:  # noqa: BLE001,S110 — unusual workbook: let openpyxl read it
        pass
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportFileError(NOT_A_SPREADSHEET, code="not_spreadsheet") from exc
    try:
        sheet = book.worksheets[0]
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append(list(row))
            if len(rows) > MAX_ROWS + 10:
                break
        return rows
    finally:
        book.close()


def _read_csv(content: bytes) -> list[list]:
    if b"\x00" in content[:4096]:
        raise ImportFileError(NOT_A_SPREADSHEET, code="not_spreadsheet")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError(BAD_ENCODING, code="bad_encoding")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    return list(csv.reader(io.StringIO(text), dialect))


@dataclass
class ParsedFile:
    fields: list[str | None]  # field for each column (None: ignored)
    ignored: list[str]
    rows: list[tuple[int, dict[str, object]]]  # (row number in the sheet, {field: raw value})


def parse_file(*, content: bytes, filename: str) -> ParsedFile:
    """Read a spreadsheet into rows keyed by field; raise ImportFileError with a clear message."""
    if len(content) > max_bytes():
        raise ImportFileError(FILE_TOO_LARGE % {"limit": max_bytes() // (1024 * 1024)}, code="too_large")
    if not content.strip():
        raise ImportFileError(FILE_EMPTY, code="empty")
    lower = filename.lower()
    if content[:4] == b"PK\x03\x04":
        table = _read_xlsx(content)
    elif content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ImportFileError(OLD_EXCEL, code="old_excel")
    elif lower.endswith((".csv", ".txt")) or not lower.endswith((".xlsx", ".xls")):
        if content[:5] in (b"%PDF-",) or content[:3] == b"\xff\xd8\xff" or content[:4] == b"\x89PNG":
            raise ImportFileError(NOT_A_SPREADSHEET, code="not_spreadsheet")
        table = _read_csv(content)
    else:
        raise ImportFileError(NOT_A_SPREADSHEET, code="not_spreadsheet")
    table = [row for row in table if any(_cell_text(c) for c in row)]
    if not table:
        raise ImportFileError(FILE_EMPTY, code="empty")
    # The header row is the first of the top five with the required headers (a title row may come first).
    header_index = None
    for index, row in enumerate(table[:5]):
        found = {ALIAS_LOOKUP.get(_norm_header(c)) for c in row}
        if all(f in found for f in REQUIRED):
            header_index = index
            break
    if header_index is None:
        found_headers = "、".join(_cell_text(c) for c in table[0] if _cell_text(c))[:200] or "—"
        required = "、".join(HEADER_LABELS[f] for f in REQUIRED)
        raise ImportFileError(MISSING_HEADERS % {"required": required, "found": found_headers}, code="missing_headers")
    header = table[header_index]
    fields: list[str | None] = []
    seen: set[str] = set()
    ignored = []
    for cell in header:
        field = ALIAS_LOOKUP.get(_norm_header(cell))
        if field in seen:
            field = None
        if field is None and _cell_text(cell):
            ignored.append(_cell_text(cell))
        if field:
            seen.add(field)
        fields.append(field)
    body = table[header_index + 1 :]
    if not body:
        raise ImportFileError(NO_ROWS, code="no_rows")
    if len(body) > MAX_ROWS:
        raise ImportFileError(TOO_MANY_ROWS % {"limit": MAX_ROWS}, code="too_many_rows")
    rows = []
    for offset, row in enumerate(body):
        values = {}
        for field, cell in zip(fields, row, strict=False):
            if field:
                values[field] = cell if isinstance(cell, int | float) and field == "id_number" else _cell_text(cell)
        rows.append((header_index + 2 + offset, values))
    return ParsedFile(fields=fields, ignored=ignored, rows=rows)


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
        return None, NO_VILLAGE_COLUMN


def _check_row(values: dict, resolver: VillageResolver) -> tuple[dict, list[tuple[str, str]]]:
    """Clean one row; returns (record with plain JSON values, [(column, message)])."""
    errors: list[tuple[str, str]] = []
    record: dict[str, object] = {}

    def err(field, message):
        errors.append((HEADER_LABELS.get(field, field), str(message)))

    name = str(values.get("name") or "").strip()
    if not name:
        err("name", ROW_REQUIRED % {"column": HEADER_LABELS["name"]})
    record["name"] = name[: TEXT_LIMITS["name"]]

    raw_id = values.get("id_number")
    id_birth = id_sex = None
    if isinstance(raw_id, int | float):
        err("id_number", ROW_ID_AS_NUMBER)
    elif not raw_id:
        err("id_number", ROW_REQUIRED % {"column": HEADER_LABELS["id_number"]})
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
        elif birth > timezone.localdate():
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

    for field in TEXT_FIELDS:
        text = str(values.get(field) or "").strip()
        if text:
            record[field] = text[: TEXT_LIMITS.get(field, 2000)]

    for field, lookup in CHOICE_LOOKUP.items():
        text = str(values.get(field) or "").strip()
        if not text:
            continue
        value = lookup.get(text.replace(" ", ""))
        if value is None:
            choices = "、".join(words[0] for words in CHOICE_WORDS[field].values())
            err(field, ROW_BAD_CHOICE % {"value": text[:20], "choices": choices})
        else:
            record[field] = str(value)

    for field in BOOL_FIELDS:
        text = str(values.get(field) or "").strip().lower()
        if not text:
            continue
        if text in TRUE_WORDS:
            record[field] = True
        elif text in FALSE_WORDS:
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
    for chunk in _chunks(hashes, 500):
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
    records: list[dict] = []
    errors: list[dict] = []
    first_row_of: dict[str, int] = {}
    for index, (row_number, values) in enumerate(rows):
        record, row_errors = _check_row(values, resolver)
        number = record.get("id_number")
        if number:
            record["id_hash"] = keyed_hash(number)
            if number in first_row_of:
                row_errors.append(
                    (HEADER_LABELS["id_number"], str(ROW_DUPLICATE_IN_FILE % {"row": first_row_of[number]}))
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
                    "column": HEADER_LABELS["id_number"],
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
    _insert_history(history, actor_id=user.pk if user else None, at=now)
    return len(to_create), len(to_update)


def _elder_defaults() -> dict:
    return {f.attname: f.get_default() for f in Elder._meta.concrete_fields if not f.primary_key}


def _insert_elders(elders: list, *, now) -> dict[str, int]:
    """INSERT the new elders with executemany (the ORM's per-field work dominates a 10,000-row import).

    Values go through the backend's own adapters and the encrypted field's get_prep_value, so the
    rows are exactly what save() would write. Returns {id_hash: pk}.
    """
    if not elders:
        return {}
    from django.db import models as dj

    ops = connection.ops
    fields = [f for f in Elder._meta.concrete_fields if not f.primary_key]
    adapters = []
    for field in fields:
        if isinstance(field, dj.DateTimeField):
            adapters.append(ops.adapt_datetimefield_value)
        elif isinstance(field, dj.DateField):
            adapters.append(ops.adapt_datefield_value)
        elif field.name == "id_number":
            adapters.append(field.get_prep_value)
        else:
            adapters.append(None)
    for elder in elders:
        elder.created_at = elder.updated_at = now
    rows = [
        tuple(
            adapt(getattr(elder, f.attname)) if adapt else getattr(elder, f.attname)
            for f, adapt in zip(fields, adapters, strict=True)
        )
        for elder in elders
    ]
    table = connection.ops.quote_name(Elder._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, 1000):
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", chunk)  # noqa: S608
    ids: dict[str, int] = {}
    for chunk in _chunks([e.id_hash for e in elders], 500):
        ids.update(Elder.objects.filter(id_hash__in=chunk).values_list("id_hash", "pk"))
    return ids


def _insert_history(entries: list[tuple[int, dict]], *, actor_id: int | None, at) -> None:
    if not entries:
        return
    from django.core.serializers.json import DjangoJSONEncoder

    ops = connection.ops
    when = ops.adapt_datetimefield_value(at)
    table = ops.quote_name(ElderChange._meta.db_table)
    rows = [
        (elder_id, ElderChangeKind.IMPORT.value, actor_id, when, ops.adapt_json_value(changes, DjangoJSONEncoder), "")
        for elder_id, changes in entries
    ]
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, 1000):
            cursor.executemany(
                f"INSERT INTO {table} (elder_id, kind, actor_id, at, changes, reason) VALUES (%s, %s, %s, %s, %s, %s)",  # noqa: S608
                chunk,
            )


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
    parsed = parse_file(content=content, filename=filename)
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


def run_in_background(job_id: int, step: str, actor_id: int | None = None) -> None:
    """Run a step (validate/apply) in a thread once the current transaction commits."""

    def target():
        try:
            job = ImportJob.objects.select_related("created_by", "region").get(pk=job_id)
            if step == "validate":
                import_validate(job=job)
            else:
                import_apply(job=job, actor=job.created_by, claimed=True)
        except Exception:  # noqa: BLE001,S110 — the job row records the failure
            ImportJob.objects.filter(pk=job_id).exclude(status=ImportStatus.DONE).update(status=ImportStatus.FAILED)
        finally:
            connection.close()

    transaction.on_commit(lambda: threading.Thread(target=target, daemon=True).start())
