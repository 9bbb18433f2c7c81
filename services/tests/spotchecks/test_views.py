"""Spot-check screens: who sees the list, a check, the export; the call-back form; query counts."""

import datetime
from decimal import Decimal

import pytest

from django.urls import reverse

from portal.models import AuditEvent, Region
from services.spotchecks import actions
from services.spotchecks.models import SpotCheck, SpotCheckOutcome
from services.tests.factories_care import OTHER_TOWNSHIP_VILLAGE, add_supporter, make_elder, staff
from services.tests.factories_proof import local, make_visit
from tests.factories import UserFactory

OCT = datetime.date(2026, 10, 1)
pytestmark = pytest.mark.django_db


def _checks(n: int, liaison, village="640422100201"):
    for i in range(n):
        elder = make_elder(village=village, name=f"抽查老人{i}")
        add_supporter(elder, phone=f"1381234{i:04d}")
        make_visit(elder, visitor=liaison, at=local(datetime.date(2026, 10, 1 + i % 28)))
    SpotCheck.objects.all().delete()
    from services.spotchecks.models import SpotCheckDraw

    SpotCheckDraw.objects.all().delete()
    actions.draw_month(
        actor=None, region=Region.objects.get(code="640422000000"), month=OCT, share=Decimal(1), system=True
    )
    return list(SpotCheck.objects.order_by("pk"))


def _outsiders(liaison):
    other_village_liaison = staff("village_liaison", "640422100002")
    other_township = staff("township_officer", OTHER_TOWNSHIP_VILLAGE[:9] + "000")
    department = staff("department", "640422100000")
    other_department = staff("department", "640422101000")
    return {
        "other village liaison": other_village_liaison,
        "own village liaison": liaison,
        "township officer of another township": other_township,
        "volunteer": UserFactory(),
        "department": department,
        "department of another region": other_department,
    }


def test_officers_and_supervisors_see_the_list_the_check_and_the_export(client, township_officer, supervisor, liaison):
    check = _checks(1, liaison)[0]
    for user in (township_officer, supervisor):
        client.force_login(user)
        page = client.get(reverse("services:spotcheck-list"))
        assert page.status_code == 200 and "抽查老人0" in page.content.decode()
        assert "no-store" in page["Cache-Control"]
        detail = client.get(reverse("services:spotcheck-detail", args=[check.pk]))
        assert detail.status_code == 200
        body = detail.content.decode()
        assert "13812340000" not in body and "138****0000" in body  # the family's number, masked
        export = client.get(reverse("services:spotcheck-export") + "?format=csv")
        assert export.status_code == 200 and "抽查老人0" in export.content.decode("utf-8-sig")
    assert AuditEvent.objects.filter(action="export", object_type="services.spotcheck").count() == 2
    assert not AuditEvent.objects.filter(changes__icontains="13812340000").exists()


def test_everyone_else_is_refused_list_detail_and_export(client, liaison):
    check = _checks(1, liaison)[0]
    urls = [
        reverse("services:spotcheck-list"),
        reverse("services:spotcheck-detail", args=[check.pk]),
        reverse("services:spotcheck-export") + "?format=csv",
    ]
    for url in urls:
        assert client.get(url).status_code == 302  # anonymous: to sign-in
    for who, user in _outsiders(liaison).items():
        client.force_login(user)
        for url in urls:
            response = client.get(url)
            if who == "township officer of another township" and url != urls[1]:
                # an officer has the list, without the rows of another township
                assert response.status_code == 200
                assert "抽查老人0" not in response.content.decode("utf-8-sig"), (who, url)
                continue
            assert response.status_code in (403, 404), (who, url)


def test_an_officer_of_another_township_gets_404_and_sees_no_row(client, liaison):
    check = _checks(1, liaison)[0]
    other = staff("township_officer", OTHER_TOWNSHIP_VILLAGE[:9] + "000")
    client.force_login(other)
    assert client.get(reverse("services:spotcheck-detail", args=[check.pk])).status_code == 404
    page = client.get(reverse("services:spotcheck-list"))
    assert page.status_code == 200 and "抽查老人0" not in page.content.decode()
    posted = client.post(reverse("services:spotcheck-detail", args=[check.pk]), {"result": "not_happened", "note": "x"})
    assert posted.status_code == 404
    check.refresh_from_db()
    assert check.outcome == SpotCheckOutcome.PENDING


def test_the_call_back_form_records_and_refuses_bad_input(client, township_officer, supervisor, liaison):
    check = _checks(1, liaison)[0]
    url = reverse("services:spotcheck-detail", args=[check.pk])
    client.force_login(supervisor)  # reads, may not record
    assert client.post(url, {"result": "confirmed"}).status_code == 400
    client.force_login(township_officer)
    for bad in ({"result": "bogus"}, {"result": "partly", "note": ""}, {"result": ["confirmed", "x"] * 1000}):
        assert client.post(url, bad).status_code == 400
    check.refresh_from_db()
    assert (check.outcome, check.called_by) == (SpotCheckOutcome.PENDING, None)
    response = client.post(url, {"result": "confirmed", "note": "<script>alert(1)</script>"})
    assert response.status_code == 302
    check.refresh_from_db()
    assert check.outcome == SpotCheckOutcome.CONFIRMED and check.called_by == township_officer
    page = client.get(url).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_an_officer_draws_from_the_list(client, township_officer, liaison):
    elder = make_elder()
    make_visit(elder, visitor=liaison, at=local(datetime.date(2026, 10, 3)))
    client.force_login(township_officer)
    response = client.post(reverse("services:spotcheck-draw"), {"month": "2026-10"})
    assert response.status_code == 302 and SpotCheck.objects.count() == 1
    assert client.post(reverse("services:spotcheck-draw"), {"month": "10/2026"}).status_code == 302
    assert SpotCheck.objects.count() == 1
    client.force_login(liaison)
    assert client.post(reverse("services:spotcheck-draw"), {"month": "2026-11"}).status_code == 403


@pytest.mark.parametrize("n", [2, 12])
def test_list_queries_do_not_grow_with_rows(client, township_officer, liaison, django_assert_max_num_queries, n):
    _checks(n, liaison)
    client.force_login(township_officer)
    with django_assert_max_num_queries(16):
        assert client.get(reverse("services:spotcheck-list")).status_code == 200
