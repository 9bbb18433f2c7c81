"""A cache of the public site for anonymous visitors: Wagtail pages (and the care-service list routes
below them), the sitemap, robots.txt and the RSS feeds.

Why our own middleware and not Django's cache middleware or wagtail-cache: a page here varies by two
cookies only (the large-text mode and the chosen language). Django's middleware keys on the whole
``Cookie`` header (one entry per visitor); wagtail-cache by default ignores cookies other than the
session and CSRF ones (so large-text and standard pages would share an entry) and documents no Wagtail 8
support yet (3.0 supports 6.4 and 7.0).

What is cached: a GET by a visitor without a session cookie and without pending messages, answered by
one of CACHEABLE_VIEWS with 200, no Set-Cookie, no CSRF token used, no ``private``/``no-store``, not a
preview. Never anything under NEVER_CACHED_PREFIXES (admin, sign-in, staff and personal pages) — even
if a route there were added to CACHEABLE_VIEWS by mistake. The key is host + full path with query +
large-text flag + language + the current *generation*.

Invalidation: every change that can alter a public page (a page saved, published, unpublished, moved
or deleted, a view restriction, an image or document, a care-service item or category, a volunteer
activity — the home page lists the upcoming ones) replaces the generation, so every older entry is
never read again and expires by itself. The replacement happens at once and again after the transaction
commits, so a request that read the old rows during the transaction cannot leave a stale copy behind.
Time alone also changes a page (an activity that has started leaves "upcoming"):
PUBLIC_PAGE_CACHE_SECONDS (default 300) bounds that.

Shared caches (a proxy or CDN) are told ``Vary: Cookie`` and nothing more: they have no way to learn of
an unpublish, so a page withdrawn for a legal reason could stay out there. Pages served to a visitor
with a session get ``Cache-Control: private``.
"""

import hashlib
import logging
import uuid

from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpResponse
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers

from .context_processors import ELDER_MODE_COOKIE

GENERATION_KEY = "public-page-cache:generation"
KEY_PREFIX = "public-page-cache:page:"
DEFAULT_SECONDS = 300

# Views whose anonymous answers are the same for every visitor (by URL name).
CACHEABLE_VIEWS = frozenset(
    {
        "wagtail_serve",
        "sitemap",
        "robots",
        "cms:feed-policies",
        "cms:feed-publicity",
        # The public directory and activity list: anonymous copies are the same for everyone.
        "volunteers:organisation-list",
        "volunteers:activity-list",
        "volunteers:activity-ics",
    }
)
# Public lists that live under an otherwise never-cached prefix.
PUBLIC_UNDER_PRIVATE_PREFIXES = ("/volunteers/organisations/", "/volunteers/activities")
NEVER_CACHED_PREFIXES = (
    "/admin/",
    "/api/",
    "/django-admin/",
    "/accounts/",
    "/portal/",
    "/services/",
    "/volunteers/",
    "/documents/",
    "/search/",
    "/a11y/",
    "/i18n/",
    "/static/",
    "/media/",
)
# Values of response headers that make a response per-visitor.
PRIVATE_DIRECTIVES = ("private", "no-store", "no-cache")
HIT_HEADER = "X-Page-Cache"

logger = logging.getLogger("portal.cache")


def _safely(operation, default=None):
    """Run a cache operation; a cache outage (Redis down) is logged and answers `default`: pages are then
    served uncached rather than failing. (django-redis with IGNORE_EXCEPTIONS already swallows its own
    errors; this covers any other backend and misconfiguration.)"""
    try:
        return operation()
    except Exception as exc:
        logger.warning("page cache unavailable: %s", exc)
        return default


def page_cache():
    """The "pages" cache when configured (base settings), else "default" (the test settings)."""
    return caches["pages" if "pages" in settings.CACHES else "default"]


def cache_seconds() -> int:
    return int(getattr(settings, "PUBLIC_PAGE_CACHE_SECONDS", DEFAULT_SECONDS))


def generation() -> str:
    """The current generation; a missing one (evicted, first start) starts a new one, which is safe."""
    cache = page_cache()
    current = _safely(lambda: cache.get(GENERATION_KEY))
    if current is None:
        _safely(lambda: cache.add(GENERATION_KEY, uuid.uuid4().hex, None))
        current = _safely(lambda: cache.get(GENERATION_KEY)) or ""
    return current


