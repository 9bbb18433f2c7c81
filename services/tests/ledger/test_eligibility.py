"""The policy's definition of a left-behind elder: one rule for the form, the services and the import; the
yearly review list and its "reviewed" action; the import template."""

import datetime
import io

import openpyxl
import pytest
import time_machine

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portal.models import Region
from services.ledger import actions
from services.ledger.eligibility import NOT_LEFT_BEHIND, UNDER_AGE, check_eligibility, review_queryset
from services.ledger.models import Elder, ElderChange, ImportJob, ImportStatus
from services.tests.factories_ledger import ElderFactory, make_id_number

pytestmark = pytest.mark.django_db
UTC = datetime.UTC


@pytest.mark.parametrize(
    ("birth", "today", "eligible"),
    [
        (datetime.date(1966, 3, 5), datetime.date(2026, 3, 4), False),
        (datetime.date(1966, 3, 5), datetime.date(2026, 3, 5), True),
        (datetime.date(1964, 2, 29), datetime.date(2024, 2, 28), False),  # leap-day birthday
        (datetime.date(1964, 2, 29), datetime.date(2024, 2, 29), True),
        (datetime.date(1964, 2, 29), datetime.date(2023, 3, 1), False),
    ],
)
def test_sixty_on_the_birthday_including_leap_days(birth, today, eligible):
    assert check_eligibility(birth_date=birth, basis="children_away", today=today).eligible is eligible


def test_the_reason_is_plain_and_names_the_rule():
    result = check_eligibility(birth_date=datetime.date(1990, 1, 1), today=datetime.date(2026, 6, 1))
    assert (result.eligible, result.field, result.reason) == (False, "birth_date", str(UNDER_AGE % {"age": 36}))
    result = check_eligibility(birth_date=datetime.date(1950, 1, 1), basis="neither", today=datetime.date(2026, 6, 1))
    assert (result.eligible, result.reason) == (False, str(NOT_LEFT_BEHIND))
    assert check_eligibility(birth_date=datetime.date(1950, 1, 1), basis="", today=datetime.date(2026, 6, 1)).eligible


def _form(number, birth, **extra):
    return {
        "name": "青年",
        "gender": "M",
        "birth_date": birth.isoformat(),
        "id_number": number,
        "village": "640422100201",
        "children_count": 1,
        "living_arrangement": "alone",
        "ability_level": "intact",
        "economic_status": "general",
        **extra,
    }


def test_the_elder_form_refuses_a_36_year_old_with_the_reason(client, liaison):
    client.force_login(liaison)
    birth = datetime.date(1990, 4, 1)
    with time_machine.travel(datetime.datetime(2026, 6, 1, 10, tzinfo=UTC)):
        response = client.post(reverse("services:elder-create"), _form(make_id_number(birth, "M", serial=7), birth))
    assert response.status_code == 400
    assert str(UNDER_AGE % {"age": 36}) in response.content.decode()
    assert not Elder.objects.exists()


def test_the_service_refuses_too_whatever_calls_it(liaison):
    birth = datetime.date(1990, 4, 1)
    data = _form(make_id_number(birth, "M", serial=7), birth)
    data.update(birth_date=birth, village=Region.objects.get(code="640422100201"))
    with time_machine.travel(datetime.datetime(2026, 6, 1, 10, tzinfo=UTC)), pytest.raises(Exception) as exc:
        actions.elder_create(actor=liaison, data=data)
    assert str(UNDER_AGE % {"age": 36}) in str(exc.value)
    assert not Elder.objects.exists()


def test_review_list_in_scope_with_reasons_and_the_reviewed_action(client, liaison, township_officer):
    with time_machine.travel(datetime.datetime(2025, 1, 10, 10, tzinfo=UTC)):
        stale = ElderFactory(name="久未复核", left_behind_basis="children_away")
        fresh = ElderFactory(name="刚复核", left_behind_basis="children_away")
        fresh.eligibility_reviewed_on = datetime.date(2025, 1, 10)
        fresh.save()
        unrecorded = ElderFactory(name="未填情形")
        other = ElderFactory(name="外乡老人", village=Region.objects.get(code="640422101201"))
    with time_machine.travel(datetime.datetime(2025, 6, 1, 10, tzinfo=UTC)):
        fresh.eligibility_reviewed_on = datetime.date(2025, 6, 1)
        fresh.save()
    with time_machine.travel(datetime.datetime(2026, 1, 11, 10, tzinfo=UTC)):
        assert set(review_queryset(Elder.objects.all())) == {stale, unrecorded, other}
        client.force_login(liaison)
        page = client.get(reverse("services:eligibility-review")).content.decode()
        assert "久未复核" in page and "未填情形" in page
        assert "刚复核" not in page and "外乡老人" not in page  # reviewed this year; another township
        response = client.post(
            reverse("services:eligibility-reviewed", args=[unrecorded.pk]),
            {f"e{unrecorded.pk}-basis": "no_capable_supporter"},
        )
        assert response.status_code == 302
        unrecorded.refresh_from_db()
        assert unrecorded.eligibility_reviewed_on == datetime.date(2026, 1, 11)
        assert unrecorded.left_behind_basis == "no_capable_supporter"
        assert ElderChange.objects.filter(elder=unrecorded).exists()
        page = client.get(reverse("services:eligibility-review")).content.decode()
        assert reverse("services:elder-detail", args=[unrecorded.pk]) not in page
        # another village's elder, a made-up basis: nothing changes
        assert (
            client.post(
                reverse("services:eligibility-reviewed", args=[other.pk]), {f"e{other.pk}-basis": "children_away"}
            ).status_code
            == 404
        )
        client.post(reverse("services:eligibility-reviewed", args=[stale.pk]), {f"e{stale.pk}-basis": "<script>"})
        stale.refresh_from_db()
        assert stale.eligibility_reviewed_on is None
    other.refresh_from_db()
    assert other.eligibility_reviewed_on is None


