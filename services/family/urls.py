"""The family portal (家庭尽责) and the liaison's queue of the changes families propose."""

from django.urls import path

from services.family import views

urlpatterns = [
    path("family/", views.home, name="family-home"),
    path("family/elders/<int:pk>/", views.elder_detail, name="family-elder"),
    path("family/elders/<int:pk>/contact/", views.contact_report, name="family-contact-report"),
    path("family/elders/<int:pk>/whereabouts/", views.whereabouts, name="family-whereabouts"),
    path("family/elders/<int:pk>/agreement/", views.agreement, name="family-agreement"),
    path("family/agreements/<int:pk>/pdf/", views.agreement_pdf, name="family-agreement-pdf"),
    path("family/agreement/accept/", views.agreement_accept, name="family-agreement-accept"),
    path("family/changes/", views.changes, name="family-changes"),
    path("family/changes/agreements/<int:pk>/consent/", views.agreement_consent, name="family-agreement-consent"),
    path("family/changes/<int:pk>/decide/", views.change_decide, name="family-change-decide"),
]
