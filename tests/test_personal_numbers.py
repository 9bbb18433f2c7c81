"""Resident ID numbers never rest in clear: after searching and exporting by ID and by phone, no table holds a
valid 18-digit ID number in clear (the ledger keeps it encrypted plus a keyed hash) and no URL carried one."""

import re

import pytest

from django.apps import apps
from django.db import connection
from django.urls import reverse

from portal.identity import check_digit
from services.tests.factories_ledger import ElderFactory

pytestmark = pytest.mark.django_db

ID_IN_TEXT = re.compile(r"(?<!\d)(\d{17}[\dXx])(?!\d)")


def clear_ids_in_tables() -> list[tuple[str, str]]:
    """(table, number) for every valid resident ID number found in clear in any text column of any table."""
    found = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if model._meta.proxy or not model._meta.managed:
                continue
            table = model._meta.db_table
            columns = [  # the columns of this model's own table (a Wagtail page's parent fields live in another)
                f.column
                for f in model._meta.local_concrete_fields
                if f.get_internal_type() in ("CharField", "TextField", "JSONField", "URLField")
            ]
            if not columns:
                continue
            quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
            cursor.execute(f"SELECT {quoted} FROM {connection.ops.quote_name(table)}")  # noqa: S608 — names from the model
            for row in cursor.fetchall():
                for value in row:
                    for number in ID_IN_TEXT.findall(str(value or "")):
                        if check_digit(number[:17]) == number[17].upper():
                            found.append((table, number))
    return found


def test_searching_and_exporting_by_id_and_phone_leaves_no_id_in_clear(client, liaison, county_officer, mfa_client):
    elder = ElderFactory(name="马秀英", phone="13812345678")
    client.force_login(liaison)
    urls = []
    for term in (elder.id_number, elder.id_number.lower(), f" {elder.id_number} ", "13812345678"):
        response = client.post(reverse("services:elder-list"), {"q": term}, follow=True)
        assert response.status_code == 200
        urls += [url for url, _status in response.redirect_chain]
        assert "马秀英" in response.content.decode() or term == "13812345678"
        sealed = response.redirect_chain[-1][0].split("?", 1)[1]
        for export in ("csv", "xlsx"):
            exported = client.get(f"{reverse('services:elder-export')}?{sealed}&_format={export}")
            assert exported.status_code == 200
    officer = mfa_client(county_officer)
    staff = officer.post(reverse("volunteers:volunteer-list"), {"q": "13812345678"}, follow=True)
    assert staff.status_code == 200
    urls += [url for url, _status in staff.redirect_chain]
    assert urls and not any(elder.id_number in url or "13812345678" in url for url in urls)
    assert clear_ids_in_tables() == []


def test_the_scan_finds_a_number_left_in_clear(liaison):
    """The scan itself can fail: a number written in clear into an audit row is found."""
    from portal.models import AuditEvent

    elder = ElderFactory()
    AuditEvent.objects.create(action="view", object_type="services.elder", object_repr=f"search {elder.id_number}")
    assert ("portal_auditevent", elder.id_number) in clear_ids_in_tables()
