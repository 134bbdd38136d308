import secrets
import sys

from notifications.backends.base import SmsBackend


class ConsoleSmsBackend(SmsBackend):
    """Development: prints the text to stdout (as Django's console email backend)."""

    def send(
        self, *, to: str, body: str, status_callback: str | None = None, sender: str | None = None
    ) -> str:
        sid = "SMdev" + secrets.token_hex(15)
        sys.stdout.write(
            f"--- SMS to {to} from {sender or 'the SMS sender'} ({sid}) ---\n{body}\n---\n"
        )
        sys.stdout.flush()
        return sid

    def send_template(self, *, to, content_sid, variables, sender, status_callback=None) -> str:
        sid = "SMdev" + secrets.token_hex(15)
        sys.stdout.write(
            f"--- WhatsApp template {content_sid} to {to} from {sender} ({sid}) ---\n"
            f"{variables}\n---\n"
        )
        sys.stdout.flush()
        return sid
