"""The API's own tables: SMS sign-in codes and client sessions (access + refresh tokens).

Nothing secret is stored in clear: codes and tokens are kept as keyed digests, so a copy of the
database lets nobody sign in.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SignInCode(models.Model):
    """A 6-digit code sent by SMS to sign a client in: hashed, expiring, a few tries, spent on use."""

    phone = models.CharField(_("mobile number"), max_length=11, db_index=True)
    digest = models.CharField(max_length=64)
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("API sign-in code")
        verbose_name_plural = _("API sign-in codes")
        indexes = [models.Index(fields=["phone", "-created_at"], name="api_code_phone_recent")]

    def __str__(self):
        return f"{self.phone[:3]}****{self.phone[-4:]} · {self.created_at:%Y-%m-%d %H:%M}"


class ClientSession(models.Model):
    """One signed-in client (a phone app, a mini-program): a short-lived access token and a refresh
    token, both stored as digests. Refreshing replaces both; revoking ends the session at once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_sessions", verbose_name=_("user")
    )
    client_name = models.CharField(_("client"), max_length=60, blank=True)
    access_digest = models.CharField(max_length=64, unique=True)
    access_expires_at = models.DateTimeField(_("access token expires at"))
    refresh_digest = models.CharField(max_length=64, unique=True)
    refresh_expires_at = models.DateTimeField(_("refresh token expires at"))
    created_at = models.DateTimeField(_("signed in at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API client session")
        verbose_name_plural = _("API client sessions")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.client_name or '—'} · {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def active(self) -> bool:
        return self.revoked_at is None and self.refresh_expires_at > timezone.now()
