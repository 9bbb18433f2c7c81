"""Reading the spreadsheets villages already keep (.xlsx or .csv in UTF-8 or GBK/GB18030): the file checks, the
known Chinese headers and their aliases, and the rows as text."""

import csv
import datetime
import io
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from services.ledger.models import (
    AbilityLevel,
    EconomicStatus,
    Elder,
    LeftBehindBasis,
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
TOO_MUCH_INSIDE = _(
    "The workbook unpacks to more than %(limit)s MB, far more than a ledger needs. Copy just the ledger's rows "
    "into a new workbook and upload that."
)
TOO_MANY_COLUMNS = _(
    "The sheet has something in column %(column)s; a ledger has at most %(limit)s columns. Delete the columns "
    "after your last one and upload again."
)
TEXT_TOO_LONG_IN_FILE = _("A cell holds more than %(limit)s characters; no ledger field is that long.")

# --- columns ---------------------------------------------------------------------------------------
# Header (as villages write it) → field. Spaces, full-width brackets and a trailing * are ignored.
HEADER_ALIASES = {
    "name": ("姓名", "老人姓名", "名字", "老年人姓名", "留守老人姓名", "留守老年人姓名"),
    "gender": ("性别", "性 别"),
    "id_number": (
        "身份证号",
        "身份证号码",
        "公民身份号码",
        "公民身份证号码",
        "公民身份证号",
        "居民身份证号码",
        "居民身份证号",
        "身份证件号码",
        "身份证",
        "证件号码",
        "证件号",
    ),
    "birth_date": ("出生日期", "出生年月日", "出生年月", "出生时间"),
    "village": ("村", "村委会", "所在村", "所属村", "村(社区)", "村名", "村居", "村民委员会", "行政村"),
    "village_code": ("行政区划代码", "区划代码", "村代码", "统计用区划代码"),
    "address": ("住址", "家庭住址", "地址", "现住址"),
    "phone": ("联系电话", "电话", "手机号", "手机", "本人电话", "手机号码", "联系方式", "老人电话"),
    "income_sources": ("收入来源", "主要收入来源"),
    "family_structure": ("家庭结构", "家庭成员", "家庭成员情况"),
    "children_count": ("子女数", "子女人数", "子女数量"),
    "living_arrangement": ("居住情况", "居住状况", "居住方式", "留守类型", "居住类型"),
    "health": ("健康状况", "身体状况"),
    "ability_level": ("能力等级", "失能等级", "自理能力", "能力评估", "身体自理能力", "老年人能力等级"),
    "economic_status": ("经济状况", "经济情况", "经济类别", "经济状况类别", "家庭经济状况"),
    "care_situation": ("照料情况", "照护情况"),
    "left_behind_basis": ("留守情形", "留守原因", "留守类别", "留守情况"),
    "difficulties": ("主要困难", "困难", "存在困难"),
    "family_doctor_signed": ("家庭医生签约", "家庭医生"),
    "fire_safety_needed": ("需安装消防设施", "消防安全等级低"),
    "smoke_alarm": ("独立式烟感报警", "烟感报警", "烟感"),
    "sprinkler": ("简易喷淋", "喷淋"),
}
HEADER_LABELS = {field: aliases[0] for field, aliases in HEADER_ALIASES.items()}
REQUIRED = ("name", "id_number")

CHOICE_WORDS = {
    "left_behind_basis": {
        LeftBehindBasis.CHILDREN_AWAY: ("子女全部外出", "子女外出", "子女全部外出务工", "子女均外出", "子女外出务工"),
        LeftBehindBasis.NO_CAPABLE_SUPPORTER: ("赡养人无赡养能力", "无赡养能力", "身边无赡养人", "无赡养人"),
        LeftBehindBasis.NEITHER: ("都不是", "不符合", "非留守"),
    },
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


def _norm_choice(value) -> str:
    """A cell's option text compared loosely: no spaces, half-width brackets, lower case."""
    text = str(value or "").strip().lower()
    for a, b in (("（", "("), ("）", ")"), (" ", ""), ("\u3000", ""), ("\n", "")):
        text = text.replace(a, b)
    return text


def _choice_words() -> dict[str, dict[str, str]]:
    """{field: {word: value}}: the words above, plus every label the app itself shows for the choice, in
    Chinese and English ("与配偶同住（空巢）", "With spouse only"), and the parts of a label in brackets
    ("与配偶同住", "空巢")."""
    words: dict[str, dict[str, str]] = {}
    for field, mapping in CHOICE_WORDS.items():
        lookup = words.setdefault(field, {})
        model_field = Elder._meta.get_field(field)
        labels = {value: list(extra) for value, extra in mapping.items()}
        for language in ("zh-hans", "en"):
            with translation.override(language):
                for value, label in model_field.choices:
                    labels.setdefault(value, []).append(str(label))
        for value, texts in labels.items():
            for text in texts:
                key = _norm_choice(text)
                lookup.setdefault(key, str(value))
                lookup.setdefault(_norm_choice(value), str(value))
                if "(" in key and key.endswith(")"):
                    outside, inside = key[:-1].split("(", 1)
                    lookup.setdefault(outside, str(value))
                    lookup.setdefault(inside, str(value))
    return words


class _LazyLookup(dict):
    """CHOICE_LOOKUP and OPTION_LOOKUP are built on first use (translations need the app registry)."""

    def __init__(self, build):
        super().__init__()
        self._build = build

    def _fill(self):
        if not super().__len__():
            self.update(self._build())

    def __getitem__(self, key):
        self._fill()
        return super().__getitem__(key)

    def get(self, key, default=None):
        self._fill()
        return super().get(key, default)

    def __contains__(self, key):
        self._fill()
        return super().__contains__(key)

    def items(self):
        self._fill()
        return super().items()

    def __iter__(self):
        self._fill()
        return super().__iter__()

    def __len__(self):
        self._fill()
        return super().__len__()


def _option_lookup() -> dict[str, tuple[str, str]]:
    """Option word → (field, word) for √-ticked columns headed by an option ("独居", "低保"); words that belong
    to more than one field are left out."""
    fields_of: dict[str, set[str]] = {}
    for field, lookup in CHOICE_LOOKUP.items():
        for word in lookup:
            fields_of.setdefault(word, set()).add(field)
    return {
        word: (next(iter(fields)), word)
        for word, fields in fields_of.items()
        if len(fields) == 1 and word not in ("无", "其他", "other", "一般", "是", "否")
    }


CHOICE_LOOKUP = _LazyLookup(_choice_words)


def choice_labels(field: str) -> str:
    """The options of a choice column as the app shows them, for a row error ("独居、与配偶同住（空巢）…")."""
    return "、".join(str(label) for _value, label in Elder._meta.get_field(field).choices)


OPTION_LOOKUP = _LazyLookup(_option_lookup)
TICK_WORDS = {"√", "✓", "✔", "☑", "v", "是", "1", "y", "yes", "true", "○", "●"}
TWO_TICKS_MARK = "\u0000ticks:"  # a parsed value meaning "more than one option ticked"
SUB_HEADER_WORDS = {"子女姓名", "务工地点", "子女电话", "与老人关系", "关系", "工作单位", "务工地", "外出地点"}
SIGNATURE_WORDS = ("签名", "签字", "盖章", "负责人", "填表人", "填报人", "审核人", "制表人", "填报日期", "填表日期")
HEADER_SEARCH_ROWS = 6
TRUE_WORDS = {"是", "有", "已签约", "签约", "已安装", "安装", "√", "✓", "y", "yes", "1", "true"}
FALSE_WORDS = {"否", "无", "未签约", "未安装", "没有", "×", "n", "no", "0", "false"}
BOOL_FIELDS = ("family_doctor_signed", "fire_safety_needed", "smoke_alarm", "sprinkler")
TEXT_FIELDS = ("address", "income_sources", "family_structure", "health", "care_situation", "difficulties")
TEXT_LIMITS = {"name": 50, "address": 200, "income_sources": 200}
MAX_ROWS = 50_000
MAX_COLUMNS = 200
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell
MAX_UNZIPPED = 100 * 1024 * 1024  # a 50,000-row ledger unpacks to ~40 MB


def max_bytes() -> int:
    return int(getattr(settings, "LEDGER_IMPORT_MAX_BYTES", 10 * 1024 * 1024))


def inline_rows() -> int:
    """Files with more rows than this are checked and imported in the background."""
    return int(getattr(settings, "LEDGER_IMPORT_INLINE_ROWS", 1000))


class ImportFileError(ValidationError):
    pass


def _norm_header(value) -> str:
    """Spaces, line breaks, full-width brackets, a trailing * and a note in brackets ("身份证号（18位）") ignored."""
    text = str(value or "").strip()
    for a, b in ((" ", ""), ("\u3000", ""), ("\n", ""), ("\r", ""), ("（", "("), ("）", ")"), ("：", ""), (":", "")):
        text = text.replace(a, b)
    text = text.strip("*＊")
    if text.endswith(")") and "(" in text and text.index("(") > 0:
        bare = text[: text.index("(")]
        if bare in _BARE_ALIASES:
            return bare
    return text


_BARE_ALIASES: set[str] = set()
_BARE_ALIASES.update(_norm_header(a) for aliases in HEADER_ALIASES.values() for a in aliases)
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
    """0-based column of a cell reference such as "C12"; beyond MAX_COLUMNS it stops counting (a hostile
    "ZZZZZZZZ2" must not make a list of 200 billion cells)."""
    index = 0
    for char in ref:
        if not ("A" <= char.upper() <= "Z"):
            break
        index = index * 26 + (ord(char.upper()) - 64)
        if index > MAX_COLUMNS + 1:
            return MAX_COLUMNS + 1
    return index - 1


def _column_name(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _check_archive(archive: zipfile.ZipFile) -> None:
    """Refuse a zip bomb before unpacking anything: the sizes its directory declares, summed."""
    unpacked = sum(member.file_size for member in archive.infolist())
    if unpacked > MAX_UNZIPPED:
        raise ImportFileError(TOO_MUCH_INSIDE % {"limit": MAX_UNZIPPED // (1024 * 1024)}, code="too_much_inside")


def _place(row: list, index: int, value, ref: str = "") -> None:
    """Put a cell's value at its column; empty cells far to the right are ignored, filled ones refused."""
    if index >= MAX_COLUMNS:
        if value in (None, ""):
            return
        letters = "".join(c for c in ref[:12] if c.isalpha()).upper() or _column_name(index)
        raise ImportFileError(TOO_MANY_COLUMNS % {"column": letters, "limit": MAX_COLUMNS}, code="too_wide")
    if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
        raise ImportFileError(TEXT_TOO_LONG_IN_FILE % {"limit": MAX_CELL_CHARS}, code="cell_too_long")
    row.extend([None] * (index - len(row)))
    row.append(value)


def _read_xlsx_fast(content: bytes) -> list[tuple[int, list]]:
    """The first sheet's cell values straight from the XML (5× faster than openpyxl for 10,000 rows).

    Dates stay Excel serial numbers here; `_check_row` turns a number in the birth-date column into a date.
    Anything unusual raises, and the caller falls back to openpyxl.
    """
    from xml.etree.ElementTree import iterparse  # noqa: S405 — a zip member of an uploaded workbook; no DTDs in expat

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        _check_archive(archive)
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
                    text = "".join(t.text or "" for t in element.iter(f"{_NS}t"))
                    shared.append(text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS + 1])
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
                _place(row, _column_index(ref) if ref else len(row), value, ref or "")
            number = element.get("r")
            rows.append((int(number) if number and number.isdigit() else (rows[-1][0] + 1 if rows else 1), row))
            element.clear()
            if len(rows) > MAX_ROWS + 10:
                break
        return rows


def _read_xlsx(content: bytes) -> list[tuple[int, list]]:
    try:
        return _read_xlsx_fast(content)
    except ImportFileError:
        raise
    except Exception:  # noqa: BLE001,S110 — unusual workbook: let openpyxl read it
        pass
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            _check_archive(archive)
    except zipfile.BadZipFile as exc:
        raise ImportFileError(NOT_A_SPREADSHEET, code="not_spreadsheet") from exc

    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportFileError(NOT_A_SPREADSHEET, code="not_spreadsheet") from exc
    try:
        sheet = book.worksheets[0]
        rows = []
        for number, row in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), start=1):
            rows.append((number, list(row)))
            if len(rows) > MAX_ROWS + 10:
                break
        return rows
    finally:
        book.close()


def _read_csv(content: bytes) -> list[tuple[int, list]]:
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
    reader = csv.reader(io.StringIO(text), dialect)
    return [(reader.line_num, row) for row in reader]


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
    table = [(number, row) for number, row in table if any(_cell_text(c) for c in row)]
    if not table:
        raise ImportFileError(FILE_EMPTY, code="empty")
    # The header row is the first of the top rows with the required headers (title rows may come first).
    header_index = None
    for index, (_number, row) in enumerate(table[:HEADER_SEARCH_ROWS]):
        found = {ALIAS_LOOKUP.get(_norm_header(c)) for c in row}
        if all(f in found for f in REQUIRED):
            header_index = index
            break
    if header_index is None:
        found_headers = "、".join(_cell_text(c) for c in table[0][1] if _cell_text(c))[:200] or "—"
        required = "、".join(HEADER_LABELS[f] for f in REQUIRED)
        raise ImportFileError(MISSING_HEADERS % {"required": required, "found": found_headers}, code="missing_headers")
    header = list(table[header_index][1])
    # A second header row under merged group cells (赡养人情况 over 子女姓名 / 务工地点 / 子女电话,
    # 居住情况 over 独居 / 与配偶同住 / … ticked with √).
    sub: list = []
    if header_index + 1 < len(table) and _is_sub_header(header, table[header_index + 1][1]):
        sub = list(table[header_index + 1][1])
        header_index += 1
    columns = _columns(header, sub)
    fields: list[str | None] = [c[0] if c and c[1] is None else None for c in columns]
    ignored = [label for label in (_column_label(header, sub, i) for i, c in enumerate(columns) if c is None) if label]
    body = _strip_signature_rows(table[header_index + 1 :], columns)
    if not body:
        raise ImportFileError(NO_ROWS, code="no_rows")
    if len(body) > MAX_ROWS:
        raise ImportFileError(TOO_MANY_ROWS % {"limit": MAX_ROWS}, code="too_many_rows")
    rows = []
    for number, row in body:
        values: dict[str, object] = {}
        ticks: dict[str, list[str]] = {}
        for column, cell in zip(columns, row, strict=False):
            if column is None:
                continue
            field, option = column
            if option is not None:
                if _cell_text(cell).lower() in TICK_WORDS:
                    ticks.setdefault(field, []).append(option)
            elif isinstance(cell, int | float) and field == "id_number":
                values[field] = cell
            else:
                values[field] = _cell_text(cell)
        for field, options in ticks.items():
            if not values.get(field):
                values[field] = options[0] if len(options) == 1 else TWO_TICKS_MARK + "、".join(options)
        rows.append((number, values))
    return ParsedFile(fields=fields, ignored=ignored, rows=rows)


def _is_sub_header(header: list, row: list) -> bool:
    """A row right under the header is a second header row when every filled cell is a header word under a
    merged group cell (子女姓名 under 赡养人情况) or an option under its question (独居 under 居住情况) — an
    elder's row always has something else (a name under 姓名)."""
    filled = False
    for index, cell in enumerate(row):
        text = _cell_text(cell)
        if not text:
            continue
        filled = True
        top = _cell_text(header[index]) if index < len(header) else ""
        top_field = ALIAS_LOOKUP.get(_norm_header(top)) if top else None
        if top_field is None:
            known = _norm_header(text) in ALIAS_LOOKUP or _norm_header(text) in SUB_HEADER_WORDS
            if not (known or _norm_choice(text) in OPTION_LOOKUP):
                return False
        elif not (top_field in CHOICE_WORDS and _norm_choice(text) in CHOICE_LOOKUP[top_field]):
            return False
    return filled


def _group_of(header: list, index: int) -> str:
    """The group cell a column sits under: the nearest filled header cell at or left of it (merged cells keep
    their text in the first column only)."""
    for left in range(min(index, len(header) - 1), -1, -1):
        text = _cell_text(header[left])
        if text:
            return text
    return ""


def _columns(header: list, sub: list) -> list[tuple[str, str | None] | None]:
    """For each column: (field, None) for a value column, (field, option label) for a √-ticked option
    column, None for a column we do not read."""
    width = max(len(header), len(sub))
    columns: list[tuple[str, str | None] | None] = []
    seen: set[str] = set()
    for index in range(width):
        top = _cell_text(header[index]) if index < len(header) else ""
        low = _cell_text(sub[index]) if index < len(sub) else ""
        column = None
        if low:
            group_field = ALIAS_LOOKUP.get(_norm_header(_group_of(header, index)))
            option = OPTION_LOOKUP.get(_norm_choice(low))
            if option and (group_field is None or group_field == option[0]):
                column = option
            elif group_field in CHOICE_WORDS and _norm_choice(low) in CHOICE_LOOKUP[group_field]:
                column = (group_field, low)
            elif _norm_header(low) in ALIAS_LOOKUP:
                column = (ALIAS_LOOKUP[_norm_header(low)], None)
        elif top:
            if _norm_header(top) in ALIAS_LOOKUP:
                column = (ALIAS_LOOKUP[_norm_header(top)], None)
            elif _norm_choice(top) in OPTION_LOOKUP:
                column = OPTION_LOOKUP[_norm_choice(top)]
        if column and column[1] is None:
            if column[0] in seen:
                column = None
            else:
                seen.add(column[0])
        columns.append(column)
    return columns


def _column_label(header: list, sub: list, index: int) -> str:
    top = _cell_text(header[index]) if index < len(header) else ""
    low = _cell_text(sub[index]) if index < len(sub) else ""
    if low:
        group = _group_of(header, index)
        return f"{group}·{low}" if group and group != low else low
    return top


def _strip_signature_rows(body: list, columns: list) -> list:
    """Drop the rows under the data that are no elders: signatures and dates (单位负责人（签名）…), and rows
    with nothing in any column we read (a numbered but empty template row)."""
    read = [i for i, c in enumerate(columns) if c is not None]
    id_column = next((i for i, c in enumerate(columns) if c == ("id_number", None)), None)
    kept = []
    for number, row in body:
        if not any(_cell_text(row[i]) for i in read if i < len(row)):
            continue
        has_id = (
            id_column is not None and id_column < len(row) and any(ch.isdigit() for ch in _cell_text(row[id_column]))
        )
        text = "".join(_cell_text(c) for c in row)
        if not has_id and any(word in text for word in SIGNATURE_WORDS):
            continue
        kept.append((number, row))
    return kept
