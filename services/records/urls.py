"""Service-hours URLs, included into the "volunteers" namespace (volunteers/urls.py: `+ hours_urls`)."""

from django.urls import path

from services.records import views

urlpatterns = [
    path("hours/", views.my_hours, name="my-hours"),
    path("records/", views.RecordListView.as_view(), name="record-list"),
    path("records/totals/", views.record_totals, name="record-totals"),
    path("records/new/", views.record_create, name="record-create"),
    path("records/new/group/", views.record_create_group, name="record-create-group"),
    path("records/confirm/", views.record_confirm_bulk, name="record-confirm-bulk"),
    path("records/<int:pk>/", views.record_detail, name="record-detail"),
    path("records/<int:pk>/edit/", views.record_edit, name="record-edit"),
    path("records/<int:pk>/confirm/", views.record_confirm, name="record-confirm"),
    path("records/<int:pk>/reject/", views.record_reject, name="record-reject"),
    path("records/<int:pk>/reverse/", views.record_reverse, name="record-reverse"),
    path("certificates/new/", views.certificate_issue, name="certificate-issue"),
    path("certificates/<int:pk>.pdf", views.certificate, name="certificate"),
    path("certificates/verify/<str:code>/", views.certificate_verify, name="certificate-verify"),
]
