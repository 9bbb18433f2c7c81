"""The givers' URLs ("volunteers" namespace). The only module of volunteers that imports services: the pages of
a giver that also show their service records, hours and pairings live in services (records, givers) and keep
their names here."""

from django.urls import path

from services.givers import views as giver_views
from services.records.dossier_urls import urlpatterns as dossier_urls
from services.records.urls import urlpatterns as record_urls
from services.timebank.urls import urlpatterns as timebank_urls
from volunteers import checkin_views, views

app_name = "volunteers"

urlpatterns = (
    [
        path("signup/", views.signup, name="signup"),
        path("me/", giver_views.me, name="me"),
        path("profile/", views.profile, name="profile"),
        path("profile/identity/", views.profile_identity, name="profile-identity"),
        path("profile/professional/", views.profile_professional, name="profile-professional"),
        path("staff/volunteers/", giver_views.VolunteerStaffListView.as_view(), name="volunteer-list"),
        path("staff/volunteers/<int:pk>/", giver_views.volunteer_detail, name="volunteer-detail"),
        path("organisations/", views.OrganisationListView.as_view(), name="organisation-list"),
        path("organisations/new/", views.organisation_create, name="organisation-create"),
        path("organisations/review/", views.OrganisationReviewView.as_view(), name="organisation-review"),
        path("organisations/<int:pk>/", views.organisation_detail, name="organisation-detail"),
        path("organisations/<int:pk>/join/", views.organisation_join, name="organisation-join"),
        path("organisations/<int:pk>/decide/", views.organisation_decide, name="organisation-decide"),
        path("organisations/<int:pk>/members/", views.MemberListView.as_view(), name="organisation-members"),
        path(
            "organisations/<int:pk>/members/<int:membership_pk>/",
            views.membership_action,
            name="membership-action",
        ),
        path("organisations/<int:pk>/activities/new/", views.activity_create, name="activity-create"),
        path("activities/", views.ActivityListView.as_view(), name="activity-list"),
        path("activities.ics", views.activity_ics, name="activity-ics"),
        path("activities/<int:pk>/", views.activity_detail, name="activity-detail"),
        path("activities/<int:pk>/signup/", views.activity_signup, name="activity-signup"),
        path("activities/<int:pk>/withdraw/", views.activity_withdraw, name="activity-withdraw"),
        path("activities/<int:pk>/edit/", views.activity_edit, name="activity-edit"),
        path("activities/<int:pk>/status/", views.activity_status, name="activity-status"),
        path("activities/<int:pk>/attendance/", views.activity_attendance, name="activity-attendance"),
        path("activities/<int:pk>/kiosk/", checkin_views.activity_kiosk, name="activity-kiosk"),
        path("activities/<int:pk>/checkin/", checkin_views.activity_checkin, name="activity-checkin"),
    ]
    + record_urls
    + dossier_urls
    + timebank_urls
)
