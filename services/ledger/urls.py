"""Ledger URLs: elders, families, agreements, family duty, import/export."""

from django.urls import path

from services.ledger import views

urlpatterns = [
    path("elders/", views.ElderListView.as_view(), name="elder-list"),
    path("elders/export/", views.ElderExportView.as_view(), name="elder-export"),
    path("elders/new/", views.ElderCreateView.as_view(), name="elder-create"),
    path("elders/import/", views.ElderImportView.as_view(), name="elder-import"),
    path("elders/import/template/", views.ImportTemplateView.as_view(), name="elder-import-template"),
    path("elders/review/", views.EligibilityReviewView.as_view(), name="eligibility-review"),
    path("elders/<int:pk>/reviewed/", views.EligibilityReviewedView.as_view(), name="eligibility-reviewed"),
    path("elders/import/<int:pk>/", views.ImportJobView.as_view(), name="elder-import-job"),
    path("elders/import/<int:pk>/confirm/", views.ImportConfirmView.as_view(), name="elder-import-confirm"),
    path("elders/family-duty/", views.DutyRepeatListView.as_view(), name="duty-repeat-list"),
    path("elders/retention/", views.RetentionPreviewView.as_view(), name="retention-preview"),
    path("elders/<int:pk>/", views.ElderDetailView.as_view(), name="elder-detail"),
    path("elders/<int:pk>/edit/", views.ElderEditView.as_view(), name="elder-edit"),
    path("elders/<int:pk>/status/", views.ElderStatusView.as_view(), name="elder-status"),
    path("elders/<int:pk>/contacts/new/", views.ContactFormView.as_view(), name="contact-create"),
    path("elders/<int:pk>/contacts/<int:contact_pk>/", views.ContactFormView.as_view(), name="contact-edit"),
    path("elders/<int:pk>/contacts/<int:contact_pk>/delete/", views.ContactDeleteView.as_view(), name="contact-delete"),
    path("elders/<int:pk>/agreements/new/", views.AgreementFormView.as_view(), name="agreement-create"),
    path(
        "elders/<int:pk>/agreements/<int:agreement_pk>/scan/",
        views.AgreementScanView.as_view(),
        name="agreement-scan",
    ),
    path("elders/<int:pk>/reminders/new/", views.ReminderFormView.as_view(), name="reminder-create"),
]
