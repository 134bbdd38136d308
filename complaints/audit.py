"""The audit log: append-only and hash-chained.

Each row's hash covers its own fields and the previous row's hash, so a changed or
deleted row breaks the chain (`manage.py verify_audit`). The hash uses labels
(username, case reference) rather than foreign keys, which may be set to NULL later.

A chain cannot show that its newest rows were cut off: what is left is still a valid
chain. So the head (last id and hash) is anchored outside the table once a day and on
demand (`manage.py audit_anchor`): in a log line and in an append-only file
(AUDIT_ANCHOR_FILE) that the operator ships off the host. `verify_audit` then checks
that every anchored event is still there with its hash, and that the log reaches the
newest anchor.
"""

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from complaints.models import AuditEvent, Case

logger = logging.getLogger(__name__)

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


# --- Anchors: the head, recorded where deleting rows does not reach ----------------


@dataclass(frozen=True)
class AuditHead:
    id: int  # 0 while the log is empty
    hash: str


@dataclass
class AuditReport:
    count: int
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


_ANCHOR_LINE = re.compile(r"\bid=(\d+) hash=([0-9a-f]{64})\b")


def audit_head() -> AuditHead:
    row = AuditEvent.objects.order_by("-id").values_list("id", "hash").first()
    return AuditHead(*row) if row else AuditHead(0, GENESIS)


def audit_anchor(*, now=None) -> AuditHead:
    """Record the chain's head in the log and, when AUDIT_ANCHOR_FILE is set, append
    it to that file. Ids and hashes only: an anchor tells nothing about any case.
    Anchoring twice is harmless (the same head twice)."""
    head = audit_head()
    at = (now or timezone.now()).isoformat()
    logger.info("audit head id=%s hash=%s", head.id, head.hash)
    if settings.AUDIT_ANCHOR_FILE:
        _anchor_append(Path(settings.AUDIT_ANCHOR_FILE), f"{at} id={head.id} hash={head.hash}\n")
    return head


def _anchor_append(path: Path, line: str) -> None:
    # O_APPEND: every write lands at the end, even from several processes at once; a
    # line is one write(), far below the size the kernel could split. Created 0600.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def audit_anchors_read(path: Path) -> tuple[list[AuditHead], list[str]]:
    """The anchors in a file (this host's or a copy shipped back), and its unreadable
    lines as problems: a damaged anchor file is itself a finding."""
    anchors, problems = [], []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        match = _ANCHOR_LINE.search(line)
        if match is None:
            problems.append(f"anchor file line {number} is not an anchor")
        else:
            anchors.append(AuditHead(int(match[1]), match[2]))
    return anchors, problems


def audit_anchors_check(anchors: list[AuditHead]) -> list[str]:
    """Every anchored event must still be in the table with its anchored hash, and
    the log must reach the newest anchor."""
    problems = []
    last_id = audit_head().id
    anchored = [a for a in anchors if a.id > 0]  # id 0: anchored while empty
    beyond = [a.id for a in anchored if a.id > last_id]
    if beyond:
        problems.append(
            f"the audit log ends before anchored head id {max(beyond)} "
            f"(its last event is id {last_id}): newest events removed?"
        )
    within = [a for a in anchored if a.id <= last_id]
    stored = {}
    for start in range(0, len(within), 500):
        ids = [a.id for a in within[start : start + 500]]
        stored.update(AuditEvent.objects.filter(pk__in=ids).values_list("id", "hash"))
    for anchor in within:
        if anchor.id not in stored:
            problems.append(f"anchored event {anchor.id} is missing")
        elif stored[anchor.id] != anchor.hash:
            problems.append(f"anchored event {anchor.id} no longer has its anchored hash")
    return problems


def audit_check(*, anchor_file: str | Path | None) -> AuditReport:
    """The chain, then the anchors in `anchor_file` (default AUDIT_ANCHOR_FILE)."""
    count, problems = audit_verify()
    report = AuditReport(count=count, problems=problems)
    path = Path(anchor_file) if anchor_file else None
    if path is None or not path.exists():
        where = f"{path} does not exist" if path else "AUDIT_ANCHOR_FILE is not set"
        report.warnings.append(
            f"No audit anchors ({where}): removal of the newest events cannot be detected."
        )
        return report
    anchors, unreadable = audit_anchors_read(path)
    report.problems += unreadable + audit_anchors_check(anchors)
    if not anchors:
        report.warnings.append(
            f"No anchors in {path} yet: removal of the newest events cannot be detected."
        )
    return report
