"""Volunteer-record URLs, included into the "volunteers" namespace (volunteers/urls.py: `+ dossier_urls`)."""

from django.urls import path

from services.records import dossier_views as views

urlpatterns = [
    path("record/", views.my_dossier, name="dossier"),
    path("organisations/<int:pk>/records/", views.MemberRecordListView.as_view(), name="dossier-members"),
    path("organisations/<int:pk>/records/<int:user_pk>/", views.member_dossier, name="dossier-member"),
    path(
        "organisations/<int:pk>/records/<int:user_pk>/<str:kind>/new/",
        views.entry_create,
        name="dossier-entry-create",
    ),
    path("corrections/", views.CorrectionListView.as_view(), name="correction-list"),
    path("corrections/new/", views.correction_create, name="correction-create"),
    path("corrections/<int:pk>/", views.correction_decide, name="correction-decide"),
    path("records/<int:pk>/photo/", views.record_photo, name="record-photo"),
    path("records/<int:pk>/family-code/", views.family_send, name="record-family-send"),
    path("confirm/", views.family_confirm_page, name="family-confirm"),
]
