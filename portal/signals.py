"""Signals portal sends for the apps above it (portal imports nothing from them)."""

from django.dispatch import Signal

# Sent inside the transaction that closes an account, before the user's own details are erased, with `user` and
# `request`: volunteers erases the giver profile and ends memberships, services ends the giver's pairings.
account_closing = Signal()

# Sent when someone asks for a sign-in code for a number no account has, with `phone` (11 digits). A receiver
# may return a new, active user for that number (services: a family member named on an elder's contacts); every
# other number gets the same answer and page, and no message.
login_code_unknown_phone = Signal()

# Sent to choose where a user lands after signing in (no `next` given), with `request` and `user`. A receiver
# returns a URL or None; the first URL wins, else LOGIN_REDIRECT_URL.
login_destination = Signal()
