import pytest

from portal.models import Region
from services.catalogue.selectors import categories_ensure, items_covering
from services.models import ServiceCategory, ServiceItem

pytestmark = pytest.mark.django_db


def test_policy_categories_exist_after_migrate():
    names = list(ServiceCategory.objects.values_list("name", flat=True))
    assert names[:3] == ["生活照料", "精神慰藉", "安全监护"]
    assert len(categories_ensure()) == 9
    assert ServiceCategory.objects.count() == 9


def test_items_covering_a_village():
    care = ServiceCategory.objects.get(name="生活照料")
    everywhere = ServiceItem.objects.create(category=care, name="助餐", description="老饭桌")
    xiji = ServiceItem.objects.create(category=care, name="西吉助浴", description="上门助浴")
    xiji.regions.add(Region.objects.get(code="640422000000"))
    other_township = ServiceItem.objects.create(category=care, name="兴隆镇理发", description="上门理发")
    other_township.regions.add(Region.objects.get(code="640422101000"))
    hidden = ServiceItem.objects.create(category=care, name="未发布", description="x", published=False)

    village = Region.objects.get(code="640422100201")
    assert set(items_covering(village)) == {everywhere, xiji}
    county = Region.objects.get(code="640422000000")
    assert set(items_covering(county)) == {everywhere, xiji, other_township}
    township = Region.objects.get(code="640422100000")  # 吉强镇: must not match 兴隆镇 (6404221 prefix trap)
    assert other_township not in items_covering(township)
    assert hidden not in items_covering(county)
