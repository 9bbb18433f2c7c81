"""Signals portal sends for the apps above it (portal imports nothing from them)."""

from django.dispatch import Signal

# Sent inside the transaction that closes an account, before the user's own details are erased, with `user` and
# `request`: volunteers erases the giver profile and ends memberships, services ends the giver's pairings.
account_closing = Signal()
