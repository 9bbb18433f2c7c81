"""One JSON shape for every error, with a translated message (Chinese unless the client chose English):

    {"error": {"code": "validation_error", "message": "…", "fields": {"phone": ["…"]}}}

A refused write changes nothing: the request's transaction (ATOMIC_REQUESTS) is rolled back before the
error goes out — except a wrong sign-in code, whose counted try must stay counted.
"""

from ninja import Schema
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as SchemaValidationError

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .auth import SignInRefused

BAD_REQUEST = _("Some of the data sent is not valid. Check the fields listed.")
NOT_SIGNED_IN = _("Sign in first: the access token is missing, has expired or was revoked.")
FORBIDDEN = _("You may not do this.")
NOT_FOUND = _("Not found, or not yours to see.")
THROTTLED = _("Too many requests. Wait a little and try again.")
INVALID_FIELD = _("This value is not valid.")
REQUIRED_FIELD = _("This field is required.")


class ErrorBody(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] = {}


class ErrorOut(Schema):
    error: ErrorBody


def errors(*extra: int) -> dict:
    """The error responses every operation documents (so that the schema lists what can really come back)."""
    return dict.fromkeys((400, 401, 403, 404, 429, *extra), ErrorOut)


def body(code: str, message, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}


def _rollback():
    if transaction.get_connection().in_atomic_block:
        transaction.set_rollback(True)


def _field_messages(exc: ValidationError) -> tuple[str, dict]:
    if hasattr(exc, "error_dict"):
        fields = {
            ("__all__" if k == "__all__" else k): [str(m) for e in v for m in e.messages]
            for k, v in exc.error_dict.items()
        }
        first = next(iter(fields.values()), [""])[0]
        return first, fields
    return " ".join(str(m) for m in exc.messages), {}


def install(api) -> None:
    @api.exception_handler(ValidationError)
    def validation_error(request, exc):
        _rollback()
        message, fields = _field_messages(exc)
        return api.create_response(request, body("invalid", message, fields), status=400)

    @api.exception_handler(SchemaValidationError)
    def schema_error(request, exc):
        fields: dict[str, list[str]] = {}
        for item in exc.errors:
            loc = [str(p) for p in item.get("loc", ()) if p not in ("body", "query", "path", "payload")]
            name = ".".join(loc) or "__all__"
            kind = item.get("type", "")
            fields.setdefault(name, []).append(str(REQUIRED_FIELD if kind == "missing" else INVALID_FIELD))
        return api.create_response(request, body("invalid", BAD_REQUEST, fields), status=400)

    @api.exception_handler(SignInRefused)
    def sign_in_refused(request, exc):
        fields = {exc.field: [str(exc.message)]} if exc.field else {}
        return api.create_response(request, body(exc.code, exc.message, fields), status=exc.status)

    @api.exception_handler(AuthenticationError)
    def not_signed_in(request, exc):
        return api.create_response(request, body("not_signed_in", NOT_SIGNED_IN), status=401)

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc):
        _rollback()
        message = str(exc) if str(exc) else gettext(str(FORBIDDEN))
        return api.create_response(request, body("forbidden", message), status=403)

    @api.exception_handler(Http404)
    def not_found(request, exc):
        _rollback()
        return api.create_response(request, body("not_found", NOT_FOUND), status=404)

    @api.exception_handler(Throttled)
    def throttled(request, exc):
        return api.create_response(request, body("throttled", THROTTLED), status=429)

    @api.exception_handler(HttpError)
    def http_error(request, exc):
        _rollback()
        messages = {400: BAD_REQUEST, 401: NOT_SIGNED_IN, 403: FORBIDDEN, 404: NOT_FOUND, 429: THROTTLED}
        return api.create_response(
            request, body("error", messages.get(exc.status_code, exc.message)), status=exc.status_code
        )
