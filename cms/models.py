"""Wagtail pages of the public site: home, policy, publicity, the care-service list, plain pages."""

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import models
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from taggit.models import TaggedItemBase
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index

from portal.models import Region, RegionLevel
from services.catalogue.selectors import items_published

from .blocks import RICH_FEATURES, ContentStreamBlock, HomeSectionsBlock
from .richtext import html_to_text
from .search import segment_for_index
from .service_list import service_list_context

PAGE_SIZE = 10


def paginate(request, items, per_page: int = PAGE_SIZE):
    """A page of `items` for ?page=N; a malformed or too large N gives the first or last page, never an error."""
    paginator = Paginator(items, per_page)
    try:
        return paginator.page(request.GET.get("page", 1))
    except PageNotAnInteger:
        return paginator.page(1)
    except EmptyPage:
        return paginator.page(paginator.num_pages)


def stream_text(stream) -> str:
    """The readable text of a StreamField (for the search index and the meta description)."""
    parts = []
    for block in stream or []:
        value = block.value
        if hasattr(value, "source"):
            parts.append(html_to_text(value.source))
        elif isinstance(value, str):
            parts.append(value)
        elif hasattr(value, "get"):
            for key in ("text", "title", "caption", "alt", "source", "label"):
                if isinstance(value.get(key), str):
                    parts.append(value.get(key))
            for figure in value.get("figures") or []:
                parts.append(f"{figure.get('value', '')} {figure.get('label', '')}")
    return "\n".join(p for p in parts if p)


class SegmentedSearchMixin:
    """Pages indexed with an n-gram copy of their text so that Chinese words inside a body are found.

    See cms.search for why (Chinese has no spaces; both databases' full-text tokenisers would index a
    whole sentence as one word).
    """

    def search_plain_text(self) -> str:
        return self.title

    def search_segments(self) -> str:
        # The title is repeated so that a page whose title holds the words ranks above one that only
        # mentions them (the title column itself holds the unsegmented title).
        title = segment_for_index(self.title)
        return "\n".join([title, title, segment_for_index(self.search_plain_text())])


SEGMENTED_SEARCH_FIELDS = [index.SearchField("search_segments")]


class HomePage(SegmentedSearchMixin, Page):
    """The portal's front door: what it is, how to get help, where to go next."""

    hero_title = models.CharField(_("headline"), max_length=100, blank=True)
    hero_text = models.TextField(_("introduction"), blank=True)
    hotline = models.CharField(_("care hotline"), max_length=40, blank=True)
    body = RichTextField(_("body"), blank=True, features=RICH_FEATURES)
    sections = StreamField(
        HomeSectionsBlock(),
        verbose_name=_("sections"),
        blank=True,
        help_text=_("Hero, latest policy, publicity, care-service list, upcoming activities, hotline, in any order."),
    )

    content_panels = Page.content_panels + [
        FieldPanel("hero_title"),
        FieldPanel("hero_text"),
        FieldPanel("hotline"),
        FieldPanel("sections"),
        FieldPanel("body"),
    ]
    # Not in the segmented index: the home page only repeats what the other pages say.

    max_count = 1
    parent_page_types = ["wagtailcore.Page"]

    class Meta:
        verbose_name = _("home page")

    def search_plain_text(self) -> str:
        return "\n".join([self.title, self.hero_title, self.hero_text, html_to_text(self.body)])


