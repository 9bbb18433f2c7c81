"""Import from village spreadsheets: xlsx/csv/GBK, row errors, all-or-nothing, re-import, bad files, scope."""

import contextlib
import datetime
import io
import tracemalloc
import zipfile

import openpyxl
import pytest

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from portal.identity import INVALID_CHECK
from portal.models import AuditEvent, Region
from services.ledger import imports, spreadsheet
from services.ledger.models import Elder, ElderChange, ImportJob, ImportStatus
from services.tests.factories_ledger import ElderFactory, make_id_number

pytestmark = pytest.mark.django_db
HEADERS = [
    "序号",
    "姓名",
    "性别",
    "身份证号",
    "出生日期",
    "村",
    "住址",
    "联系电话",
    "经济状况",
    "能力等级",
    "居住情况",
    "家庭医生签约",
]


def _row(n, *, name=None, sex="女", birth=datetime.date(1945, 1, 2), village="大营村", number=None, **extra):
    number = number or make_id_number(birth, "F" if sex == "女" else "M", serial=n)
    row = [
        n,
        name or f"老人{n}",
        sex,
        number,
        birth.isoformat(),
        village,
        f"大营村{n}组",
        "",
        "低保",
        "能力完好",
        "独居",
        "否",
    ]
    for index, value in extra.items():
        row[int(index[1:])] = value
    return row


def xlsx_bytes(rows, headers=HEADERS, title=True) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    if title:
        sheet.append(["西吉县吉强镇大营村留守老年人信息台账"])
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, headers=HEADERS, encoding="utf-8") -> bytes:
    lines = [",".join(headers)] + [",".join(str(c) for c in row) for row in rows]
    return ("\n".join(lines) + "\n").encode(encoding)


def _upload(client, content, name="台账.xlsx", **extra):
    return client.post(reverse("services:elder-import"), {"file": SimpleUploadedFile(name, content), **extra})


@pytest.fixture
def lclient(client, liaison):
    client.force_login(liaison)
    return client


