"""Sign-in endpoints: SMS code → tokens, refresh, sign out, and the list of one's signed-in clients."""

import datetime

from ninja import Field, Router, Schema, Status

from django.http import Http404
from django.utils.translation import gettext

from . import auth
from .errors import errors
from .ids import PathId
from .models import ClientSession

router = Router(tags=["sign-in"])


class CodeIn(Schema):
    phone: str = Field(..., max_length=30, examples=["13900000006"])


class MessageOut(Schema):
    message: str


@router.post("/auth/code", response={202: MessageOut, **errors()}, summary="Send a sign-in code by SMS")
def code_request(request, payload: CodeIn):
    """A 6-digit code, valid 10 minutes. The answer is the same whether or not the number has an account."""
    auth.code_request(phone=payload.phone, request=request)
    return Status(202, {"message": gettext("If this number has an account, a code is on its way by SMS.")})


class TokenIn(Schema):
    phone: str = Field(..., max_length=30, examples=["13900000006"])
    code: str = Field(..., max_length=10, examples=["123456"])
    client_name: str = Field("", max_length=60, examples=["关爱小程序"])


class RefreshIn(Schema):
    refresh_token: str = Field(..., max_length=200)


class TokenOut(Schema):
    token_type: str = "Bearer"  # noqa: S105 (the scheme's name, not a secret)
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_at: datetime.datetime


def _tokens(session: ClientSession, access: str, refresh: str) -> dict:
    return {
        "token_type": "Bearer",
        "access_token": access,
        "expires_in": int(auth.access_ttl().total_seconds()),
        "refresh_token": refresh,
        "refresh_expires_at": session.refresh_expires_at,
    }


@router.post("/auth/token", response={200: TokenOut, **errors()}, summary="Exchange the SMS code for tokens")
def token(request, payload: TokenIn):
    session, access, refresh = auth.code_exchange(
        phone=payload.phone, code=payload.code, client_name=payload.client_name, request=request
    )
    return _tokens(session, access, refresh)


@router.post("/auth/refresh", response={200: TokenOut, **errors()}, summary="New tokens for a refresh token")
def refresh(request, payload: RefreshIn):
    """Both tokens are replaced; the refresh token sent is spent."""
    session, access, refresh = auth.session_refresh(refresh_token=payload.refresh_token, request=request)
    return _tokens(session, access, refresh)


class SessionOut(Schema):
    id: int
    client_name: str
    created_at: datetime.datetime
    last_used_at: datetime.datetime | None
    refresh_expires_at: datetime.datetime
    current: bool

    @staticmethod
    def resolve_current(session, context):
        current = getattr(context["request"], "api_session", None)
        return current is not None and current.pk == session.pk


@router.get(
    "/auth/sessions",
    response={200: list[SessionOut], **errors()},
    auth=auth.AccessToken(),
    summary="My signed-in clients",
)
def session_list(request):
    return list(auth.sessions_of(request.user)[:50])


@router.post(
    "/auth/logout", response={200: MessageOut, **errors()}, auth=auth.AccessToken(), summary="Sign this client out"
)
def logout(request):
    auth.session_revoke(actor=request.user, session=request.api_session, request=request)
    return {"message": gettext("Signed out.")}


@router.delete(
    "/auth/sessions/{session_id}",
    response={200: MessageOut, **errors()},
    auth=auth.AccessToken(),
    summary="Sign a client out",
)
def session_revoke(request, session_id: PathId):
    session = auth.sessions_of(request.user).filter(pk=session_id).first()
    if session is None:
        raise Http404
    auth.session_revoke(actor=request.user, session=session, request=request)
    return {"message": gettext("Signed out.")}
