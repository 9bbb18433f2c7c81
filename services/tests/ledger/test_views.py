"""Ledger screens through the client: scope (404), roles (403, read-only), masking, audit, query counts."""

import datetime
import io
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine

from django.urls import reverse

from portal.models import AuditEvent, Region
from services.ledger.models import Elder, ElderChange, ElderStatus
from services.tests.factories_ledger import ElderFactory, FamilyContactFactory, make_id_number

pytestmark = pytest.mark.django_db
OTHER_TOWNSHIP_VILLAGE = "640422101201"
SAME_TOWNSHIP_OTHER_VILLAGE = "640422100202"


@pytest.fixture
def elders():
    home = ElderFactory(name="马秀英", phone="13812345678")
    FamilyContactFactory(elder=home, phone="15811112222")
    neighbour = ElderFactory(name="李桂兰", village=Region.objects.get(code=SAME_TOWNSHIP_OTHER_VILLAGE))
    far = ElderFactory(name="杨德福", village=Region.objects.get(code=OTHER_TOWNSHIP_VILLAGE))
    return home, neighbour, far


def _login(client, user):
    client.force_login(user)
    return client


def test_list_scoped_and_masked(client, liaison, elders):
    home, neighbour, far = elders
    response = _login(client, liaison).get(reverse("services:elder-list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "马秀英" in html and "李桂兰" not in html and "杨德福" not in html
    assert "13812345678" not in html and "138****5678" in html
    assert home.id_number not in html
    assert "no-store" in response["Cache-Control"]


def test_township_sees_exactly_its_villages(client, township_officer, elders):
    html = _login(client, township_officer).get(reverse("services:elder-list")).content.decode()
    assert "马秀英" in html and "李桂兰" in html and "杨德福" not in html


def test_volunteer_gets_403_and_anonymous_is_sent_to_login(client, volunteer, elders):
    home = elders[0]
    assert client.get(reverse("services:elder-list")).status_code == 302
    _login(client, volunteer)
    for url in (
        reverse("services:elder-list"),
        reverse("services:elder-detail", args=[home.pk]),
        reverse("services:elder-export"),
        reverse("services:elder-import"),
    ):
        assert client.get(url).status_code == 403, url


def test_out_of_scope_elder_is_404_everywhere(client, liaison, elders):
    far = elders[2]
    _login(client, liaison)
    for name in ("elder-detail", "elder-edit", "elder-status", "contact-create", "agreement-create", "reminder-create"):
        assert client.get(reverse(f"services:{name}", args=[far.pk])).status_code == 404, name
    response = client.post(reverse("services:elder-edit", args=[far.pk]), {"name": "x"})
    assert response.status_code == 404
    assert Elder.objects.get(pk=far.pk).name == "杨德福"


def test_search_by_id_only_in_scope(client, liaison, elders):
    """The search form is POSTed; an ID number comes back sealed in the URL, never in clear."""
    home, _neighbour, far = elders
    _login(client, liaison)
    posted = client.post(reverse("services:elder-list"), {"q": home.id_number, "status": ""})
    assert posted.status_code == 302 and home.id_number not in posted["Location"] and "qs=" in posted["Location"]
    found = client.get(posted["Location"]).content.decode()
    assert "马秀英" in found
    far_link = reverse("services:elder-detail", args=[far.pk])
    hidden = client.post(reverse("services:elder-list"), {"q": far.id_number}, follow=True)
    assert all(far.id_number not in url for url, _status in hidden.redirect_chain)
    assert far_link not in hidden.content.decode() and "杨德福" not in hidden.content.decode()
    typed = client.get(reverse("services:elder-list"), {"q": home.id_number})  # a number typed into the URL
    assert typed.status_code == 302 and home.id_number not in typed["Location"]
    tampered = client.get(reverse("services:elder-list"), {"qs": "not-a-token"})
    assert tampered.status_code == 200 and tampered.context["table"].paginator.count == 1  # the own village
    by_name = client.get(reverse("services:elder-list"), {"q": "杨德福"})
    assert far_link not in by_name.content.decode() and by_name.context["table"].paginator.count == 0


def test_detail_full_for_liaison_masked_for_supervisor_and_audited(client, liaison, supervisor, elders):
    home = elders[0]
    html = _login(client, liaison).get(reverse("services:elder-detail", args=[home.pk])).content.decode()
    assert home.id_number in html and "13812345678" in html and "15811112222" in html
    event = AuditEvent.objects.get(action="view", object_type="services.elder", object_id=str(home.pk))
    assert event.actor == liaison and home.id_number not in str(event.changes)
    client.logout()
    html = _login(client, supervisor).get(reverse("services:elder-detail", args=[home.pk])).content.decode()
    assert home.id_number not in html and "13812345678" not in html and "15811112222" not in html
    assert "6404*************" + home.id_number[-1] in html
    assert reverse("services:elder-edit", args=[home.pk]) not in html


def test_supervisor_cannot_change(client, supervisor, elders):
    home = elders[0]
    _login(client, supervisor)
    assert client.get(reverse("services:elder-edit", args=[home.pk])).status_code == 403
    assert (
        client.post(
            reverse("services:elder-status", args=[home.pk]), {"status": "moved", "reason": "x", "version": 1}
        ).status_code
        == 403
    )
    assert client.get(reverse("services:elder-create")).status_code == 403
    assert client.get(reverse("services:elder-import")).status_code == 403
    assert Elder.objects.get(pk=home.pk).status == ElderStatus.ACTIVE


def test_export_masked_scoped_and_audited(client, liaison, township_officer, elders):
    home, neighbour, far = elders
    response = _login(client, liaison).get(reverse("services:elder-export"), {"format": "xlsx"})
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    cells = [str(c) for row in book.active.iter_rows(values_only=True) for c in row]
    assert "马秀英" in cells and "杨德福" not in cells and "李桂兰" not in cells
    assert home.id_number not in cells and "138****5678" in cells
    assert "6404*************" + home.id_number[-1] in cells
    assert AuditEvent.objects.filter(action="export", actor=liaison).count() == 1
    csv_text = client.get(reverse("services:elder-export"), {"format": "csv"}).content.decode("utf-8-sig")
    assert "马秀英" in csv_text and home.id_number not in csv_text and "13812345678" not in csv_text
    client.logout()
    csv_text = (
        _login(client, township_officer)
        .get(reverse("services:elder-export"), {"format": "csv"})
        .content.decode("utf-8-sig")
    )
    assert "李桂兰" in csv_text and "杨德福" not in csv_text


def test_create_through_the_form(client, liaison):
    birth = datetime.date(1941, 2, 3)
    number = make_id_number(birth, "M", serial=11)
    data = {
        "name": "马福贵",
        "gender": "M",
        "birth_date": "1941-02-03",
        "id_number": number.lower().replace("x", "x"),
        "village": "640422100201",
        "address": "大营村四组",
        "phone": "139 0000 1234",
        "children_count": "3",
        "living_arrangement": "alone",
        "ability_level": "moderate",
        "economic_status": "destitute",
    }
    response = _login(client, liaison).post(reverse("services:elder-create"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    elder = Elder.objects.get(name="马福贵")
    assert elder.phone == "13900001234" and elder.priority == "key"


def test_create_rejects_bad_id_and_other_village(client, liaison):
    birth = datetime.date(1941, 2, 3)
    number = make_id_number(birth, "M", serial=12)
    bad = number[:17] + ("1" if number[17] == "0" else "0")
    base = {
        "name": "马福贵",
        "gender": "M",
        "birth_date": "1941-02-03",
        "village": "640422100201",
        "children_count": "0",
        "living_arrangement": "alone",
        "ability_level": "intact",
        "economic_status": "general",
    }
    _login(client, liaison)
    response = client.post(reverse("services:elder-create"), {**base, "id_number": bad})
    assert response.status_code == 400
    assert response.context["form"].has_error("id_number", code="id_check_digit")
    response = client.post(
        reverse("services:elder-create"), {**base, "id_number": number, "village": OTHER_TOWNSHIP_VILLAGE}
    )
    assert response.status_code == 400
    response = client.post(
        reverse("services:elder-create"),
        {**base, "id_number": number, "name": "<script>alert(1)</script>", "birth_date": "1941-02-04"},
    )
    assert response.status_code == 400
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert not Elder.objects.exists()


def _edit_data(elder, **overrides):
    data = {
        "name": elder.name,
        "gender": elder.gender,
        "birth_date": elder.birth_date.isoformat(),
        "id_number": elder.id_number,
        "village": elder.village_id,
        "address": elder.address,
        "phone": elder.phone,
        "children_count": elder.children_count,
        "living_arrangement": elder.living_arrangement,
        "ability_level": elder.ability_level,
        "economic_status": elder.economic_status,
        "version": elder.version,
    }
    data.update(overrides)
    return data


def test_two_liaisons_editing_second_is_told(client, liaison, township_officer, elders):
    home = elders[0]
    form_a = _edit_data(home, address="大营村一组")
    form_b = _edit_data(home, phone="13700001111")  # both loaded version 1
    assert _login(client, liaison).post(reverse("services:elder-edit", args=[home.pk]), form_a).status_code == 302
    client.logout()
    response = _login(client, township_officer).post(reverse("services:elder-edit", args=[home.pk]), form_b)
    assert response.status_code == 409
    html = response.content.decode()
    assert "大营村一组" in html  # the other person's change is shown
    assert 'value="13700001111"' in html  # and the user's own input is kept
    fresh = Elder.objects.get(pk=home.pk)
    assert fresh.address == "大营村一组" and fresh.phone == "13812345678" and fresh.version == 2
    # saving again, knowingly, from the re-shown form works
    again = _edit_data(fresh, phone="13700001111", address="大营村一组")
    assert client.post(reverse("services:elder-edit", args=[home.pk]), again).status_code == 302
    assert Elder.objects.get(pk=home.pk).phone == "13700001111"


def test_status_change_with_reason_leaves_list(client, liaison, elders):
    home = elders[0]
    _login(client, liaison)
    response = client.post(
        reverse("services:elder-status", args=[home.pk]), {"status": "deceased", "reason": "", "version": 1}
    )
    assert response.status_code == 400
    response = client.post(
        reverse("services:elder-status", args=[home.pk]),
        {"status": "deceased", "reason": "2026年11月病故", "version": 1},
    )
    assert response.status_code == 302
    assert "马秀英" not in client.get(reverse("services:elder-list")).content.decode()
    assert "马秀英" in client.get(reverse("services:elder-list"), {"status": "all"}).content.decode()
    detail = client.get(reverse("services:elder-detail", args=[home.pk])).content.decode()
    assert "2026年11月病故" in detail


def test_history_shown_masked(client, liaison, elders):
    home = elders[0]
    _login(client, liaison)
    client.post(reverse("services:elder-edit", args=[home.pk]), _edit_data(home, phone="13700001111"))
    entry = ElderChange.objects.get(elder=home, kind="change")
    assert entry.changes == {"phone": ["138****5678", "137****1111"]}
    html = client.get(reverse("services:elder-detail", args=[home.pk])).content.decode()
    assert "137****1111" in html


def test_agreement_scan_type_and_size(client, liaison, elders, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    home = elders[0]
    _login(client, liaison)
    url = reverse("services:agreement-create", args=[home.pk])
    base = {"carer_name": "马大姐", "carer_relation": "侄女", "start_date": "2026-01-01"}
    fake = SimpleUploadedFile("scan.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    assert client.post(url, {**base, "scan": fake}).status_code == 400
    exe = SimpleUploadedFile("scan.exe", b"%PDF-1.4 hello", content_type="application/octet-stream")
    assert client.post(url, {**base, "scan": exe}).status_code == 400
    big = SimpleUploadedFile("scan.pdf", b"%PDF-1.4" + b"0" * (10 * 1024 * 1024 + 1), content_type="application/pdf")
    assert client.post(url, {**base, "scan": big}).status_code == 400
    backwards = client.post(url, {**base, "end_date": "2025-01-01"})
    assert backwards.status_code == 400
    assert not home.agreements.exists()
    good = SimpleUploadedFile("scan.pdf", b"%PDF-1.4 agreement", content_type="application/pdf")
    assert client.post(url, {**base, "scan": good}).status_code == 302
    agreement = home.agreements.get()
    scan = client.get(reverse("services:agreement-scan", args=[home.pk, agreement.pk]))
    assert scan.status_code == 200 and b"".join(scan.streaming_content).startswith(b"%PDF")


@time_machine.travel(datetime.datetime(2026, 10, 15, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True)
def test_contact_and_reminder_forms(client, liaison, township_officer, elders):
    """Two duty reminders within the repeat window (March and September, seen from October 2026)."""
    home = elders[0]
    _login(client, liaison)
    response = client.post(
        reverse("services:contact-create", args=[home.pk]),
        {"name": "马强", "relation": "儿子", "phone": "bad", "works_in": "银川", "can_support": "on"},
    )
    assert response.status_code == 400
    response = client.post(
        reverse("services:contact-create", args=[home.pk]),
        {"name": "马强", "relation": "儿子", "phone": "158 0000 3333", "works_in": "银川", "can_support": "on"},
    )
    assert response.status_code == 302
    son = home.family_contacts.get(name="马强")
    for day in ("2026-03-01T10:00", "2026-09-01T10:00"):
        response = client.post(
            reverse("services:reminder-create", args=[home.pk]),
            {
                "contact": son.pk,
                "reminded_at": day,
                "method": "phone",
                "finding": "三个月未打电话",
                "said": "请每周打电话",
                "answer": "答应",
            },
        )
        assert response.status_code == 302
    client.logout()
    html = _login(client, township_officer).get(reverse("services:duty-repeat-list")).content.decode()
    assert "马秀英" in html


def _real(queries) -> list[str]:
    """Queries other than the SAVEPOINTs of ATOMIC_REQUESTS inside the test transaction."""
    return [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]


def test_list_query_count_constant(county_officer, django_assert_max_num_queries, mfa_client):
    """Session, user, roles, MFA check, count, one page of rows: the same for 3 elders or 40."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = mfa_client(county_officer)
    url = reverse("services:elder-list")
    ElderFactory.create_batch(3)
    client.get(url)  # warm the region choices
    with CaptureQueriesContext(connection) as small:
        client.get(url, {"sort": "priority"})
    village = Region.objects.get(code=OTHER_TOWNSHIP_VILLAGE)
    for _i in range(40):
        FamilyContactFactory(elder=ElderFactory(village=village, economic_status="subsistence"))
    # 6 + the two SAVEPOINT statements of the test transaction
    with django_assert_max_num_queries(8), CaptureQueriesContext(connection) as large:
        response = client.get(url, {"sort": "priority", "priority": "", "last_visit": "30"})
    assert response.status_code == 200
    assert response.context["table"].paginator.count == 43
    assert len(_real(large)) == len(_real(small)) <= 6, "\n".join(_real(large))


@pytest.mark.parametrize("export", [None, "csv", "xlsx"])
def test_region_filter_answers_for_a_township_and_a_village(client, township_officer, elders, export):
    """Every choice of the area filter answers 200 — list and both exports — with just that area's elders."""
    home, neighbour, far = elders
    client.force_login(township_officer)
    extra = {"_export": export} if export else {}
    village = client.get(reverse("services:elder-list"), {"region": home.village_id, **extra})
    assert village.status_code == 200
    body = b"".join(village.streaming_content) if village.streaming else village.content
    text = body.decode("utf-8-sig") if export != "xlsx" else ""
    if export != "xlsx":
        assert "马秀英" in text and "李桂兰" not in text
    township = client.get(reverse("services:elder-list"), {"region": "640422100000", **extra})
    assert township.status_code == 200
    if export is None:
        html = township.content.decode()
        assert "马秀英" in html and "李桂兰" in html and "杨德福" not in html
