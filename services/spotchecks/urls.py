"""Spot-check URLs (抽查回访)."""

from django.urls import path

from services.spotchecks import views

urlpatterns = [
    path("spotchecks/", views.SpotCheckListView.as_view(), name="spotcheck-list"),
    path("spotchecks/export/", views.SpotCheckExportView.as_view(), name="spotcheck-export"),
    path("spotchecks/draw/", views.spotcheck_draw, name="spotcheck-draw"),
    path("spotchecks/<int:pk>/", views.spotcheck_detail, name="spotcheck-detail"),
]
