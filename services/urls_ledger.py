"""Ledger URLs: elders, families, agreements, import/export."""

urlpatterns: list = []
