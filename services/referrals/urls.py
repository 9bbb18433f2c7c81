"""Referral URLs (转介)."""

from django.urls import path

from services.referrals import views

urlpatterns = [
    path("referrals/", views.ReferralListView.as_view(), name="referral-list"),
    path("referrals/export/", views.ReferralExportView.as_view(), name="referral-export"),
    path("referrals/new/", views.referral_create, name="referral-create"),
    path("referrals/<int:pk>/", views.referral_detail, name="referral-detail"),
    path("referrals/<int:pk>/acknowledge/", views.referral_acknowledge, name="referral-acknowledge"),
    path("referrals/<int:pk>/outcome/", views.referral_outcome, name="referral-outcome"),
]
