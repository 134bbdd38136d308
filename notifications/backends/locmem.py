import secrets

from notifications.backends.base import PermanentSendError, SmsBackend, TransientSendError

# Tests read what was sent here; set `fail_next` to simulate provider errors.
outbox: list[dict] = []
fail_next: list[Exception] = []
next_sids: list[str] = []  # provider ids to hand out, to test early status callbacks


class LocmemSmsBackend(SmsBackend):
    def send(
        self, *, to: str, body: str, status_callback: str | None = None, sender: str | None = None
    ) -> str:
        message = {"to": to, "body": body, "status_callback": status_callback}
        if sender:  # an SMS records what it always did; a WhatsApp text, its sender too
            message["sender"] = sender
        return self._sent(**message)

    def send_template(self, *, to, content_sid, variables, sender, status_callback=None) -> str:
        """Recorded with "body" None: a template carries no text of ours."""
        return self._sent(
            to=to,
            body=None,
            status_callback=status_callback,
            sender=sender,
            content_sid=content_sid,
            variables=variables,
        )

    def _sent(self, **message) -> str:
        if fail_next:
            raise fail_next.pop(0)
        sid = next_sids.pop(0) if next_sids else "SMtest" + secrets.token_hex(14)
        outbox.append({**message, "sid": sid})
        return sid


__all__ = [
    "LocmemSmsBackend",
    "PermanentSendError",
    "TransientSendError",
    "outbox",
    "fail_next",
    "next_sids",
]
