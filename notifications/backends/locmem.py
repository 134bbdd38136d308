import secrets

from notifications.backends.base import PermanentSendError, SmsBackend, TransientSendError

# Tests read what was sent here; set `fail_next` to simulate provider errors.
outbox: list[dict] = []
fail_next: list[Exception] = []
next_sids: list[str] = []  # provider ids to hand out, to test early status callbacks


class LocmemSmsBackend(SmsBackend):
    def send(self, *, to: str, body: str, status_callback: str | None = None) -> str:
        if fail_next:
            raise fail_next.pop(0)
        sid = next_sids.pop(0) if next_sids else "SMtest" + secrets.token_hex(14)
        outbox.append({"to": to, "body": body, "sid": sid, "status_callback": status_callback})
        return sid


__all__ = [
    "LocmemSmsBackend",
    "PermanentSendError",
    "TransientSendError",
    "outbox",
    "fail_next",
    "next_sids",
]
