"""The spreadsheets villages really keep: title rows, merged two-level headers, √-ticked option columns, dates
in several styles, signature rows, header synonyms, the app's own labels, IDs Excel turned into numbers; and the
policy's definition of a left-behind elder applied to every row."""

import datetime
import io

import openpyxl
import pytest
import time_machine

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from services.ledger import imports, spreadsheet
from services.ledger.eligibility import NOT_LEFT_BEHIND, UNDER_AGE
from services.ledger.models import Elder, ImportJob, ImportStatus
from services.tests.factories_ledger import make_id_number

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 6, 1, 10, tzinfo=datetime.UTC)


@pytest.fixture
def lclient(client, liaison):
    client.force_login(liaison)
    return client


def _upload(client, content, name="台账.xlsx"):
    """As the page sends it: a liaison's one village is chosen already for rows without a 村 column."""
    data = {"file": SimpleUploadedFile(name, content), "village": "640422100201"}
    return client.post(reverse("services:elder-import"), data)


def _save(book) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def village_workbook(rows, *, id_as_number_row=None) -> bytes:
    """As 大营村 keeps it: two title rows, a two-row header with merged cells (姓名 … over two rows, 赡养人情况
    over 子女姓名/务工地点/子女电话, 居住情况 over one √ column per option), signature rows under the data."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["大营村农村留守老年人基本情况登记表"])
    sheet.merge_cells("A1:K1")
    sheet.append(["填报单位：大营村村民委员会", None, None, None, "填报日期：2026年5月20日"])
    sheet.append(
        ["序号", "姓 名", "性别", "公民身份证号码", "出生年月日", "居住情况", None, None, "赡养人情况", None, None]
    )
    sheet.append(
        [None, None, None, None, None, "独居", "与配偶同住（空巢）", "与孙辈同住", "子女姓名", "务工地点", "子女电话"]
    )
    for column in "ABCDE":
        sheet.merge_cells(f"{column}3:{column}4")
    sheet.merge_cells("F3:H3")
    sheet.merge_cells("I3:K3")
    for n, (name, sex, birth, written, ticks) in enumerate(rows, start=1):
        number = make_id_number(birth, "M" if sex == "男" else "F", serial=n)
        sheet.append([n, name, sex, number, written, *ticks, f"{name}之子", "银川", "13800000000"])
        if id_as_number_row == n:
            sheet.cell(row=sheet.max_row, column=4).value = float(number[:17] + "0")
    sheet.append([])
    sheet.append(["单位负责人（签名）：", None, None, "填表人：", None, "联系电话："])
    return _save(book)


def test_a_village_workbook_as_kept_imports_with_its_dates_and_ticks(lclient):
    excel_date = datetime.datetime(1948, 11, 30)  # noqa: DTZ001 — an Excel date cell has no time zone
    rows = [
        ("马兰", "女", datetime.date(1950, 3, 5), "1950-03-05", ("√", "", "")),
        ("杨福", "男", datetime.date(1950, 3, 6), "1950.3.6", ("", "√", "")),
        ("海秀", "女", datetime.date(1951, 12, 1), "1951年12月1日", ("", "", "✓")),
        ("李有", "男", datetime.date(1948, 11, 30), excel_date, ("", "", "")),
    ]
    with time_machine.travel(NOW):
        response = _upload(lclient, village_workbook(rows))
        job = ImportJob.objects.get()
        assert job.status == ImportStatus.READY, job.errors
        assert job.total == 4  # the title, signature and empty rows are no elders
        assert "赡养人情况·务工地点" in imports.ignored_columns(job)
        lclient.post(reverse("services:elder-import-confirm", args=[job.pk]))
    assert response.status_code == 302
    elders = {e.name: e for e in Elder.objects.all()}
    assert set(elders) == {"马兰", "杨福", "海秀", "李有"}
    assert elders["马兰"].birth_date == datetime.date(1950, 3, 5) and elders["马兰"].living_arrangement == "alone"
    assert elders["杨福"].birth_date == datetime.date(1950, 3, 6) and elders["杨福"].living_arrangement == "couple"
    assert elders["海秀"].living_arrangement == "grandchildren"
    assert elders["李有"].birth_date == datetime.date(1948, 11, 30)


def test_an_id_excel_turned_into_a_number_is_refused_on_its_excel_row(lclient):
    rows = [
        ("马兰", "女", datetime.date(1950, 3, 5), "1950-03-05", ("√", "", "")),
        ("杨福", "男", datetime.date(1950, 3, 6), "1950-03-06", ("√", "", "")),
    ]
    with time_machine.travel(NOW):
        _upload(lclient, village_workbook(rows, id_as_number_row=2))
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.INVALID
    [error] = job.errors
    assert error["row"] == 6  # two title rows, two header rows, then 马兰 on row 5 and 杨福 on row 6
    assert error["message"] == str(imports.ROW_ID_AS_NUMBER) and "文本" in error["message"]
    assert not Elder.objects.exists()


def test_two_ticks_for_one_question_is_a_row_error(lclient):
    rows = [("马兰", "女", datetime.date(1950, 3, 5), "1950-03-05", ("√", "√", ""))]
    with time_machine.travel(NOW):
        _upload(lclient, village_workbook(rows))
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.INVALID
    assert job.errors[0]["row"] == 5 and "独居" in job.errors[0]["message"]


def _plain_workbook(header, rows, title_rows=1) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for _ in range(title_rows):
        sheet.append(["西吉县农村留守老年人信息台账"])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    return _save(book)


@pytest.mark.parametrize(
    ("id_header", "label", "expected"),
    [
        ("身份证号", "与配偶同住（空巢）", "couple"),  # the label the elder form shows
        ("身份证号码", "与配偶同住(空巢)", "couple"),
        ("公民身份号码", "空巢", "couple"),
        ("身份证号（18位）", "With spouse only", "couple"),  # the English label
        ("居民身份证号码", "与孙辈同住", "grandchildren"),
    ],
)
def test_every_label_the_app_shows_and_header_synonyms(lclient, id_header, label, expected):
    number = make_id_number(datetime.date(1950, 3, 5), "F", serial=3)
    content = _plain_workbook(
        ["姓名", id_header, "居住情况", "经济状况", "能力等级", "留守情形"],
        [["马兰", number, label, "特困供养", "轻度失能", "子女全部外出"]],
    )
    with time_machine.travel(NOW):
        _upload(lclient, content)
        job = ImportJob.objects.get()
        assert job.status == ImportStatus.READY, job.errors
        lclient.post(reverse("services:elder-import-confirm", args=[job.pk]))
    elder = Elder.objects.get()
    assert (elder.living_arrangement, elder.economic_status, elder.ability_level) == (expected, "destitute", "mild")
    assert elder.left_behind_basis == "children_away"


def test_an_unknown_option_names_the_apps_labels(lclient):
    number = make_id_number(datetime.date(1950, 3, 5), "F", serial=3)
    with time_machine.travel(NOW):
        _upload(lclient, _plain_workbook(["姓名", "身份证号", "居住情况"], [["马兰", number, "住养老院"]]))
    [error] = ImportJob.objects.get().errors
    assert "住养老院" in error["message"] and "与配偶同住（空巢）" in error["message"]


def test_a_csv_id_in_scientific_notation_is_refused_plainly(lclient):
    content = "姓名,身份证号\n马兰,6.40422E+17\n".encode()
    with time_machine.travel(NOW):
        _upload(lclient, content, name="台账.csv")
    [error] = ImportJob.objects.get().errors
    assert error["row"] == 2 and error["message"] == str(imports.ROW_ID_AS_NUMBER)


def test_people_outside_the_policy_are_refused_with_the_reason_and_nothing_is_written(lclient):
    young = make_id_number(datetime.date(1990, 4, 1), "M", serial=1)
    old = make_id_number(datetime.date(1950, 3, 5), "F", serial=2)
    other = make_id_number(datetime.date(1949, 3, 5), "F", serial=4)
    content = _plain_workbook(
        ["姓名", "身份证号", "留守情形"],
        [["青年", young, "子女全部外出"], ["马兰", old, "子女全部外出"], ["海秀", other, "不符合"]],
        title_rows=2,
    )
    with time_machine.travel(NOW):
        _upload(lclient, content)
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.INVALID
    assert [(e["row"], e["message"]) for e in job.errors] == [
        (4, str(UNDER_AGE % {"age": 36})),
        (6, str(NOT_LEFT_BEHIND)),
    ]
    assert not Elder.objects.exists()


@pytest.mark.parametrize(
    ("today", "ok"),
    [
        (datetime.datetime(2026, 3, 4, 12, tzinfo=datetime.UTC), False),  # the day before the 60th birthday
        (datetime.datetime(2026, 3, 5, 12, tzinfo=datetime.UTC), True),  # the birthday
    ],
)
def test_the_sixtieth_birthday_is_the_first_day_on_the_ledger(lclient, today, ok):
    number = make_id_number(datetime.date(1966, 3, 5), "F", serial=2)
    with time_machine.travel(today):
        _upload(lclient, _plain_workbook(["姓名", "身份证号"], [["马兰", number]]))
    job = ImportJob.objects.get()
    assert (job.status == ImportStatus.READY) is ok, job.errors


def test_header_synonyms_and_choice_labels_are_read_by_the_parser():
    assert spreadsheet.ALIAS_LOOKUP[spreadsheet._norm_header("公民身份证号码")] == "id_number"
    assert spreadsheet._norm_header("身份证号\n（18位）") == "身份证号"
    lookup = spreadsheet.CHOICE_LOOKUP["living_arrangement"]
    assert lookup[spreadsheet._norm_choice("与配偶同住（空巢）")] == "couple"
    assert spreadsheet.CHOICE_LOOKUP["economic_status"][spreadsheet._norm_choice("特困供养")] == "destitute"


def test_a_first_row_of_options_under_a_one_row_header_is_an_elder_not_a_second_header(lclient):
    content = _plain_workbook(["姓名", "居住情况", "经济状况", "身份证号"], [["马兰", "独居", "低保", ""]])
    with time_machine.travel(NOW):
        _upload(lclient, content)
    job = ImportJob.objects.get()
    assert [(e["row"], e["name"]) for e in job.errors] == [(3, "马兰")]  # read as an elder: the ID is missing
