"""Models of the services app, one module per topic; import them here so Django finds them."""

from .catalogue import DEFAULT_CATEGORIES, ServiceCategory, ServiceItem

__all__ = ["DEFAULT_CATEGORIES", "ServiceCategory", "ServiceItem"]
