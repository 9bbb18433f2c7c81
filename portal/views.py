from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods

from .context_processors import ELDER_MODE_COOKIE
from .models import Region
from .phone import mask_phone
from .scoping import staff_roles

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


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


@cache_control(public=True, max_age=3600)
def region_children(request, code: str):
    """Public list of a region's direct children (division names are public data)."""
    if not (len(code) == 12 and code.isdigit()):
        return JsonResponse({"error": "bad code", "children": []}, status=400)
    children = list(Region.objects.filter(parent_id=code).values("code", "name"))
    return JsonResponse({"children": children})


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says: send them to the site's icon (resolved per
    request, so the hashed name of the collected file is used in production)."""
    from django.http import HttpResponsePermanentRedirect
    from django.templatetags.static import static

    return HttpResponsePermanentRedirect(static("img/favicon.svg"))
