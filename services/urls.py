"""URLs of the services app, one list per topic so topics can grow independently."""

from .urls_care import urlpatterns as care_urls
from .urls_ledger import urlpatterns as ledger_urls
from .urls_pairing import urlpatterns as pairing_urls
from .urls_purchasing import urlpatterns as purchasing_urls
from .urls_supervision import urlpatterns as supervision_urls

app_name = "services"

urlpatterns = ledger_urls + care_urls + pairing_urls + supervision_urls + purchasing_urls