def bump_generation() -> None:
    """Forget every cached page (now, and once more after the current transaction commits)."""
    cache = page_cache()
    _safely(lambda: cache.set(GENERATION_KEY, uuid.uuid4().hex, None))
    transaction.on_commit(lambda: _safely(lambda: cache.set(GENERATION_KEY, uuid.uuid4().hex, None)))


def visitor_may_use_cache(request) -> bool:
    """Anonymous GETs only: no session cookie (so not signed in, no password-passed page), no messages."""
    return (
        request.method == "GET"
        and cache_seconds() > 0
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
        and "HTTP_AUTHORIZATION" not in request.META
        and (
            not request.path.startswith(NEVER_CACHED_PREFIXES) or request.path.startswith(PUBLIC_UNDER_PRIVATE_PREFIXES)
        )
    )


def page_key(request) -> str:
    """The entry of this URL in this variant (large text or not, language) and this generation."""
    variant = "|".join(
        [
            generation(),
            request.scheme,
            request.get_host(),
            request.get_full_path(),
            "elder" if request.COOKIES.get(ELDER_MODE_COOKIE) == "1" else "std",
            translation.get_language() or settings.LANGUAGE_CODE,
        ]
    )
    return KEY_PREFIX + hashlib.sha256(variant.encode()).hexdigest()


def is_cacheable_view(request) -> bool:
    match = getattr(request, "resolver_match", None)
    return match is not None and match.view_name in CACHEABLE_VIEWS


def response_is_shareable(request, response) -> bool:
    """The response is the same for every anonymous visitor of this variant."""
    cache_control = response.get("Cache-Control", "")
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not response.has_header("Set-Cookie")
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")  # the page holds a per-visitor CSRF token
        and not getattr(request, "is_preview", False)
        and not any(directive in cache_control for directive in PRIVATE_DIRECTIVES)
        and not (hasattr(request, "user") and request.user.is_authenticated)
        # The session cookie is set by SessionMiddleware after this one has stored the page.
        and not (hasattr(request, "session") and request.session.modified)
    )


class PublicPageCacheMiddleware:
    """Serves and fills the cache. Place it after the language middleware (the key needs the chosen
    language) and before CSRF, messages and authentication (so it sees the cookies they set)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = page_key(request) if visitor_may_use_cache(request) else None
        if key is not None:
            stored = _safely(lambda: page_cache().get(key))
            if stored is not None:
                return rebuild(stored)
        response = self.get_response(request)
        if not is_cacheable_view(request):
            return response
        patch_vary_headers(response, ("Cookie",))
        if key is None:
            if request.method == "GET" and not response.has_header("Cache-Control"):
                patch_cache_control(response, private=True)
            return response
        if response_is_shareable(request, response):
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            _safely(lambda: page_cache().set(key, freeze(response), cache_seconds()))
            response[HIT_HEADER] = "miss"
        return response


def freeze(response) -> tuple:
    return (response.status_code, response.content, list(response.items()))


def rebuild(stored: tuple) -> HttpResponse:
    status, content, headers = stored
    response = HttpResponse(content, status=status)
    for name, value in headers:
        response[name] = value
    response[HIT_HEADER] = "hit"
    return response


# --- invalidation -----------------------------------------------------------------------------


def _changed(**kwargs) -> None:
    bump_generation()


def connect_invalidation() -> None:
    """Connect the signals that end the current generation. Called once from PortalConfig.ready()."""
    from wagtail.documents import get_document_model
    from wagtail.images import get_image_model
    from wagtail.models import PageViewRestriction, Site, get_page_models
    from wagtail.signals import page_published, page_unpublished, post_page_move

    uid = "public-page-cache"
    page_published.connect(_changed, dispatch_uid=f"{uid}:published")
    page_unpublished.connect(_changed, dispatch_uid=f"{uid}:unpublished")
    post_page_move.connect(_changed, dispatch_uid=f"{uid}:moved")
    models = [*get_page_models(), PageViewRestriction, Site, get_image_model(), get_document_model()]
    models += [apps.get_model(label) for label in ("services.ServiceItem", "services.ServiceCategory")]
    models += [apps.get_model(label) for label in ("volunteers.Activity", "volunteers.Organisation")]
    models += [apps.get_model(label) for label in ("volunteers.Membership", "volunteers.ActivitySignup")]
    for model in models:
        post_save.connect(_changed, sender=model, dispatch_uid=f"{uid}:save:{model._meta.label}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"{uid}:delete:{model._meta.label}")
    regions = apps.get_model("services.ServiceItem").regions.through
    m2m_changed.connect(_changed, sender=regions, dispatch_uid=f"{uid}:item-regions")
