"""Issue 13, item 2: long exports are made by a worker (portal.export_jobs), as the user who asked, from the
same list URL, and kept for that user only; the page waiting for them works without JavaScript."""

import datetime

import pytest
import time_machine

from django.test import override_settings
from django.urls import reverse

from conftest import OTHER_COUNTY
from portal import export_jobs
from portal.models import AuditEvent, ExportJob, ExportStatus, Region, StaffRole
from services.tests.factories_ledger import ElderFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LARGE = override_settings(EXPORT_QUEUE_THRESHOLD=2, EXPORT_REASON_THRESHOLD=500)


@pytest.fixture
def elders():
    stranger_village = Region.objects.filter(code__startswith=OTHER_COUNTY[:6], level="village").first()
    ElderFactory(name="外县老人", village=stranger_village)
    return ElderFactory.create_batch(3)


def ask(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 302, response.status_code
    return ExportJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


@LARGE
def test_a_large_export_is_made_by_the_worker_and_downloaded_by_its_owner(client, liaison, elders):
    client.force_login(liaison)
    job = ask(client, reverse("services:elder-export"), format="csv")
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE and job.rows == 3 and job.user == liaison
    event = AuditEvent.objects.get(action="export")
    assert event.changes["job"] == job.pk and event.changes["rows"] == 3  # audited once, when asked
    page = client.get(reverse("portal:export-job", args=[job.pk])).content.decode()
    assert "下载文件" in page and 'http-equiv="refresh"' not in page
    download = client.get(reverse("portal:export-download", args=[job.pk]))
    body = b"".join(download.streaming_content)
    assert body.startswith("\ufeff".encode())
    text = body.decode("utf-8-sig")
    assert all(e.name in text for e in elders) and "外县老人" not in text
    assert AuditEvent.objects.filter(action="export").count() == 1


@override_settings(EXPORT_QUEUE_THRESHOLD=0, EXPORT_REASON_THRESHOLD=500)
def test_the_worker_makes_lists_with_their_own_export_links_too(client, liaison, elders):
    with time_machine.travel(datetime.timedelta(days=120)):  # the new elders' first visits fall due
        client.force_login(liaison)
        job = ask(client, reverse("services:visits-due"), _export="xlsx")
    job.refresh_from_db()
    assert job.rows >= 1 and job.status == ExportStatus.DONE and job.file.name.endswith(".xlsx")
    assert job.file.open("rb").read(2) == b"PK"  # a real workbook


@LARGE
def test_nobody_else_sees_or_downloads_the_file(client, liaison, county_officer, mfa_client, elders):
    """Not even the county officer above the liaison: the file is the one who asked for it."""
    client.force_login(liaison)
    job = ask(client, reverse("services:elder-export"), format="csv")
    client.logout()
    assert client.get(reverse("portal:export-download", args=[job.pk])).status_code == 302
    stranger = client
    stranger.force_login(UserFactory())
    officer = mfa_client(county_officer)
    for other in (stranger, officer):
        assert other.get(reverse("portal:export-job", args=[job.pk])).status_code == 404
        assert other.get(reverse("portal:export-download", args=[job.pk])).status_code == 404


def test_a_user_who_lost_the_list_gets_a_failed_job_not_the_rows(liaison, elders):
    job = ExportJob.objects.create(
        user=liaison, path=reverse("services:elder-export"), query="format=csv", label="elders", export_format="csv"
    )
    StaffRole.objects.filter(user=liaison).delete()
    assert export_jobs.run_export.call(job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED and not job.file and str(export_jobs.NOT_ALLOWED) == job.error


def test_a_job_run_twice_leaves_one_file(liaison, elders):
    job = ExportJob.objects.create(
        user=liaison, path=reverse("services:elder-export"), query="format=csv", label="elders", export_format="csv"
    )
    first = export_jobs.run_export.call(job.pk)
    assert export_jobs.run_export.call(job.pk) == "already finished"
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING)  # a worker killed, the task requeued
    second = export_jobs.run_export.call(job.pk)
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE and job.file.name == second
    assert not job.file.storage.exists(first) or first == second


def test_the_page_refreshes_itself_while_waiting(client, liaison):
    job = ExportJob.objects.create(user=liaison, path="/x/", label="elders", export_format="csv")
    client.force_login(liaison)
    page = client.get(reverse("portal:export-job", args=[job.pk])).content.decode()
    assert 'http-equiv="refresh"' in page and "等待处理" in page
    assert client.get(reverse("portal:export-download", args=[job.pk])).status_code == 404


@LARGE
def test_files_are_deleted_after_the_keeping_days(client, liaison, elders, settings):
    with time_machine.travel(datetime.datetime(2026, 3, 1, 9, tzinfo=datetime.UTC), tick=False):
        client.force_login(liaison)
        job = ask(client, reverse("services:elder-export"), format="csv")
    job.refresh_from_db()
    name = job.file.name
    later = datetime.datetime(2026, 3, 1, 9, tzinfo=datetime.UTC) + datetime.timedelta(days=settings.EXPORT_KEEP_DAYS)
    with time_machine.travel(later + datetime.timedelta(minutes=1), tick=False):
        client.logout()  # a new session: the old one has been idle for days
        client.force_login(liaison)
        download = client.get(reverse("portal:export-download", args=[job.pk]))
        assert download.status_code == 302 and download["Location"] == reverse("portal:export-job", args=[job.pk])
        assert "已删除" in client.get(reverse("portal:export-job", args=[job.pk])).content.decode()
        assert export_jobs.prune_exports() == 1
    job.refresh_from_db()
    assert not job.file and not job.file.storage.exists(name)
