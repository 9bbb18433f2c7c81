"""StreamField blocks of the public site: content blocks for any page and the home page's sections."""

from django.utils.translation import gettext_lazy as _

from wagtail import blocks
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.images.blocks import ImageChooserBlock

from services.catalogue.models import ServiceCategory
from volunteers import activities

from . import models as pages  # cms.models imports this module: the page classes are read at render time
from .richtext import render_richtext

RICH_FEATURES = ["h2", "h3", "h4", "bold", "italic", "ol", "ul", "hr", "link", "document-link", "blockquote"]


class SafeRichTextBlock(blocks.RichTextBlock):
    """Rich text rendered through the public whitelist (see cms.richtext)."""

    def render_basic(self, value, context=None):
        return render_richtext(value)

    class Meta:
        icon = "pilcrow"
        template = "cms/blocks/rich_text.html"


class HeadingBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("heading"), max_length=120)
    level = blocks.ChoiceBlock(
        label=_("level"), choices=[("h2", _("Section heading")), ("h3", _("Sub-heading"))], default="h2"
    )

    class Meta:
        icon = "title"
        label = _("Heading")
        template = "cms/blocks/heading.html"


class CaptionedImageBlock(blocks.StructBlock):
    """An image whose alternative text is required: a reader who cannot see it must still get its content."""

    image = ImageChooserBlock(label=_("image"))
    alt = blocks.CharBlock(
        label=_("alternative text"),
        max_length=200,
        help_text=_("Describe what the picture shows for people who cannot see it."),
    )
    caption = blocks.CharBlock(label=_("caption"), max_length=200, required=False)

    class Meta:
        icon = "image"
        label = _("Image")
        template = "cms/blocks/image.html"


class QuoteBlock(blocks.StructBlock):
    text = blocks.TextBlock(label=_("quotation"))
    source = blocks.CharBlock(label=_("source"), max_length=120, required=False)

    class Meta:
        icon = "openquote"
        label = _("Quote")
        template = "cms/blocks/quote.html"


class DocumentLinkBlock(blocks.StructBlock):
    document = DocumentChooserBlock(label=_("document"))
    title = blocks.CharBlock(label=_("link text"), max_length=120, required=False)

    class Meta:
        icon = "doc-full"
        label = _("Document link")
        template = "cms/blocks/document_link.html"


class CallToActionBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("title"), max_length=80)
    text = blocks.TextBlock(label=_("text"), required=False)
    page = blocks.PageChooserBlock(label=_("page"), required=False)
    url = blocks.CharBlock(label=_("or address"), max_length=200, required=False, help_text=_("e.g. tel:12349"))
    button = blocks.CharBlock(label=_("button text"), max_length=40)

    class Meta:
        icon = "link"
        label = _("Call to action")
        template = "cms/blocks/call_to_action.html"


class FigureBlock(blocks.StructBlock):
    value = blocks.CharBlock(label=_("figure"), max_length=20)
    label = blocks.CharBlock(label=_("what it counts"), max_length=60)


class KeyFiguresBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("title"), max_length=80, required=False)
    figures = blocks.ListBlock(FigureBlock(), label=_("figures"), min_num=1, max_num=6)

    class Meta:
        icon = "list-ul"
        label = _("Key figures")
        template = "cms/blocks/key_figures.html"


class ContentStreamBlock(blocks.StreamBlock):
    heading = HeadingBlock()
    paragraph = SafeRichTextBlock(features=RICH_FEATURES, label=_("Rich text"))
    image = CaptionedImageBlock()
    quote = QuoteBlock()
    document = DocumentLinkBlock()
    call_to_action = CallToActionBlock()
    key_figures = KeyFiguresBlock()


# --- home page sections: each fetches its own rows in one query ------------------------------------


class HeroBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("headline"), max_length=100, required=False, help_text=_("Empty: the page's."))
    text = blocks.TextBlock(label=_("introduction"), required=False)

    class Meta:
        icon = "pick"
        label = _("Hero")
        template = "cms/blocks/hero.html"


class LatestPoliciesBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("title"), max_length=80, default="政策文件")
    count = blocks.IntegerBlock(label=_("how many"), min_value=1, max_value=10, default=3)

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        context["policies"] = (
            pages.PolicyPage.objects.live().public().order_by("-published_date", "-pk")[: value["count"]]
        )
        return context

    class Meta:
        icon = "doc-full-inverse"
        label = _("Latest policy")
        template = "cms/blocks/latest_policies.html"


class PublicityBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("title"), max_length=80, default="孝亲敬老宣传")
    count = blocks.IntegerBlock(label=_("how many"), min_value=1, max_value=12, default=4)

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        context["articles"] = pages.ArticlePage.objects.live().public().order_by("-date", "-pk")[: value["count"]]
        return context

    class Meta:
        icon = "doc-empty"
        label = _("Publicity")
        template = "cms/blocks/publicity.html"


class ServiceListSectionBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("title"), max_length=80, default="关爱服务清单")
    text = blocks.TextBlock(label=_("text"), required=False)

    def get_context(self, value, parent_context=None):
        from django.db.models import Count, Q

        context = super().get_context(value, parent_context)
        context["categories"] = (
            ServiceCategory.objects.annotate(published_items=Count("items", filter=Q(items__published=True)))
            .filter(published_items__gt=0)
            .order_by("sort_order", "name")
        )
        context["list_page"] = pages.ServiceListPage.objects.live().public().first()
        return context

    class Meta:
        icon = "list-ol"
        label = _("Care-service list")
        template = "cms/blocks/service_list_section.html"


class ActivitiesBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("title"), max_length=80, default="近期活动")
    count = blocks.IntegerBlock(label=_("how many"), min_value=1, max_value=10, default=3)

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        context["activities"] = list(activities.activities_upcoming(limit=value["count"]))
        return context

    class Meta:
        icon = "date"
        label = _("Upcoming activities")
        template = "cms/blocks/activities.html"


class HotlineBlock(blocks.StructBlock):
    number = blocks.CharBlock(label=_("number"), max_length=40, required=False, help_text=_("Empty: the page's."))
    text = blocks.TextBlock(label=_("text"), required=False)

    class Meta:
        icon = "mail"
        label = _("Hotline")
        template = "cms/blocks/hotline.html"


class HomeSectionsBlock(ContentStreamBlock):
    hero = HeroBlock()
    latest_policies = LatestPoliciesBlock()
    publicity = PublicityBlock()
    service_list = ServiceListSectionBlock()
    activities = ActivitiesBlock()
    hotline = HotlineBlock()
