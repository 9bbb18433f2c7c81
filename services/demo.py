"""Demo data for the care-service list."""

from .catalogue import categories_ensure


def seed() -> None:
    categories_ensure()
