"""Drills only (deploy/backup_drill.py): nothing leaves the host, and each send is one
line in DRILL_OUTBOX_FILE, so a restored copy of the service can send what was pending
in the backup while the drill counts every send. A line holds the kind and, for a text,
the provider id made up here: never the number, the address, the subject or the text.

Both backends append one line per send with a single write to a file opened in append
mode, so the web processes and the worker's processes can share the file."""

import json
import os
import secrets

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.base import BaseEmailBackend

from notifications.backends.base import SmsBackend


def outbox_record(line: dict) -> None:
    path = settings.DRILL_OUTBOX_FILE
    if not path:
        raise ImproperlyConfigured("The file backends record to DRILL_OUTBOX_FILE: set it.")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (json.dumps(line) + "\n").encode())
    finally:
        os.close(fd)


def outbox_read(path: str) -> list[dict]:
    """Every send recorded in the file (none if there is no file yet)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
    except FileNotFoundError:
        return []


class FileSmsBackend(SmsBackend):
    def send(self, *, to: str, body: str, status_callback: str | None = None) -> str:
        sid = "SMdrill" + secrets.token_hex(13)
        outbox_record({"kind": "sms", "sid": sid})
        return sid


class FileEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        for _message in email_messages:
            outbox_record({"kind": "email"})
        return len(email_messages)
