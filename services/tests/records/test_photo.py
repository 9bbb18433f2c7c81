# ruff: noqa: F811 — fixtures imported from test_records_helpers
"""The record photo is served only through a scoped view: who may see the record sees the photo."""

import io

import pytest
from PIL import Image

from django.core.files.base import ContentFile
from django.urls import reverse

from portal.models import AuditEvent
from services.records import actions as record_actions
from services.tests.factories_records import elder, item, other_liaison, record_fields  # noqa: F401 — fixtures
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def image_bytes(fmt="PNG", size=(800, 600)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "green").save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture
def record(liaison, elder, item):
    giver = UserFactory(real_name="拍照人")
    record = record_actions.record_create(actor=liaison, giver=giver, elder=elder, service_item=item, **record_fields())
    record.photo.save("service.png", ContentFile(image_bytes()), save=True)
    return record


def photo_url(record, thumb=False):
    return reverse("volunteers:record-photo", args=[record.pk]) + ("?thumb=1" if thumb else "")


@pytest.mark.parametrize("who", ["giver", "liaison", "township_officer"])
def test_those_who_see_the_record_see_the_photo(client, record, who, request):
    user = record.giver if who == "giver" else request.getfixturevalue(who)
    client.force_login(user)
    response = client.get(photo_url(record))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "no-store" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content == image_bytes()
    assert AuditEvent.objects.filter(action="view", object_id=str(record.pk), changes__photo=True).exists()


@pytest.mark.parametrize("who", ["stranger", "other_liaison", "anonymous"])
def test_others_get_404(client, record, who, request):
    if who == "anonymous":
        assert client.get(photo_url(record)).status_code == 302
        return
    client.force_login(UserFactory() if who == "stranger" else request.getfixturevalue(who))
    assert client.get(photo_url(record)).status_code == 404
    assert client.get(photo_url(record, thumb=True)).status_code == 404


def test_thumbnail_is_a_small_jpeg_and_detail_page_shows_it(client, record):
    client.force_login(record.giver)
    response = client.get(photo_url(record, thumb=True))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "JPEG" and max(image.size) <= 360
    page = client.get(reverse("volunteers:record-detail", args=[record.pk])).content.decode()
    assert photo_url(record, thumb=True) in page


def test_record_without_photo_or_unknown_record_is_404(client, liaison, elder, item):
    bare = record_actions.record_create(
        actor=liaison, giver=UserFactory(), elder=elder, service_item=item, **record_fields()
    )
    client.force_login(liaison)
    assert client.get(photo_url(bare)).status_code == 404
    assert client.get(reverse("volunteers:record-photo", args=[999999])).status_code == 404
    assert photo_url(bare) not in client.get(reverse("volunteers:record-detail", args=[bare.pk])).content.decode()


def test_a_file_that_is_not_an_image_is_not_served(client, record):
    record.photo.save("evil.png", ContentFile(b"<html><script>alert(1)</script></html>"), save=True)
    client.force_login(record.giver)
    assert client.get(photo_url(record)).status_code == 404


def test_jpeg_content_type(client, record):
    record.photo.save("service.jpg", ContentFile(image_bytes("JPEG")), save=True)
    client.force_login(record.giver)
    assert client.get(photo_url(record))["Content-Type"] == "image/jpeg"
