from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    name = "services"
    verbose_name = _("Care services")

    def ready(self):
        from services import receivers  # noqa: F401 — connects the receivers of the signals of portal and volunteers
