"""Send nothing, and append one line per send to DELIVERY_LEDGER_FILE: the time, the
sending process's group (one per worker started in its own session: which worker
sent it), the channel and the row being delivered ("sms
notifications.outboundsms:<uuid>"), never the address nor the text. Every process
appends to the same file, so a run with several workers (`make soak NODES=2`) can
count, at the network edge, how often each row went out and who sent it.

One short write to a file opened with O_APPEND is one line, whole, whichever process
writes it: lines from two workers never interleave."""

from __future__ import annotations

import os
import secrets
import time

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.base import BaseEmailBackend

from notifications.backends.base import SmsBackend
from notifications.delivery import current_delivery


def ledger_append(channel: str) -> None:
    path = settings.DELIVERY_LEDGER_FILE
    if not path:
        raise ImproperlyConfigured("The ledger backends need DELIVERY_LEDGER_FILE.")
    # A provider's round trip: a worker killed at a random moment is then often
    # caught holding a claimed row, as it would be in production.
    time.sleep(settings.DELIVERY_LEDGER_SEND_MS / 1000)
    # A send outside delivery_attempt (none today) is recorded as "-": still counted.
    delivery = current_delivery.get() or "-"
    line = f"{time.time():.3f} {os.getpgrp()} {channel} {delivery}\n".encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


class LedgerSmsBackend(SmsBackend):
    def send(
        self, *, to: str, body: str, status_callback: str | None = None, sender: str | None = None
    ) -> str:
        ledger_append("sms")
        return "SMledger" + secrets.token_hex(13)

    def send_template(self, *, to, content_sid, variables, sender, status_callback=None) -> str:
        ledger_append("whatsapp-template")
        return "SMledger" + secrets.token_hex(13)


class LedgerEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        for _message in email_messages:
            ledger_append("email")
        return len(email_messages)
