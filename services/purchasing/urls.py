"""Purchasing URLs (政府购买服务): contracts and their monthly settlements."""

from django.urls import path

from services.purchasing import views

urlpatterns = [
    path("purchasing/contracts/", views.ContractListView.as_view(), name="contract-list"),
    path("purchasing/contracts/export/", views.ContractExportView.as_view(), name="contract-export"),
    path("purchasing/contracts/new/", views.contract_create, name="contract-create"),
    path("purchasing/contracts/<int:pk>/", views.contract_detail, name="contract-detail"),
    path("purchasing/contracts/<int:pk>/edit/", views.contract_edit, name="contract-edit"),
    path("purchasing/contracts/<int:pk>/settle/", views.settlement_build, name="settlement-build"),
    path("purchasing/settlements/<int:pk>/", views.settlement_detail, name="settlement-detail"),
    path("purchasing/settlements/<int:pk>/rebuild/", views.settlement_rebuild, name="settlement-rebuild"),
    path("purchasing/settlements/<int:pk>/submit/", views.settlement_submit, name="settlement-submit"),
    path("purchasing/settlements/<int:pk>/approve/", views.settlement_approve, name="settlement-approve"),
    path("purchasing/settlements/<int:pk>/reject/", views.settlement_reject, name="settlement-reject"),
    path("purchasing/settlements/<int:pk>/paid/", views.settlement_paid, name="settlement-paid"),
    path("purchasing/settlements/<int:pk>/export.xlsx", views.settlement_export, name="settlement-export"),
    path("purchasing/settlements/<int:pk>/print/", views.settlement_print, name="settlement-print"),
]
