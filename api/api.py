"""The open API, version 1, mounted at /api/v1/ (django-ninja). The schema is /api/v1/openapi.json and is
kept in the repository as api/openapi.json (`manage.py api_schema --write`); the docs page is /api/v1/docs."""

from ninja import NinjaAPI
from ninja.openapi.docs import DocsBase
from ninja.throttling import AnonRateThrottle, AuthRateThrottle

from django.conf import settings
from django.shortcuts import render

from portal.scoping import no_store

from . import errors, liaison, public, sessions, volunteer

DESCRIPTION = """\
农村留守老年人关爱服务门户的开放接口，供小程序与手机应用使用。Open API of the care portal for mini-programs and apps.

* 登录 Sign-in: `POST /auth/code` sends an SMS code; `POST /auth/token` exchanges it for a short-lived
  access token and a refresh token; send `Authorization: Bearer <access token>`; `POST /auth/refresh`
  renews both. Sessions are listed and revoked at `/auth/sessions` and on the portal's “My page”.
* 错误 Errors: always `{"error": {"code", "message", "fields"}}`, the message in Chinese (English when the
  `django_language=en` cookie is sent).
* 分页 Lists: `?page=&page_size=` (≤ 100) → `{"items", "count", "page", "page_size"}`.
* 范围 Scope: staff endpoints return only rows of the caller's area; ID numbers and phones are masked.
"""


class VendoredSwagger(DocsBase):
    """Swagger UI from static/vendor/swagger-ui (no CDN: government intranets block them)."""

    def render_page(self, request, api, **kwargs):
        return render(request, "api/docs.html", {"openapi_url": self.get_openapi_url(api, kwargs), "api": api})


class PortalAPI(NinjaAPI):
    def create_response(self, request, data, *args, **kwargs):
        response = super().create_response(request, data, *args, **kwargs)
        if getattr(request, "api_session", None) is not None or request.method != "GET":
            no_store(response)
        return response


def _throttles():
    rates = {"anon": "120/m", "auth": "600/m", **getattr(settings, "API_THROTTLE_RATES", {})}
    return [AnonRateThrottle(rates["anon"]), AuthRateThrottle(rates["auth"])]


api = PortalAPI(
    title="留守老人关爱服务门户开放接口 · Care portal open API",
    version="1.0.0",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    docs=VendoredSwagger(),
    docs_url="/docs",
    openapi_url="/openapi.json",
    throttle=_throttles(),
)
errors.install(api)
api.add_router("", sessions.router)
api.add_router("", public.router)
api.add_router("", volunteer.router)
api.add_router("", liaison.router)
