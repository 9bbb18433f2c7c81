# ruff: noqa: F811 — fixtures imported from test_records_helpers
"""Certificates: only confirmed volunteer hours, a PDF with a QR code, and a public check that resists tampering."""

import datetime

import pytest

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from services.models import Certificate
from services.records import actions as record_actions
from services.records import certificates as certs
from services.tests.factories_records import (  # noqa: F401 — fixtures
    at,
    elder,
    item,
    member,
    org_admin,
    organisation,
    record_fields,
)
from tests.factories import UserFactory
from volunteers.tests.conftest import make_resident_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def served(liaison, org_admin, organisation, member, elder, item):
    """The member: 2 h confirmed volunteer, 1 h confirmed purchased, 1 h submitted, 1 h confirmed then reversed."""
    profile = member.volunteer_profile
    profile.resident_id = make_resident_id(datetime.date(1990, 5, 6), male=True)
    profile.save()

    def log(**kw):
        return record_actions.record_create(
            actor=org_admin,
            giver=member,
            elder=elder,
            organisation=organisation,
            service_item=item,
            **record_fields(**kw),
        )

    record_actions.record_confirm(actor=liaison, record=log())
    record_actions.record_confirm(actor=liaison, record=log(kind="purchased", start=at(1, 13), end=at(1, 14)))
    log(start=at(1, 15), end=at(1, 16))
    wrong = record_actions.record_confirm(actor=liaison, record=log(start=at(1, 17), end=at(1, 18)))
    record_actions.record_reverse(actor=liaison, record=wrong, reason="重复")
    return member


def period():
    today = timezone.localdate()
    return today - datetime.timedelta(days=30), today


def test_only_confirmed_volunteer_hours_count(served):
    start, end = period()
    certificate = certs.certificate_issue(user=served, start=start, end=end)
    assert certificate.total_minutes == 120
    assert certificate.snapshot["masked_id"].startswith("6404") and "1990" not in certificate.snapshot["masked_id"]
    assert certificate.snapshot["name"] == "会员甲"
    assert certificate.snapshot["units"][0][0] == "大营村老年协会"
    assert certificate.serial.startswith("ZYFW")


def test_no_hours_no_certificate(db):
    start, end = period()
    with pytest.raises(ValidationError) as exc:
        certs.certificate_issue(user=UserFactory(), start=start, end=end)
    assert exc.value.messages == [str(certs.NO_HOURS)]
    assert Certificate.objects.count() == 0


def test_period_checks(served):
    today = timezone.localdate()
    with pytest.raises(ValidationError):
        certs.certificate_issue(user=served, start=today, end=today - datetime.timedelta(days=1))
    with pytest.raises(ValidationError):
        certs.certificate_issue(user=served, start=today, end=today + datetime.timedelta(days=1))


def test_pdf_download_and_qr_link(client, served):
    client.force_login(served)
    start, end = period()
    response = client.post(
        reverse("volunteers:certificate-issue"), {"period_start": start.isoformat(), "period_end": end.isoformat()}
    )
    certificate = Certificate.objects.get()
    assert response.url == reverse("volunteers:certificate", args=[certificate.pk])
    pdf = client.get(response.url)
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert b"STSong-Light" in pdf.content
    assert certificate.serial.encode() in pdf.content or len(pdf.content) > 3000


def test_someone_else_cannot_download(client, served):
    start, end = period()
    certificate = certs.certificate_issue(user=served, start=start, end=end)
    client.force_login(UserFactory())
    assert client.get(reverse("volunteers:certificate", args=[certificate.pk])).status_code == 404


def test_public_verification_shows_the_certificate_only(client, served):
    start, end = period()
    certificate = certs.certificate_issue(user=served, start=start, end=end)
    response = client.get(reverse("volunteers:certificate-verify", args=[certificate.code]))
    html = response.content.decode()
    assert response.status_code == 200
    assert certificate.serial in html and "会员甲" in html and "2.0" in html
    assert served.phone not in html and "李奶奶" not in html  # nothing beyond the certificate
    assert "noindex" in html


def test_unknown_or_tampered_code_not_found(client, served):
    start, end = period()
    certificate = certs.certificate_issue(user=served, start=start, end=end)
    tampered = certificate.code[:-1] + ("A" if certificate.code[-1] != "A" else "B")
    response = client.get(reverse("volunteers:certificate-verify", args=[tampered]))
    assert response.status_code == 404
    assert str(certs.NOT_FOUND) in response.content.decode()
    # a row altered after issue (more hours) no longer verifies
    Certificate.objects.filter(pk=certificate.pk).update(total_minutes=6000)
    response = client.get(reverse("volunteers:certificate-verify", args=[certificate.code]))
    assert response.status_code == 404
    assert client.get("/volunteers/certificates/verify/%3Cscript%3E/").status_code == 404
