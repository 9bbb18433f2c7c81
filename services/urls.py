"""URLs of the services app, one list per topic so topics can grow independently."""

from services.care.urls import urlpatterns as care_urls
from services.family.urls import urlpatterns as family_urls
from services.ledger.urls import urlpatterns as ledger_urls
from services.pairing.urls import urlpatterns as pairing_urls
from services.purchasing.urls import urlpatterns as purchasing_urls
from services.referrals.urls import urlpatterns as referral_urls
from services.safecheck.urls import urlpatterns as safecheck_urls
from services.spotchecks.urls import urlpatterns as spotcheck_urls
from services.supervision.urls import urlpatterns as supervision_urls

app_name = "services"

urlpatterns = (
    ledger_urls
    + care_urls
    + pairing_urls
    + supervision_urls
    + purchasing_urls
    + family_urls
    + spotcheck_urls
    + referral_urls
    + safecheck_urls
)
