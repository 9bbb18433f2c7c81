"""Signals volunteers sends for the apps above it to act on (volunteers imports nothing from them)."""

from django.dispatch import Signal

# Sent inside the transaction that saved an activity's attendance, with `actor`, `activity` and `request`:
# services.records turns attendance into submitted service records. A receiver's error undoes the attendance.
attendance_marked = Signal()
