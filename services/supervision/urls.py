"""Supervision URLs (督促检查): the dashboard of an area and period, its xlsx export, the warning-sign ranking."""

from django.urls import path

from services.supervision import views

urlpatterns = [
    path("supervision/", views.supervision_dashboard, name="supervision"),
    path("supervision/export.xlsx", views.supervision_export, name="supervision-export"),
    path("supervision/ranking/", views.RankingView.as_view(), name="supervision-ranking"),
]
