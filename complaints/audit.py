"""The audit log: append-only and hash-chained.

Each row's hash covers its own fields and the previous row's hash, so a changed or
deleted row breaks the chain (`manage.py verify_audit`). The hash uses labels
(username, case reference) rather than foreign keys, which may be set to NULL later.
"""

import hashlib
import json

from django.db import connection, transaction

from complaints.models import AuditEvent, Case

GENESIS = "0" * 64
# Any constant: serialises chain appends across processes on PostgreSQL.
_PG_AUDIT_LOCK = 0x52454353


def _event_hash(event: AuditEvent) -> str:
    payload = json.dumps(
        {
            "at": event.at.isoformat(),
            "actor": event.actor_label,
            "action": event.action,
            "case": event.case_reference,
            "data": event.data,
            "prev": event.prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


@transaction.atomic
def audit_record(*, action: str, actor=None, case: Case | None = None, data=None) -> AuditEvent:
    """Append an event. `action` is dotted (complaints.case.decrypted); `data` must
    hold ids and codes only."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_AUDIT_LOCK])
    last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    event = AuditEvent(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=actor.get_username() if actor is not None and actor.is_authenticated else "",
        action=action,
        case=case,
        case_reference=case.reference if case else "",
        data=data or {},
        prev_hash=last or GENESIS,
    )
    event.hash = _event_hash(event)
    event.save()
    return event


def audit_verify() -> tuple[int, list[str]]:
    """Walk the chain. Returns (events checked, problems found)."""
    problems = []
    prev = GENESIS
    count = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        count += 1
        if event.prev_hash != prev:
            problems.append(f"event {event.pk}: previous hash does not match (row removed?)")
        if _event_hash(event) != event.hash:
            problems.append(f"event {event.pk}: contents changed since it was written")
        prev = event.hash
    return count, problems
