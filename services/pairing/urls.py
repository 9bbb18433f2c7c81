"""Pairing URLs (结对帮扶): matching runs and proposals, pairings, needs, the giver's elders."""

from django.urls import path

from services.pairing import views

urlpatterns = [
    path("pairing/", views.PairingListView.as_view(), name="pairing-list"),
    path("pairing/export/", views.PairingExportView.as_view(), name="pairing-export"),
    path("pairing/match/", views.MatchRunView.as_view(), name="match-run"),
    path("pairing/match/<int:pk>/", views.MatchProposalsView.as_view(), name="match-proposals"),
    path("pairing/match/<int:pk>/status/", views.MatchRunStatusView.as_view(), name="match-status"),
    path("pairing/organisations/<int:pk>/", views.organisation_pairing, name="pairing-organisation"),
    path("pairing/mine/", views.my_elders, name="pairing-mine"),
    path("pairing/offers/<str:token>/", views.pairing_offer, name="pairing-offer"),
    path("pairing/<int:pk>/", views.PairingDetailView.as_view(), name="pairing-detail"),
    path("elders/<int:pk>/pair/", views.PairingCreateView.as_view(), name="pairing-create"),
    path("elders/<int:pk>/needs/new/", views.NeedCreateView.as_view(), name="need-create"),
    path("needs/<int:pk>/close/", views.NeedCloseView.as_view(), name="need-close"),
]
