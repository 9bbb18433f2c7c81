"""The root URLconf: it composes every app's URLs, so it alone in portal imports the apps above it."""

from allauth.account.decorators import secure_admin_login

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.contrib.sitemaps.views import sitemap
from wagtail.documents import urls as wagtaildocs_urls

from api import views as api_views
from api.api import api
from cms.feeds import robots_txt
from services.care.workbench import WorkbenchView

from . import accounts, export_jobs, password_reset, views, views_audit

# The Django admin's own login form would bypass allauth's rate limits and MFA.
admin.site.login = secure_admin_login(admin.site.login)

app_urls = [
    path("me/", views.me, name="me"),
    path("me/close/", accounts.close_account, name="account-close"),
    path("workbench/", WorkbenchView.as_view(), name="workbench"),
    path("sms/", views.SmsOutboxView.as_view(), name="sms-outbox"),
    path("exports/<int:pk>/", export_jobs.job_page, name="export-job"),
    path("exports/<int:pk>/download/", export_jobs.download, name="export-download"),
    path("regions/<str:code>/children/", views.region_children, name="region-children"),
    path("audit/exports/", views_audit.export_log, name="export-log"),
    path("audit/trail/", views_audit.trail_export, name="audit-trail"),
]

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("a11y/toggle/", views.toggle_elder_mode, name="toggle_elder_mode"),
    path("i18n/lang/<str:code>/", views.choose_language, name="choose_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    # Password reset by SMS replaces allauth's email flow (same URL name, so its links point here).
    path("accounts/password/reset/", password_reset.request_code, name="account_reset_password"),
    path("accounts/password/reset/code/", password_reset.confirm_code, name="account_reset_password_code"),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", api.urls),
    path("api/clients/<int:pk>/revoke/", api_views.client_revoke, name="api-client-revoke"),
    path("django-admin/", admin.site.urls),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("portal/", include((app_urls, "portal"))),
    path("services/", include("services.urls")),
    path("volunteers/", include("volunteers.urls")),
    path("sitemap.xml", sitemap, name="sitemap"),
    path("robots.txt", robots_txt, name="robots"),
    # browsers ask for /favicon.ico whatever the page says: send them to the site's icon
    path("favicon.ico", views.favicon, name="favicon"),
    path("", include("cms.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += [path("", include(wagtail_urls))]
