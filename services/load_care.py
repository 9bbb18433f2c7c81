"""Visits and alerts for generated load (generate_load); filled in by the visits/alerts work."""


def generate(*, elder_ids: list[int], seed: int = 0) -> dict:
    """Create visits and alerts for the given elders; returns counts by kind."""
    return {}
