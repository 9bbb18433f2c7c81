from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods
from django.views.generic import ListView

from .context_processors import ELDER_MODE_COOKIE
from .models import Region, SmsMessage, SmsStatus
from .phone import mask_phone
from .scoping import ScopedViewMixin, staff_roles

YEAR = 365 * 24 * 3600


def safe_next(request, target: str | None) -> str:
    """`target` when it is a path on this site, else "/" (no open redirect, no header injection)."""
    target = target or "/"
    if any(ord(char) < 32 or ord(char) == 127 for char in target):
        return "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return "/"
    return target


@require_http_methods(["GET", "POST"])
def toggle_elder_mode(request):
    """Large-font, high-contrast mode (适老化): a cookie, so it persists and works without JavaScript.

    The header asks by GET (``?mode=on|off&next=…``) so that public pages carry no per-visitor CSRF
    token and can be cached for everyone. A GET that sets a cookie is acceptable here because the
    cookie only changes presentation — no data, no account. An explicit ``mode`` makes the link
    idempotent (a double click or a prefetch does not flip it back); without one it toggles, as the
    older POST form did (still accepted).
    """
    params = request.POST if request.method == "POST" else request.GET
    mode = params.get("mode")
    turn_on = mode == "on" if mode in ("on", "off") else request.COOKIES.get(ELDER_MODE_COOKIE) != "1"
    response = HttpResponseRedirect(safe_next(request, params.get("next")))
    response.set_cookie(ELDER_MODE_COOKIE, "1" if turn_on else "0", max_age=YEAR, samesite="Lax")
    return response


@require_GET
def choose_language(request, code: str):
    """The header's language link (GET, like the large-text switch: a presentation-only cookie).

    Django's POST set_language stays for forms; this one needs no CSRF token, so cached public pages
    can offer it.
    """
    if code not in dict(settings.LANGUAGES):
        raise Http404(_("Unknown language."))
    response = HttpResponseRedirect(safe_next(request, request.GET.get("next")))
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE or YEAR,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE or "Lax",
    )
    return response


@login_required
def me(request):
    """The signed-in person's own page: who they are and which duties they hold."""
    return render(
        request,
        "portal/me.html",
        {"roles": staff_roles(request.user), "masked_phone": mask_phone(request.user.phone)},
    )


def queue_age_seconds() -> float | None:
    """Age in seconds of the oldest task waiting to run (0 when none; None when the queue is not a table)."""
    from django_tasks import task_backends
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult, get_date_max

    from django.db.models import Min, Q
    from django.utils import timezone

    if not isinstance(task_backends["default"], DatabaseBackend):
        return None
    now = timezone.now()
    # A deferred task waits from its run_after, not from when it was enqueued.
    ready = DBTaskResult.objects.ready()
    oldest_now = ready.filter(run_after=get_date_max()).aggregate(at=Min("enqueued_at"))["at"]
    oldest_deferred = ready.filter(~Q(run_after=get_date_max())).aggregate(at=Min("run_after"))["at"]
    oldest = min([t for t in (oldest_now, oldest_deferred) if t is not None], default=None)
    return round(max((now - oldest).total_seconds(), 0.0), 1) if oldest else 0.0


@transaction.non_atomic_requests
def healthz(request):
    """JSON for the load balancer and the monitoring: 200 while the database answers (the site can
    serve: a cache outage only makes pages slower), 503 when it does not."""
    import logging
    import uuid

    from django.core.cache import cache
    from django.db import connection

    logger = logging.getLogger("portal.healthz")
    body: dict = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        body["database"] = "ok"
    except Exception as exc:
        logger.warning("healthz: database: %s", exc)
        body["database"] = "error"
    try:
        # ResilientCache (production) would answer from its fallback: ask its server itself.
        target = getattr(cache, "primary", cache)
        token = uuid.uuid4().hex
        target.set("healthz", token, 30)
        body["cache"] = "ok" if target.get("healthz") == token else "error"
    except Exception as exc:
        logger.warning("healthz: cache: %s", exc)
        body["cache"] = "error"
    try:
        body["queue"] = queue_age_seconds() if body["database"] == "ok" else None
    except Exception as exc:
        logger.warning("healthz: queue: %s", exc)
        body["queue"] = None
    response = JsonResponse(body, status=200 if body["database"] == "ok" else 503)
    add_never_cache_headers(response)
    return response


@cache_control(public=True, max_age=3600)
def region_children(request, code: str):
    """Public list of a region's direct children (division names are public data)."""
    if not (len(code) == 12 and code.isdigit()):
        return JsonResponse({"error": "bad code", "children": []}, status=400)
    children = list(Region.objects.filter(parent_id=code).values("code", "name"))
    return JsonResponse({"children": children})


class SmsOutboxView(ScopedViewMixin, ListView):
    """Delivery of the text messages sent to people in the staff member's area (numbers masked)."""

    model = SmsMessage
    scope_field = "region"
    template_name = "portal/sms_outbox.html"
    paginate_by = 50
    context_object_name = "messages_sent"

    def get_queryset(self):
        queryset = self.scope(SmsMessage.objects.select_related("region").defer("phone", "body", "params"))
        status = self.request.GET.get("status")
        if status in SmsStatus.values:
            queryset = queryset.filter(status=status)
        return queryset.order_by("-created_at", "-pk")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["statuses"] = SmsStatus.choices
        context["chosen_status"] = self.request.GET.get("status", "")
        return context


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says: send them to the site's icon (resolved per
    request, so the hashed name of the collected file is used in production)."""
    from django.http import HttpResponsePermanentRedirect
    from django.templatetags.static import static

    return HttpResponsePermanentRedirect(static("img/favicon.svg"))
