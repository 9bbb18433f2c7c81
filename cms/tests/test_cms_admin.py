import pytest

from services.models import ServiceItem
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, site):
    from allauth.mfa.models import Authenticator

    admin = UserFactory(phone="13700009997", is_superuser=True, is_staff=True)
    Authenticator.objects.create(user=admin, type=Authenticator.Type.TOTP, data={"secret": "x"})
    client.force_login(admin)
    return client


def test_service_items_are_snippets_with_filters_search_and_export(admin_client):
    listing = admin_client.get("/admin/snippets/services/serviceitem/", {"q": "助餐"})
    assert listing.status_code == 200
    assert "农村老饭桌助餐" in listing.content.decode()
    export = admin_client.get("/admin/snippets/services/serviceitem/", {"export": "csv"})
    assert export.status_code == 200
    assert "农村老饭桌助餐" in b"".join(export.streaming_content).decode("utf-8-sig")
    item = ServiceItem.objects.get(name="农村老饭桌助餐")
    edit = admin_client.get(f"/admin/snippets/services/serviceitem/edit/{item.pk}/")
    assert edit.status_code == 200
    body = edit.content.decode()
    assert "西吉县" in body and "大营村委会" not in body  # counties and townships only, not villages


def test_editor_pages_of_every_page_type_open(admin_client):
    from wagtail.models import Page

    for page in Page.objects.filter(depth__gte=2):
        assert admin_client.get(f"/admin/pages/{page.pk}/edit/").status_code == 200, page.title
