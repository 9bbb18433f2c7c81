"""The portal's side of the API: on “My page” a person sees the clients signed in with their account and
can sign any of them out."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import auth


@login_required
@require_POST
def client_revoke(request, pk: int):
    session = auth.sessions_of(request.user).filter(pk=pk).first()
    if session is None:
        raise Http404
    auth.session_revoke(actor=request.user, session=session, request=request)
    messages.success(request, _("The client has been signed out."))
    return redirect("portal:me")
