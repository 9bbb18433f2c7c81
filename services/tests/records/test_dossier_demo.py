"""The demo on `make run`: 海小勇 logs service for his paired elder, the liaison confirms it, the totals move,
the certificate PDF opens; his record holds the association's training and award."""

import pytest

from django.urls import reverse
from django.utils import timezone

from portal.models import User
from services.records import demo as demo_records
from services.records import selectors as record_reads
from services.records.models import RecordStatus, ServiceRecord
from volunteers.models_record import Award, Training

pytestmark = pytest.mark.django_db

SEEDERS = (
    "portal.demo",
    "services.catalogue.demo",
    "services.ledger.demo",
    "volunteers.demo",
    "services.pairing.demo",
    "services.records.demo",
)


def seed_all():
    from django.utils.module_loading import import_string

    for path in SEEDERS:
        import_string(f"{path}.seed")()


def test_demo_records_flow_and_idempotent(client):
    seed_all()
    xiaoyong = User.objects.get(phone="13900000006")
    lanhua = User.objects.get(phone="13900000001")
    records = ServiceRecord.objects.filter(giver=xiaoyong, kind="volunteer")
    confirmed, submitted = records.filter(status=RecordStatus.CONFIRMED), records.filter(status=RecordStatus.SUBMITTED)
    assert confirmed.count() >= 8 and submitted.count() == 1
    assert len({r.start.month for r in confirmed}) >= 3  # over the last months
    for record in confirmed:  # vouched for by the liaison, logged on the day (the seeder ran check_record then)
        assert record.confirmed_by == lanhua and record.created_at - record.end < timezone.timedelta(hours=1)
    assert (
        Training.objects.filter(volunteer=xiaoyong).count() == 1
        and Award.objects.filter(volunteer=xiaoyong).count() == 1
    )

    demo_records.seed()  # again: nothing new
    assert records.count() == confirmed.count() + 1
    assert Training.objects.filter(volunteer=xiaoyong).count() == 1

    before = record_reads.giver_totals(user=xiaoyong)["volunteer_minutes"]
    pending = submitted.get()
    client.force_login(lanhua)
    listing = client.get(reverse("volunteers:record-list") + "?status=submitted&to_confirm=on")
    assert pending.pk in [row.record.pk for row in listing.context["table"].page.object_list]
    assert client.post(reverse("volunteers:record-confirm", args=[pending.pk])).status_code == 302
    assert record_reads.giver_totals(user=xiaoyong)["volunteer_minutes"] == before + pending.minutes

    client.force_login(xiaoyong)
    today = timezone.localdate()
    response = client.post(
        reverse("volunteers:certificate-issue"),
        {"period_start": (today - timezone.timedelta(days=365)).isoformat(), "period_end": today.isoformat()},
    )
    assert response.status_code == 302
    pdf = client.get(response["Location"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    page = client.get(reverse("volunteers:dossier")).content.decode()
    assert "农村留守老年人关爱服务志愿者培训" in page and "大营村优秀志愿者" in page
