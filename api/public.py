"""Public endpoints: no sign-in. The care-service list, policies, publicity, activities, organisations."""

import datetime

from ninja import Query, Router, Schema
from ninja.pagination import paginate

from django.shortcuts import get_object_or_404

from wagtail.rich_text import expand_db_html

from cms.models import ArticleCategory, ArticlePage, PolicyPage
from portal.models import Region
from services.catalogue.selectors import items_covering, items_published
from volunteers.activities import activities_public, activity_visible
from volunteers.organisations import organisations_public

from .errors import errors
from .ids import PathId
from .pagination import PagePagination

router = Router(tags=["public"])


class Named(Schema):
    id: int
    name: str


class RegionOut(Schema):
    code: str
    name: str


# --- the care-service list (关爱服务清单) ----------------------------------------------------------------


class CategoryOut(Schema):
    slug: str
    name: str


class ServiceItemOut(Schema):
    id: int
    name: str
    category: CategoryOut
    description: str
    eligibility: str
    how_to_obtain: str
    provider: str
    contact: str
    cost: str
    professional: bool


@router.get("/services/", response={200: list[ServiceItemOut], **errors()}, summary="Care-service list")
@paginate(PagePagination)
def service_list(request, category: str = "", region: str = Query("", pattern=r"^(\d{12})?$")):
    """Published service items; `region` (a 12-digit code) keeps those offered there; `category` a category slug."""
    items = items_published()
    if region:
        place = Region.objects.filter(code=region).first()
        items = items_covering(place) if place else items.none()
    if category:
        items = items.filter(category__slug=category)
    return items.order_by("category__sort_order", "sort_order", "pk")


@router.get("/services/{item_id}", response={200: ServiceItemOut, **errors()}, summary="One care service")
def service_detail(request, item_id: PathId):
    return get_object_or_404(items_published(), pk=item_id)


# --- policy and publicity ----------------------------------------------------------------------------


class PolicyOut(Schema):
    id: int
    title: str
    document_number: str
    issuing_bodies: list[str]
    written_date: datetime.date | None
    published_date: datetime.date | None
    validity: str
    validity_label: str
    summary: str

    @staticmethod
    def resolve_issuing_bodies(page):
        return [line.strip() for line in page.issuing_bodies.splitlines() if line.strip()]

    @staticmethod
    def resolve_validity_label(page):
        return str(page.get_validity_display())


class PolicyDetailOut(PolicyOut):
    url: str
    full_text_html: str

    @staticmethod
    def resolve_full_text_html(page):
        return expand_db_html(page.full_text or "")

    @staticmethod
    def resolve_url(page, context):
        return page.get_full_url(context["request"]) or ""


def _policies():
    return PolicyPage.objects.live().public().order_by("-published_date", "-pk")


@router.get("/policies/", response={200: list[PolicyOut], **errors()}, summary="Policy documents")
@paginate(PagePagination)
def policy_list(request, validity: PolicyPage.Validity | None = None):
    policies = _policies()
    return policies.filter(validity=validity) if validity else policies


@router.get("/policies/{page_id}", response={200: PolicyDetailOut, **errors()}, summary="One policy document")
def policy_detail(request, page_id: PathId):
    return get_object_or_404(_policies(), pk=page_id)


class ArticleOut(Schema):
    id: int
    title: str
    date: datetime.date
    category: str
    category_label: str
    summary: str

    @staticmethod
    def resolve_category_label(page):
        return str(page.get_category_display())


class ArticleDetailOut(ArticleOut):
    url: str
    body_html: str

    @staticmethod
    def resolve_body_html(page):
        return str(page.body.render_as_block())

    @staticmethod
    def resolve_url(page, context):
        return page.get_full_url(context["request"]) or ""


def _articles():
    return ArticlePage.objects.live().public().order_by("-date", "-pk")


@router.get("/publicity/", response={200: list[ArticleOut], **errors()}, summary="Publicity articles")
@paginate(PagePagination)
def article_list(request, category: ArticleCategory | None = None):
    articles = _articles()
    return articles.filter(category=category) if category else articles


@router.get("/publicity/{page_id}", response={200: ArticleDetailOut, **errors()}, summary="One publicity article")
def article_detail(request, page_id: PathId):
    return get_object_or_404(_articles(), pk=page_id)


# --- activities and organisations --------------------------------------------------------------------


class ActivityOut(Schema):
    id: int
    title: str
    kind: str
    kind_label: str
    organisation: Named
    village: RegionOut
    place: str
    start: datetime.datetime
    end: datetime.datetime
    signup_deadline: datetime.datetime
    capacity: int
    places_left: int
    audience: str
    audience_label: str
    status: str

    @staticmethod
    def resolve_kind_label(activity):
        return str(activity.get_kind_display())

    @staticmethod
    def resolve_audience_label(activity):
        return str(activity.get_audience_display())


class ActivityDetailOut(ActivityOut):
    description: str


@router.get("/activities/", response={200: list[ActivityOut], **errors()}, summary="Upcoming activities")
@paginate(PagePagination)
def activity_list(request, region: str = Query("", pattern=r"^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})?$")):
    """Published activities that have not ended, soonest first; `region`: a code prefix (2, 4, 6, 9 or 12
    digits) keeps those in that area."""
    from django.utils import timezone

    activities = activities_public().filter(end__gte=timezone.now())
    if region:
        activities = activities.filter(village__code__startswith=region)
    return activities


@router.get("/activities/{activity_id}", response={200: ActivityDetailOut, **errors()}, summary="One activity")
def activity_detail(request, activity_id: PathId):
    return activity_visible(user=request.user, pk=activity_id)


class OrganisationOut(Schema):
    id: int
    name: str
    kind: str
    region: RegionOut
    address: str
    description: str

    @staticmethod
    def resolve_kind(organisation):
        return organisation.kind.name if organisation.kind_id else ""


@router.get("/organisations/", response={200: list[OrganisationOut], **errors()}, summary="Organisations")
@paginate(PagePagination)
def organisation_list(request, region: str = Query("", pattern=r"^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})?$")):
    organisations = organisations_public().order_by("name", "pk")
    if region:
        organisations = organisations.filter(region__code__startswith=region)
    return organisations


@router.get("/organisations/{organisation_id}", response={200: OrganisationOut, **errors()}, summary="One organisation")
def organisation_detail(request, organisation_id: PathId):
    return get_object_or_404(organisations_public(), pk=organisation_id)
