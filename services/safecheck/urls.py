"""平安铃 URLs (daily safe check-in)."""

from django.urls import path

from services.safecheck import views

urlpatterns = [
    path("checkins/", views.CheckinListView.as_view(), name="checkin-list"),
    path("checkins/export/", views.CheckinExportView.as_view(), name="checkin-export"),
    path("checkins/enrol/<int:elder_pk>/", views.checkin_enrol, name="checkin-enrol"),
    path("checkins/<int:pk>/withdraw/", views.checkin_withdraw, name="checkin-withdraw"),
    path("checkins/callback/", views.checkin_callback, name="checkin-callback"),
]
