import pytest

from django.core.exceptions import ValidationError

from wagtail.images.models import Image
from wagtail.images.tests.utils import get_test_image_file

from cms.blocks import CaptionedImageBlock, ContentStreamBlock
from cms.models import StandardPage

pytestmark = pytest.mark.django_db


@pytest.fixture
def image():
    return Image.objects.create(title="义诊", file=get_test_image_file())


def test_an_image_needs_alternative_text(image):
    block = CaptionedImageBlock()
    with pytest.raises(ValidationError) as error:
        block.clean({"image": image, "alt": "", "caption": "重阳义诊"})
    assert "alt" in error.value.block_errors
    assert block.clean({"image": image, "alt": "医生为老人量血压", "caption": ""})["alt"] == "医生为老人量血压"


def test_every_content_block_renders(client, site, image):
    about = StandardPage.objects.get(slug="about")
    about.body = ContentStreamBlock().to_python(
        [
            {"type": "heading", "value": {"text": "服务承诺", "level": "h2"}},
            {"type": "image", "value": {"image": image.pk, "alt": "医生为老人量血压", "caption": "重阳义诊"}},
            {"type": "quote", "value": {"text": "百善孝为先", "source": "俗语"}},
            {
                "type": "call_to_action",
                "value": {"title": "需要帮助", "text": "", "page": None, "url": "tel:12349", "button": "拨打12349"},
            },
            {"type": "key_figures", "value": {"title": "", "figures": [{"value": "22", "label": "个县（区）"}]}},
        ]
    )
    about.save_revision().publish()
    body = client.get(about.url).content.decode()
    assert "<h2>服务承诺</h2>" in body
    assert 'alt="医生为老人量血压"' in body and "<figcaption>重阳义诊</figcaption>" in body
    assert "百善孝为先" in body and 'href="tel:12349"' in body and "<strong>22</strong>" in body
