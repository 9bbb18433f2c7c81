"""Supervision (督促检查): dashboards and the warning-sign ranking, read-only."""