class StandardPage(SegmentedSearchMixin, Page):
    """A plain page (关于我们, 联系方式…)."""

    intro = models.TextField(_("introduction"), blank=True)
    body = StreamField(ContentStreamBlock(), verbose_name=_("body"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]
    search_fields = Page.search_fields + SEGMENTED_SEARCH_FIELDS

    class Meta:
        verbose_name = _("standard page")

    def search_plain_text(self) -> str:
        return "\n".join([self.title, self.intro, stream_text(self.body)])


# --- policy -----------------------------------------------------------------------------------


class PolicyIndexPage(Page):
    """政策文件: the policies, newest first, filterable by validity."""

    intro = models.TextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    subpage_types = ["cms.PolicyPage"]

    class Meta:
        verbose_name = _("policy index page")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        policies = PolicyPage.objects.live().public().child_of(self).order_by("-published_date", "-pk")
        validity = request.GET.get("validity", "")
        if validity in PolicyPage.Validity.values:
            policies = policies.filter(validity=validity)
        else:
            validity = ""
        context["validity"] = validity
        context["validity_choices"] = PolicyPage.Validity.choices
        context["policies"] = paginate(request, policies)
        return context


class PolicyPage(SegmentedSearchMixin, Page):
    """A policy document: 文号, issuing bodies, dates, validity, full text or an honest summary."""

    class Validity(models.TextChoices):
        CURRENT = "current", _("In force")
        REPEALED = "repealed", _("Repealed")

    document_number = models.CharField(_("document number"), max_length=60, blank=True, help_text="宁民发〔2018〕105号")
    issuing_bodies = models.TextField(_("issuing bodies"), blank=True, help_text=_("One per line."))
    written_date = models.DateField(_("date written"), null=True, blank=True)
    published_date = models.DateField(_("date published"), null=True, blank=True)
    validity = models.CharField(_("validity"), max_length=10, choices=Validity.choices, default=Validity.CURRENT)
    summary = models.TextField(_("summary"), blank=True)
    full_text = RichTextField(
        _("full text"), blank=True, features=RICH_FEATURES, help_text=_("Leave empty if only a summary is given.")
    )
    related_policies = ParentalManyToManyField(
        "self", verbose_name=_("related policies"), blank=True, symmetrical=False
    )

    content_panels = Page.content_panels + [
        MultiFieldPanel(
            [
                FieldPanel("document_number"),
                FieldPanel("issuing_bodies"),
                FieldRowPanel([FieldPanel("written_date"), FieldPanel("published_date")]),
                FieldPanel("validity"),
            ],
            heading=_("Document"),
        ),
        FieldPanel("summary"),
        FieldPanel("full_text"),
        InlinePanel("attachments", label=_("Attachments")),
        FieldPanel("related_policies"),
    ]
    search_fields = Page.search_fields + SEGMENTED_SEARCH_FIELDS + [index.FilterField("validity")]
    parent_page_types = ["cms.PolicyIndexPage"]
    subpage_types = []

    class Meta:
        verbose_name = _("policy page")

    @property
    def issuing_body_list(self) -> list[str]:
        return [line.strip() for line in self.issuing_bodies.splitlines() if line.strip()]

    @property
    def is_current(self) -> bool:
        return self.validity == self.Validity.CURRENT

    def search_plain_text(self) -> str:
        return "\n".join(
            [self.title, self.document_number, self.issuing_bodies, self.summary, html_to_text(self.full_text)]
        )

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["attachments"] = list(self.attachments.select_related("document"))
        context["related"] = list(
            self.related_policies.live().public().only("id", "title", "url_path", "document_number", "validity")
        )
        return context


class PolicyAttachment(Orderable):
    page = ParentalKey(PolicyPage, on_delete=models.CASCADE, related_name="attachments")
    document = models.ForeignKey(
        "wagtaildocs.Document", verbose_name=_("document"), on_delete=models.CASCADE, related_name="+"
    )
    title = models.CharField(_("link text"), max_length=120, blank=True)

    panels = [FieldPanel("document"), FieldPanel("title")]

    class Meta(Orderable.Meta):
        verbose_name = _("attachment")


# --- publicity --------------------------------------------------------------------------------


class ArticleCategory(models.TextChoices):
    MODEL = "model", _("Filial-piety examples")
    HEALTH = "health", _("Health knowledge")
    LAW = "law", _("Law and rights")
    NEWS = "news", _("Work news")


class ArticleIndexPage(Page):
    """宣传: a list of articles. A county's own section is an ArticleIndexPage with that county set;
    the county editor group may edit only below it."""

    intro = models.TextField(_("introduction"), blank=True)
    region = models.ForeignKey(
        Region,
        verbose_name=_("county"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": RegionLevel.COUNTY},
        help_text=_("Set on a county's own section."),
    )

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("region")]
    subpage_types = ["cms.ArticlePage", "cms.ArticleIndexPage"]

    class Meta:
        verbose_name = _("publicity index page")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        articles = ArticlePage.objects.live().public().descendant_of(self).order_by("-date", "-pk")
        category = request.GET.get("category", "")
        if category in ArticleCategory.values:
            articles = articles.filter(category=category)
        else:
            category = ""
        tag = request.GET.get("tag", "")[:100]
        if tag:
            articles = articles.filter(tags__name=tag)
        context.update(
            category=category,
            tag=tag,
            categories=ArticleCategory.choices,
            sections=self.get_children().live().public().type(ArticleIndexPage),
            articles=paginate(request, articles),
        )
        return context


class ArticlePageTag(TaggedItemBase):
    content_object = ParentalKey("cms.ArticlePage", on_delete=models.CASCADE, related_name="tagged_items")


class ArticlePage(SegmentedSearchMixin, Page):
    """A publicity article: 孝亲敬老典型, 健康知识, 法治宣传 or 工作动态, with tags."""

    date = models.DateField(_("date"))
    category = models.CharField(_("category"), max_length=10, choices=ArticleCategory.choices)
    summary = models.TextField(_("summary"), max_length=300, blank=True)
    body = StreamField(ContentStreamBlock(), verbose_name=_("body"), blank=True)
    tags = ClusterTaggableManager(through=ArticlePageTag, blank=True, verbose_name=_("tags"))

    content_panels = Page.content_panels + [
        FieldRowPanel([FieldPanel("date"), FieldPanel("category")]),
        FieldPanel("summary"),
        FieldPanel("body"),
        FieldPanel("tags"),
    ]
    search_fields = Page.search_fields + SEGMENTED_SEARCH_FIELDS + [index.FilterField("category")]
    parent_page_types = ["cms.ArticleIndexPage"]
    subpage_types = []

    class Meta:
        verbose_name = _("publicity article")

    def search_plain_text(self) -> str:
        return "\n".join([self.title, self.summary, stream_text(self.body)])

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["tag_list"] = list(self.tags.all())
        return context


# --- the care-service list ---------------------------------------------------------------------


class ServiceListPage(RoutablePageMixin, SegmentedSearchMixin, Page):
    """关爱服务清单: published service items grouped by category, filtered by county and township.

    The filter is in GET parameters so a filtered list can be shared; every item has its own URL
    (``item/<id>/`` below this page). The reads live in cms.service_list.
    """

    intro = models.TextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    search_fields = Page.search_fields + SEGMENTED_SEARCH_FIELDS
    subpage_types = []

    class Meta:
        verbose_name = _("care-service list page")

    def search_plain_text(self) -> str:
        return "\n".join([self.title, self.intro])

    @path("")
    def service_list(self, request):
        context = self.get_context(request)
        context.update(service_list_context(request.GET))
        context["list_url"] = self.get_url(request)
        return self.render(request, context_overrides=context)

    @path("item/<int:item_id>/")
    def service_item(self, request, item_id: int):
        item = get_object_or_404(items_published().prefetch_related("regions"), pk=item_id)
        context = self.get_context(request)
        context["item"] = item
        return self.render(request, context_overrides=context, template="cms/service_item.html")

    def get_sitemap_urls(self, request=None):
        urls = super().get_sitemap_urls(request)
        base = self.get_full_url(request)
        for item in items_published().select_related(None).only("pk", "updated_at"):
            urls.append({"location": f"{base}item/{item.pk}/", "lastmod": item.updated_at})
        return urls


# Labels of the site navigation (templates/includes/header.html), kept here so that they are in this
# app's catalogue.
NAV_LABELS = (_("Policy"), _("Publicity"), _("Care services"), _("Search"))
