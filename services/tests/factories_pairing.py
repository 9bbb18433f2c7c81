"""Pairing set-ups shared by the tests: a proposal confirmed by the officer and accepted by the volunteer."""

from services.pairing import lifecycle, offers
from services.pairing.models import Pairing, PairingStatus


def accept_offers(pairings) -> None:
    """Each volunteer accepts the offers made to them (organisations' pairings are active already)."""
    for p in Pairing.objects.filter(pk__in=[p.pk for p in pairings], status=PairingStatus.OFFERED).select_related(
        "giver_user"
    ):
        offers.offer_accept(actor=p.giver_user, token=p.offer_token)
    for p in pairings:
        p.refresh_from_db()


def start_pairing(*, officer, pairing: Pairing) -> Pairing:
    """The officer confirms the proposal and the volunteer accepts the offer: the pairing is active."""
    lifecycle.pairing_accept(actor=officer, pairing=pairing)
    accept_offers([pairing])
    return pairing
