from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from wagtail.users.apps import WagtailUsersAppConfig


class PortalConfig(AppConfig):
    default = True  # apps.py holds a second config (PortalUsersAppConfig)
    name = "portal"
    verbose_name = _("Portal base")

    def ready(self):
        # Every process (web, publish_scheduled, shell) must end the public page cache's generation
        # when content changes, not only the ones that serve pages.
        from .cache import connect_invalidation
        from .choose import use_choose_label

        connect_invalidation()
        use_choose_label()

        # Every django-tables2 export (ledger, visits, alerts, pairings, records, volunteers, contracts…)
        # goes through one exporter that writes formula-looking text as text (portal.exports).
        from django_tables2.export import ExportMixin

        from .exports import SafeTableExport

        ExportMixin.export_class = SafeTableExport


class PortalUsersAppConfig(WagtailUsersAppConfig):
    """wagtail.users with its user views scoped to the administrator's region (portal.wagtail_users)."""

    user_viewset = "portal.wagtail_users.ScopedUserViewSet"
