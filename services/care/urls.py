"""Care URLs: visits, alerts (incl. the public report form)."""

from django.urls import path

from services.care import views

urlpatterns: list = [
    path("visits/due/", views.VisitsDueView.as_view(), name="visits-due"),
    path("elders/<int:pk>/visit/", views.visit_create, name="visit-create"),
    path("visits/<int:pk>/", views.visit_detail, name="visit-detail"),
    path("follow-ups/<int:pk>/done/", views.followup_done, name="followup-done"),
    path("alerts/", views.AlertListView.as_view(), name="alert-list"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert-detail"),
    path("alerts/<int:pk>/step/", views.alert_step, name="alert-step"),
    path("elders/<int:pk>/alert/", views.alert_raise, name="alert-raise"),
    path("report/", views.alert_report, name="alert-report"),
    path("report/thanks/", views.alert_report_thanks, name="alert-report-thanks"),
    path("report/status/", views.alert_report_status, name="alert-report-status"),
]
