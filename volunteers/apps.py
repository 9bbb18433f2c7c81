from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteersConfig(AppConfig):
    name = "volunteers"
    verbose_name = _("Givers of care")

    def ready(self):
        from volunteers import profiles  # noqa: F401 — connects its receiver of portal's account_closing
