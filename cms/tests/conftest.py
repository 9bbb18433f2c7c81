import pytest

from cms.demo import ensure_site
from cms.models import ArticleIndexPage, PolicyPage, ServiceListPage
from services.catalogue.demo import service_items_ensure


@pytest.fixture
def site(db):
    """The demo public site: home, both policies, publicity with a county section, the service list."""

    service_items_ensure()
    return ensure_site()


@pytest.fixture
def policy(site):
    return PolicyPage.objects.get(slug="ningxia-2018-105")


@pytest.fixture
def publicity(site):
    return ArticleIndexPage.objects.get(slug="publicity")


@pytest.fixture
def list_page(site):
    return ServiceListPage.objects.get()
