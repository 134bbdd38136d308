import secrets
import sys

from notifications.backends.base import SmsBackend


class ConsoleSmsBackend(SmsBackend):
    """Development: prints the text to stdout (as Django's console email backend)."""

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> str:
        sid = "SMdev" + secrets.token_hex(15)
        sys.stdout.write(f"--- SMS to {to} ({sid}) ---\n{body}\n---\n")
        sys.stdout.flush()
        return sid
