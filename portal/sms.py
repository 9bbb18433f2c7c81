"""Sending SMS through a pluggable sender.

`settings.SMS_SENDER` names a class with `send(phone: str, message: str) -> None`. The default,
LogSender, writes the message to the log (the development and demo setting: the code appears in the
`make run` console). A real provider is a small class reading its credentials from the environment.
"""

import logging
from functools import lru_cache

from django.conf import settings
from django.utils.module_loading import import_string

from .phone import mask_phone

logger = logging.getLogger("portal.sms")


class LogSender:
    """Writes each message to the log instead of sending it."""

    def send(self, phone: str, message: str) -> None:
        logger.warning("SMS to %s: %s", mask_phone(phone), message)


class OutboxSender:
    """Keeps messages in memory (tests read `OutboxSender.outbox`)."""

    outbox: list[tuple[str, str]] = []

    def send(self, phone: str, message: str) -> None:
        OutboxSender.outbox.append((phone, message))


@lru_cache(maxsize=4)
def _sender(path: str):
    return import_string(path)()


def send_sms(phone: str, message: str) -> None:
    sign = getattr(settings, "SMS_SIGN_NAME", "")
    _sender(settings.SMS_SENDER).send(phone, f"【{sign}】{message}" if sign else message)