def test_an_elder_under_sixty_on_the_ledger_is_listed_and_cannot_be_marked_reviewed(client, liaison):
    with time_machine.travel(datetime.datetime(2026, 6, 1, 10, tzinfo=UTC)):
        young = ElderFactory(name="三十六岁", birth_date=datetime.date(1990, 4, 1), left_behind_basis="children_away")
        client.force_login(liaison)
        assert "三十六岁" in client.get(reverse("services:eligibility-review")).content.decode()
        response = client.post(
            reverse("services:eligibility-reviewed", args=[young.pk]),
            {f"e{young.pk}-basis": "children_away"},
            follow=True,
        )
        assert str(UNDER_AGE % {"age": 36}) in response.content.decode()
    young.refresh_from_db()
    assert young.eligibility_reviewed_on is None


@pytest.mark.parametrize("who", ["volunteer", "anonymous"])
def test_review_list_and_template_closed_to_non_staff(client, volunteer, who):
    if who == "volunteer":
        client.force_login(volunteer)
    for url in (reverse("services:eligibility-review"), reverse("services:elder-import-template")):
        assert client.get(url).status_code in (302, 403, 404)


def test_supervisor_sees_the_review_list_without_the_action(client, supervisor):
    with time_machine.travel(datetime.datetime(2026, 6, 1, 10, tzinfo=UTC)):
        elder = ElderFactory(name="未填情形")
        client.force_login(supervisor)
        page = client.get(reverse("services:eligibility-review")).content.decode()
        assert "未填情形" in page and reverse("services:eligibility-reviewed", args=[elder.pk]) not in page
        assert client.post(
            reverse("services:eligibility-reviewed", args=[elder.pk]), {f"e{elder.pk}-basis": "children_away"}
        ).status_code in (403, 404)


def test_review_list_query_count_does_not_grow(client, liaison, django_assert_max_num_queries):
    client.force_login(liaison)
    with time_machine.travel(datetime.datetime(2026, 6, 1, 10, tzinfo=UTC)):
        ElderFactory.create_batch(2)
        with django_assert_max_num_queries(14):
            client.get(reverse("services:eligibility-review"))
        ElderFactory.create_batch(20)
        with django_assert_max_num_queries(14):
            assert client.get(reverse("services:eligibility-review")).status_code == 200


def test_the_template_downloads_with_dropdowns_and_a_text_id_column_and_imports_back(client, liaison):
    client.force_login(liaison)
    page = client.get(reverse("services:elder-import")).content.decode()
    assert reverse("services:elder-import-template") in page
    assert 'value="640422100201" selected' in page  # the liaison's one village is chosen already
    response = client.get(reverse("services:elder-import-template"))
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert headers[:3] == ["姓名*", "性别", "身份证号*"] and "填写说明" in book.sheetnames
    assert sheet.cell(row=2, column=3).number_format == "@"
    lists = " ".join(v.formula1 for v in sheet.data_validations.dataValidation)
    assert "与配偶同住（空巢）" in lists and "特困供养" in lists
    # filled in with the drop-down labels, it imports as is
    row = dict.fromkeys(headers)
    row.update(
        {
            "姓名*": "马兰",
            "身份证号*": make_id_number(datetime.date(1950, 3, 5), "F", serial=2),
            "居住情况": "与配偶同住（空巢）",
            "经济状况": "特困供养",
            "能力等级": "中度失能",
            "家庭医生签约": "是",
        }
    )
    basis_list = next(v for v in sheet.data_validations.dataValidation if "H2" in str(v.sqref))
    row["留守情形"] = basis_list.formula1.strip('"').split(",")[0]
    sheet.append([row[h] for h in headers])
    buffer = io.BytesIO()
    book.save(buffer)
    with time_machine.travel(datetime.datetime(2026, 6, 1, 10, tzinfo=UTC)):
        upload = SimpleUploadedFile("模板.xlsx", buffer.getvalue())
        client.post(reverse("services:elder-import"), {"file": upload, "village": "640422100201"})
        job = ImportJob.objects.get()
        assert job.status == ImportStatus.READY, job.errors
        client.post(reverse("services:elder-import-confirm", args=[job.pk]))
    elder = Elder.objects.get()
    assert (elder.living_arrangement, elder.economic_status, elder.family_doctor_signed) == (
        "couple",
        "destitute",
        True,
    )
    assert elder.left_behind_basis == "children_away"
