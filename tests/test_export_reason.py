"""Issue 15, items 11 and 9 (export half): a bulk export of personal data asks for a reason, kept in the audit
trail; a county officer sees who exported what in their area; an inspector downloads the trail of a period."""

import datetime

import pytest

from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from conftest import OTHER_COUNTY
from portal.models import AuditEvent, Region
from services.tests.factories_ledger import ElderFactory
from tests.factories import StaffRoleFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_elders():
    return ElderFactory.create_batch(3)


@override_settings(EXPORT_REASON_THRESHOLD=2)
def test_bulk_export_asks_for_a_reason_and_records_it(client, liaison, three_elders):
    client.force_login(liaison)
    url = reverse("services:elder-export")
    page = client.get(url, {"format": "csv", "status": "active"})
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    body = page.content.decode()
    assert "请说明导出的理由" in body or "导出理由" in body
    assert 'name="format" value="csv"' in body
    assert not AuditEvent.objects.filter(action="export").exists()
    short = client.get(url, {"format": "csv", "reason": "看看"}).content.decode()
    assert "理由至少" in short
    response = client.get(url, {"format": "csv", "reason": "2026年台账年度核查"})
    assert response["Content-Type"].startswith("text/csv")
    event = AuditEvent.objects.get(action="export")
    assert event.changes["reason"] == "2026年台账年度核查" and event.changes["rows"] == 3


@override_settings(EXPORT_REASON_THRESHOLD=500)
def test_small_export_needs_no_reason(client, liaison, three_elders):
    client.force_login(liaison)
    response = client.get(reverse("services:elder-export"), {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")


@override_settings(EXPORT_REASON_THRESHOLD=2)
def test_county_officer_sees_exports_in_their_area_only(client, liaison, county_officer, mfa_client, three_elders):
    client.force_login(liaison)
    client.get(reverse("services:elder-export"), {"format": "csv", "reason": "年度核查本村"})
    stranger = UserFactory(real_name="外县干部")
    StaffRoleFactory(user=stranger, role="county_officer", region=Region.objects.get(code=OTHER_COUNTY))
    from portal import audit

    audit.record("export", actor=stranger, object_type="services.elder", object_repr="elders (csv, 9)")
    body = mfa_client(county_officer).get(reverse("portal:export-log")).content.decode()
    assert "马兰花" in body and "年度核查本村" in body
    assert "外县干部" not in body


def test_export_log_needs_a_county_role(client, liaison):
    client.force_login(liaison)
    assert client.get(reverse("portal:export-log")).status_code == 403


def test_inspector_downloads_the_trail_of_a_period(client, supervisor, liaison):
    from portal import audit

    audit.record("view", actor=liaison, object_repr="老人甲")
    client.force_login(supervisor)
    today = timezone.localdate()
    url = reverse("portal:audit-trail")
    form = client.get(url).content.decode()
    assert 'type="date"' in form
    reversed_period = client.get(url, {"start": today, "end": today - datetime.timedelta(days=1), "format": "csv"})
    assert "结束日期早于开始日期" in reversed_period.content.decode()
    response = client.get(url, {"start": today, "end": today, "format": "csv"})
    text = response.content.decode("utf-8-sig")
    assert "老人甲" in text and AuditEvent.objects.get(object_repr="老人甲").hash in text
    assert AuditEvent.objects.filter(action="export", object_type="portal.auditevent").exists()
