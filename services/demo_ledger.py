"""Demo data for this topic, created by seed_demo; filled in by the issue that builds the topic."""


def seed() -> None:
    """Nothing yet."""
