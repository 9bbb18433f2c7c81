from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal base")

    def ready(self):
        # Every process (web, publish_scheduled, shell) must end the public page cache's generation
        # when content changes, not only the ones that serve pages.
        from .cache import connect_invalidation
        from .choose import use_choose_label

        connect_invalidation()
        use_choose_label()
