"""The kiosk at the door (the organiser's tablet or phone) and the volunteer's sign-in page."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from portal.scoping import no_store
from volunteers import activities as acts
from volunteers import checkin as chk
from volunteers.models import SignupStatus


def qr_svg(data: str) -> str:
    """An inline SVG of the QR code (no image request, no JS library; scales to any screen)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    svg = image.to_string(encoding="unicode")
    return svg.split("?>", 1)[-1].strip()


def _kiosk_data(request, activity) -> dict:
    codes = chk.kiosk_codes(activity)
    url = (
        request.build_absolute_uri(reverse("volunteers:activity-checkin", args=[activity.pk])) + f"?t={codes['token']}"
    )
    signed_in, signed_out = chk.checked_in_count(activity)
    return {**codes, "svg": qr_svg(url), "signed_in": signed_in, "signed_out": signed_out}


@login_required
def activity_kiosk(request, pk: int):
    """Only the organisation's admins open the kiosk: its code lets whoever reads it sign in."""
    activity = acts.activity_for_admin(user=request.user, pk=pk)
    data = _kiosk_data(request, activity)
    if request.GET.get("format") == "json":
        return no_store(
            JsonResponse({k: data[k] for k in ("svg", "digits", "seconds_left", "signed_in", "signed_out")})
        )
    context = {
        "activity": activity,
        "data": data,
        "qr": mark_safe(data["svg"]),  # noqa: S308 — qrcode's own SVG of our URL, no user text in it
        "checkin_path": reverse("volunteers:activity-checkin", args=[activity.pk]),
    }
    return no_store(render(request, "volunteers/activity_kiosk.html", context))


class CheckinForm(forms.Form):
    t = forms.CharField(required=False, max_length=300, widget=forms.HiddenInput)
    code = forms.CharField(
        label=_("6-digit code on the screen"),
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9 ]*"}),
    )
    action = forms.ChoiceField(choices=[(chk.IN, _("Check in")), (chk.OUT, _("Check out"))], widget=forms.HiddenInput)
    latitude = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)
    longitude = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)


@login_required
def activity_checkin(request, pk: int):
    """Opened by scanning the kiosk's QR code (`?t=…`), or typed: the volunteer signs in or out."""
    activity = acts.activity_visible(user=request.user, pk=pk)
    if request.method == "POST":
        form = CheckinForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                signup = chk.checkin(
                    user=request.user,
                    activity=activity,
                    action=data["action"],
                    token=data["t"],
                    digits=data["code"],
                    latitude=data["latitude"] or None,
                    longitude=data["longitude"] or None,
                    request=request,
                )
            except ValidationError as exc:
                for message in exc.messages:
                    messages.error(request, message)
            else:
                if data["action"] == chk.IN:
                    messages.success(request, _("Signed in. Welcome!"))
                else:
                    messages.success(
                        request,
                        _("Signed out. %(minutes)s minutes of service go to your record, waiting for confirmation.")
                        % {"minutes": signup.minutes},
                    )
        else:
            messages.error(request, chk.BAD_CODE)
        return redirect("volunteers:activity-checkin", pk=activity.pk)
    signup = activity.signups.filter(user=request.user, status=SignupStatus.SIGNED_UP).first()
    token = request.GET.get("t", "")[:300]
    context = {
        "activity": activity,
        "signup": signup,
        "token": token,
        "form": CheckinForm(initial={"t": token}),
        "needs_location": bool(chk.max_distance() and activity.latitude is not None),
    }
    return no_store(render(request, "volunteers/activity_checkin.html", context))
