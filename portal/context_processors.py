from django.conf import settings

from .scoping import can_write, is_staff_user

ELDER_MODE_COOKIE = "elder_mode"


def portal(request):
    """Site-wide template values: the large-font mode flag and the site name."""
    return {
        "elder_mode": request.COOKIES.get(ELDER_MODE_COOKIE) == "1",
        "site_name": settings.WAGTAIL_SITE_NAME,
        "is_staff_user": is_staff_user(getattr(request, "user", None)),
        # read-only roles (督导员) are not offered buttons that would only answer 403
        "staff_can_write": can_write(request.user) if getattr(request, "user", None) else False,
    }
