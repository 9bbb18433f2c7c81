"""Care URLs: visits, alerts (incl. the public report form)."""

urlpatterns: list = []
