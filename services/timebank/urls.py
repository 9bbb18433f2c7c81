"""Time-bank URLs, included into the "volunteers" namespace (volunteers/urls.py: `+ timebank_urls`)."""

from django.urls import path

from services.timebank import views

urlpatterns = [
    path("timebank/", views.timebank, name="timebank"),
    path("timebank/statement.pdf", views.timebank_statement, name="timebank-statement"),
    path("timebank/members/", views.MemberAccountListView.as_view(), name="timebank-members"),
    path("timebank/accounts/<int:pk>/", views.timebank_account, name="timebank-account"),
    path("timebank/transfer/", views.timebank_transfer, name="timebank-transfer"),
    path("timebank/requests/new/", views.timebank_request, name="timebank-request"),
    path("timebank/requests/<int:pk>/cancel/", views.timebank_request_cancel, name="timebank-request-cancel"),
    path("timebank/requests/<int:pk>/arrange/", views.timebank_request_arrange, name="timebank-request-arrange"),
]
