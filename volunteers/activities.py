"""Mutual-aid activities (互助活动): reads and state changes. The givers issue fills this module."""


def activities_upcoming(*, limit: int = 5, region=None):
    """Upcoming published activities, soonest first (empty until activities exist)."""
    return []