def test_xlsx_preview_then_import_then_reimport_updates(lclient, liaison):
    content = xlsx_bytes([_row(i) for i in range(1, 6)])
    response = _upload(lclient, content)
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.READY and job.total == 5 and job.created_count == 5
    page = lclient.get(response.url).content.decode()
    assert "老人1" in page and "6404*************" in page
    assert make_id_number(datetime.date(1945, 1, 2), "F", serial=1) not in page
    assert not Elder.objects.exists()  # nothing before confirming
    lclient.post(reverse("services:elder-import-confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.created_count == 5
    assert Elder.objects.filter(village_id="640422100201", economic_status="subsistence").count() == 5
    assert ElderChange.objects.filter(kind="import").count() == 5
    assert AuditEvent.objects.filter(object_type="services.importjob", action="create").exists()
    # a replayed confirmation does nothing
    lclient.post(reverse("services:elder-import-confirm", args=[job.pk]))
    assert Elder.objects.count() == 5
    # the same file again: updates, no duplicates; a changed cell updates that elder
    rows = [_row(i) for i in range(1, 6)]
    rows[0][6] = "大营村新址"
    _upload(lclient, xlsx_bytes(rows))
    second = ImportJob.objects.latest("pk")
    assert second.status == ImportStatus.READY and second.created_count == 0 and second.updated_count == 5
    lclient.post(reverse("services:elder-import-confirm", args=[second.pk]))
    second.refresh_from_db()
    assert second.status == ImportStatus.DONE and second.created_count == 0 and second.updated_count == 1
    assert Elder.objects.count() == 5
    changed = Elder.objects.get(address="大营村新址")
    assert changed.version == 2


def test_gbk_csv_and_utf8_csv(lclient):
    for encoding, start in (("gbk", 1), ("utf-8-sig", 10)):
        rows = [_row(i) for i in range(start, start + 3)]
        response = _upload(lclient, csv_bytes(rows, encoding=encoding), name="台账.csv")
        assert response.status_code == 302
        job = ImportJob.objects.latest("pk")
        assert job.status == ImportStatus.READY, job.errors
        lclient.post(reverse("services:elder-import-confirm", args=[job.pk]))
    assert Elder.objects.count() == 6
    assert Elder.objects.filter(name="老人1", address="大营村1组").exists()


def test_row_errors_listed_and_nothing_written(lclient):
    ElderFactory(
        village=Region.objects.get(code="640422101201"),
        id_number=make_id_number(datetime.date(1945, 1, 2), "F", serial=90),
    )
    good = _row(1)
    bad_check = _row(2)
    bad_check[3] = bad_check[3][:17] + ("0" if bad_check[3][17] != "0" else "1")
    dup = _row(3, number=good[3])
    unknown = _row(4, village="不存在村")
    other = _row(5, village="")
    other[5] = ""
    impossible = _row(6)
    impossible[4] = "1945-02-30"
    mismatch = _row(7, sex="男", number=make_id_number(datetime.date(1945, 1, 2), "F", serial=7))
    elsewhere = _row(8, number=make_id_number(datetime.date(1945, 1, 2), "F", serial=90))
    rows = [good, bad_check, dup, unknown, other, impossible, mismatch, elsewhere]
    response = _upload(lclient, xlsx_bytes(rows, headers=HEADERS))
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.INVALID
    by_row = {}
    for e in job.errors:
        by_row.setdefault(e["row"], []).append(e["message"])
    # the title row is row 1, headers row 2, data from row 3
    assert 3 not in by_row
    with translation.override("zh-hans"):
        assert str(INVALID_CHECK) in by_row[4]
    with translation.override("zh-hans"):
        assert str(imports.ROW_DUPLICATE_IN_FILE % {"row": 3}) in by_row[5]
        assert str(imports.ROW_DUPLICATE_ELSEWHERE) in by_row[10]
        assert str(imports.ROW_BAD_DATE % {"value": "1945-02-30"}) in by_row[8]
        assert str(imports.ROW_SEX_MISMATCH) in by_row[9]
    assert 6 in by_row and 7 in by_row  # unknown village; no village and no default
    assert 8 in by_row and 9 in by_row and 10 in by_row
    html = lclient.get(response.url).content.decode()
    assert "不存在村" in html
    assert Elder.objects.count() == 1  # only the one made above
    assert good[3] not in str(job.errors)


def test_liaison_cannot_import_into_another_village(lclient):
    rows = [_row(1), _row(2)]
    rows[1][5] = ""
    headers = [*HEADERS]
    headers[5] = "行政区划代码"
    rows[0][5] = "640422100201"
    rows[1][5] = "640422100202"  # same township, another village
    _upload(lclient, xlsx_bytes(rows, headers=headers))
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.INVALID
    assert [e["row"] for e in job.errors] == [4]
    assert not Elder.objects.exists()


def test_township_officer_imports_by_village_name(client, township_officer):
    client.force_login(township_officer)
    rows = [_row(1, village="大营村委会"), _row(2, village="大营村")]
    _upload(client, xlsx_bytes(rows))
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.READY, job.errors


@pytest.mark.parametrize(
    ("content", "name", "code"),
    [
        (b"", "a.csv", "empty"),
        (b"   \n  \n", "a.csv", "empty"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "photo.xlsx", "not_spreadsheet"),
        (b"%PDF-1.4 something", "scan.csv", "not_spreadsheet"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.xls", "old_excel"),
        (b"PK\x03\x04 not really a zip", "broken.xlsx", "not_spreadsheet"),
        ("名字,号码,地方\n张三,1,2\n".encode(), "wrong.csv", "missing_headers"),
        ("姓名,身份证号\n".encode(), "headers-only.csv", "no_rows"),
        (b"\xff\xfe\x00\x00garbage\x00\x00", "bin.csv", "not_spreadsheet"),
    ],
)
def test_bad_files_clear_error_nothing_written(lclient, content, name, code):
    response = lclient.post(reverse("services:elder-import"), {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["file"], code
    if code != "empty":
        assert form.has_error("file", code=code), form.errors
    assert not ImportJob.objects.exists() and not Elder.objects.exists()


def test_fifty_megabyte_file_refused_before_parsing(lclient, monkeypatch):
    def boom(**kwargs):
        raise AssertionError("parsed a file that is too large")

    monkeypatch.setattr(spreadsheet, "parse_file", boom)
    big = SimpleUploadedFile("big.csv", b"a" * (50 * 1024 * 1024))
    response = lclient.post(reverse("services:elder-import"), {"file": big})
    assert response.status_code == 400
    assert response.context["form"].has_error("file", code="too_large")
    assert not ImportJob.objects.exists()


def test_gbk_without_utf8_and_bad_encoding_message():
    content = "姓名,身份证号,村\n马兰,1,大营村\n".encode("gb18030")
    parsed = spreadsheet.parse_file(content=content, filename="a.csv")
    assert parsed.rows[0][1]["name"] == "马兰"


def test_id_stored_as_number_is_a_row_error(lclient):
    row = _row(1)
    row[3] = 640422194501020011
    _upload(lclient, xlsx_bytes([row]))
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.INVALID
    assert "Excel" in job.errors[0]["message"]


def test_roles_and_other_peoples_jobs(client, lclient, supervisor, volunteer, township_officer):
    _upload(lclient, xlsx_bytes([_row(1)]))
    job = ImportJob.objects.get()
    client.logout()
    client.force_login(township_officer)
    assert client.get(reverse("services:elder-import-job", args=[job.pk])).status_code == 404
    assert client.post(reverse("services:elder-import-confirm", args=[job.pk])).status_code == 404
    for user in (supervisor, volunteer):
        client.force_login(user)
        assert client.get(reverse("services:elder-import")).status_code == 403
        assert (
            client.post(
                reverse("services:elder-import"), {"file": SimpleUploadedFile("a.xlsx", xlsx_bytes([_row(2)]))}
            ).status_code
            == 403
        )
    assert not Elder.objects.exists()


def test_progress_page_refreshes_while_running(lclient, liaison):
    job = ImportJob.objects.create(created_by=liaison, filename="big.xlsx", total=10000, status=ImportStatus.RUNNING)
    from django.core.cache import cache

    cache.set(imports.progress_key(job.pk), 2500)
    html = lclient.get(reverse("services:elder-import-job", args=[job.pk])).content.decode()
    assert 'http-equiv="refresh"' in html and "2500" in html and "25%" in html


def test_large_file_runs_in_background(lclient, settings, django_capture_on_commit_callbacks):
    """Above the inline limit both steps run as queued tasks (the immediate backend here) and the page shows
    the result."""
    settings.LEDGER_IMPORT_INLINE_ROWS = 2
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(lclient, xlsx_bytes([_row(i) for i in range(1, 6)]))
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.READY
    with django_capture_on_commit_callbacks(execute=True):
        lclient.post(reverse("services:elder-import-confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and Elder.objects.count() == 5
    assert "5" in lclient.get(response.url).content.decode()


def test_command_dry_run_errors_and_import(tmp_path, capsys):
    good = tmp_path / "good.xlsx"
    good.write_bytes(xlsx_bytes([_row(i) for i in range(1, 4)]))
    call_command("import_elders", str(good), "--region", "640422100000", "--dry-run")
    assert not Elder.objects.exists()
    call_command("import_elders", str(good), "--region", "640422100000")
    assert Elder.objects.count() == 3
    call_command("import_elders", str(good), "--region", "640422100000")  # again: no duplicates
    assert Elder.objects.count() == 3
    bad_rows = [_row(5), _row(6)]
    bad_rows[1][3] = "123"
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(bad_rows, encoding="gbk"))
    with pytest.raises(CommandError):
        call_command("import_elders", str(bad), "--region", "640422100000")
    assert "row 3" in capsys.readouterr().err
    assert Elder.objects.count() == 3
    with pytest.raises(CommandError):  # a village of another township is outside the region
        call_command("import_elders", str(good), "--region", "640422101000")
    wrong = tmp_path / "wrong.txt"
    wrong.write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(CommandError):
        call_command("import_elders", str(wrong), "--region", "640422100000")


# --- hostile workbooks: refused with a message, in bounded memory (issue 15 items 5 and 6) ---------------


def _raw_xlsx(sheet_rows_xml: str, shared: list[str] | None = None) -> bytes:
    """A minimal workbook written by hand, as an attacker would: rows given as XML, optional shared strings."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel_ns = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook {ns} {rel_ns}><sheets><sheet name="台账" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        if shared is not None:
            items = "".join(f"<si><t>{text}</t></si>" for text in shared)
            archive.writestr("xl/sharedStrings.xml", f"<sst {ns}>{items}</sst>")
        archive.writestr(
            "xl/worksheets/sheet1.xml", f"<worksheet {ns}><sheetData>{sheet_rows_xml}</sheetData></worksheet>"
        )
    return buffer.getvalue()


HEADER_ROW = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c><c r="B1" t="inlineStr"><is><t>身份证号</t></is></c>'
    '<c r="C1" t="inlineStr"><is><t>村</t></is></c></row>'
)


def _peak_mb(func) -> float:
    tracemalloc.start()
    with contextlib.suppress(spreadsheet.ImportFileError):
        func()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def test_cells_far_to_the_right_are_refused_in_bounded_memory(lclient):
    """40,000 rows each with a cell in column XFD (a 200 KB file that once took 3 GB)."""
    rows = "".join(f'<row r="{n}"><c r="XFD{n}" t="inlineStr"><is><t>x</t></is></c></row>' for n in range(2, 40_002))
    content = _raw_xlsx(HEADER_ROW + rows)
    assert len(content) < 1024 * 1024
    peak = _peak_mb(lambda: spreadsheet.parse_file(content=content, filename="wide.xlsx"))
    assert peak < 200, f"{peak:.0f} MB"
    response = _upload(lclient, content, name="wide.xlsx")
    assert response.status_code == 400 and response.context["form"].has_error("file", code="too_wide")
    assert "XFD" in str(response.context["form"].errors["file"])
    assert not ImportJob.objects.exists() and not Elder.objects.exists()


def test_an_absurd_cell_reference_is_a_message_not_a_server_error(lclient):
    content = _raw_xlsx(HEADER_ROW + '<row r="2"><c r="ZZZZZZZZ2" t="inlineStr"><is><t>马兰</t></is></c></row>')
    response = _upload(lclient, content, name="odd.xlsx")
    assert response.status_code == 400 and response.context["form"].has_error("file", code="too_wide")
    assert not ImportJob.objects.exists()


def test_a_workbook_that_unpacks_to_hundreds_of_megabytes_is_refused_unread(lclient):
    """A 1.5 MB workbook of huge shared strings (it once took 1.7 GB): its directory gives it away."""
    content = _raw_xlsx(HEADER_ROW, shared=["留" * 20_000_000, "守" * 20_000_000, "老" * 20_000_000])
    assert len(content) < 2 * 1024 * 1024
    peak = _peak_mb(lambda: spreadsheet.parse_file(content=content, filename="strings.xlsx"))
    assert peak < 200, f"{peak:.0f} MB"
    response = _upload(lclient, content, name="strings.xlsx")
    assert response.status_code == 400 and response.context["form"].has_error("file", code="too_much_inside")
    assert not ImportJob.objects.exists()


def test_a_name_too_long_is_a_row_error_not_silently_cut(lclient):
    content = xlsx_bytes([_row(1, name="马" * 70_000), _row(2)])
    response = _upload(lclient, content)
    job = ImportJob.objects.get()
    assert job.status != ImportStatus.DONE
    assert job.status == ImportStatus.INVALID
    assert [(e["row"], e["column"]) for e in job.errors] == [(3, "姓名")]  # row 3: under the title and header
    assert "50" in job.errors[0]["message"]
    assert not Elder.objects.exists()
    assert response.status_code in (200, 302)
