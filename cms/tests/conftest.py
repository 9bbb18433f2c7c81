import pytest


@pytest.fixture
def site(db):
    """The demo public site: home, both policies, publicity with a county section, the service list."""
    from cms.demo import ensure_site
    from services.catalogue.demo import service_items_ensure

    service_items_ensure()
    return ensure_site()


@pytest.fixture
def policy(site):
    from cms.models import PolicyPage

    return PolicyPage.objects.get(slug="ningxia-2018-105")


@pytest.fixture
def publicity(site):
    from cms.models import ArticleIndexPage

    return ArticleIndexPage.objects.get(slug="publicity")


@pytest.fixture
def list_page(site):
    from cms.models import ServiceListPage

    return ServiceListPage.objects.get()
