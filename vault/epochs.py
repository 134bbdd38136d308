"""Epoch keys: expiry that reaches backups.

Deleting a case's key copies does not reach old database backups, where the copies stay
openable with a staff password. So every copy is also sealed under an epoch key, kept
in the key ring file and never in the database (vault/crypto.py, "Epoch layer"):

- While a case is open its copies are under the epoch of the month it was filed
  (`open-2026-12`); once it is closed, the epoch sweep moves them under the epoch of the
  month it closed (`closed-2027-02`), so a closed epoch holds cases that expire together.
- CaseEpoch records every epoch a case was ever under. The retention purge deletes those
  rows with the case's keys; an epoch with no row left, whose month is over, is
  destroyable: `manage.py epoch_keys_destroy` removes it from the key ring file, and
  from then on no backup, old or new, opens the copies sealed under it, whoever holds a
  password. Key ring backups are kept for a bounded time (README, "Key ring").
- The key ring holds epoch keys ahead of time (`manage.py epoch_keys_add`), because the
  running service never writes the key ring. If this month's key is missing, the
  newest of the family is used (logged); with no epoch key at all, copies are made
  without the layer and the sweep adds it once keys are there: a complaint is never
  refused for want of an epoch key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from complaints.audit import audit_record
from complaints.models import Case
from vault import crypto
from vault.epoch_calendar import CLOSED, OPEN, epoch_id, epoch_ids_for_months, epoch_month_end
from vault.models import CaseEpoch, CaseKey, holder_name

logger = logging.getLogger(__name__)

# An epoch is destroyable only this long after its month ended: a case closed in the
# last minute of the month is moved under it by the next sweep, not before.
DESTROY_GRACE = timedelta(days=7)


def epoch_choose(family: str, moment: datetime) -> str | None:
    """The epoch for copies made now in `family`: the month's own key, else the newest
    key of the family (the ring ran out: logged, nothing refused), else None."""
    ring_epochs = crypto.get_keyring().epochs
    wanted = epoch_id(family, moment.astimezone(UTC))
    if wanted in ring_epochs:
        return wanted
    family_ids = sorted(e for e in ring_epochs if e.startswith(f"{family}-"))
    chosen = family_ids[-1] if family_ids else None
    if (wanted, chosen) not in _MISSING_LOGGED:  # once per process, not per copy
        _MISSING_LOGGED.add((wanted, chosen))
        logger.error(
            "The key ring has no epoch key %s: run manage.py epoch_keys_add (using %s)",
            wanted,
            chosen or "no epoch layer",
        )
    return chosen


_MISSING_LOGGED: set[tuple[str, str | None]] = set()


def keyring_ready() -> bool:
    """The key ring loads and holds this month's epoch keys (for /healthz)."""
    try:
        epochs = crypto.get_keyring().epochs
    except crypto.KeyRingError:
        return False
    return set(epoch_ids_for_months(timezone.now().astimezone(UTC).date(), 1)) <= set(epochs)


def case_epoch_start(case: Case) -> str | None:
    """A new case's epoch, recorded: its copies are sealed under it."""
    epoch = epoch_choose(OPEN, timezone.now())
    if epoch is not None:
        CaseEpoch.objects.create(case=case, epoch=epoch, current=True)
    return epoch


def case_epochs_current(case_ids: list[UUID]) -> dict[UUID, str]:
    """The epoch each case's copies are sealed under now (absent: none yet)."""
    return dict(
        CaseEpoch.objects.filter(case_id__in=case_ids, current=True).values_list("case_id", "epoch")
    )


def case_epoch_current(case_id: UUID) -> str | None:
    return case_epochs_current([case_id]).get(case_id)


# --- The sweep ---------------------------------------------------------------------------


@dataclass
class EpochSweep:
    moved_to_closed: int = 0
    started: int = 0
    resealed: int = 0


def _epoch_switch(case_id: UUID, epoch: str) -> bool:
    """Make `epoch` the case's current one. False when another worker did it first."""
    try:
        with transaction.atomic():
            CaseEpoch.objects.filter(case_id=case_id, current=True).exclude(epoch=epoch).update(
                current=False
            )
            CaseEpoch.objects.update_or_create(
                case_id=case_id, epoch=epoch, defaults={"current": True}
            )
    except IntegrityError:
        return False
    return True


def _cases_to_move(
    limit: int,
) -> tuple[list[tuple[UUID, datetime | None]], list[tuple[UUID, datetime | None]]]:
    """Closed cases whose copies are still under an open epoch, and cases with copies
    made without an epoch (before epochs, or while the ring had none) and no epoch yet.
    Each query starts from the few rows concerned, not from every case."""
    closing = CaseEpoch.objects.filter(
        current=True, epoch__startswith=f"{OPEN}-", case__closed_at__isnull=False
    ).values_list("case_id", "case__closed_at")[:limit]
    current = CaseEpoch.objects.filter(case=OuterRef("case_id"), current=True)
    without = (
        CaseKey.objects.filter(epoch="")
        .exclude(Exists(current))
        .values_list("case_id", "case__closed_at")
        .distinct()[:limit]
    )
    return list(closing), list(without)


def epochs_sweep(*, limit: int = 500) -> EpochSweep:
    """Bring cases' copies under the epoch they belong to: closed cases under the epoch
    of their closing month, cases without one under this month's, each of their copies
    re-sealed. Safe to run twice or in two workers at once (conditional updates).

    A copy written from a read made just before its case changed epoch (a grant at that
    moment) stays under the older epoch. That is safe: the older epoch is on the case's
    record (CaseEpoch), so it is not destroyed while the case is kept."""
    result = EpochSweep()
    closing, without = _cases_to_move(limit)
    switched = []
    for case_id, closed_at in closing:
        epoch = epoch_choose(CLOSED, closed_at or timezone.now())
        if epoch is not None and _epoch_switch(case_id, epoch):
            result.moved_to_closed += 1
            switched.append(case_id)
    for case_id, closed_at in without:
        family, moment = (CLOSED, closed_at) if closed_at else (OPEN, timezone.now())
        epoch = epoch_choose(family, moment)
        if epoch is not None and _epoch_switch(case_id, epoch):
            result.started += 1
            switched.append(case_id)
    result.resealed = copies_reseal(switched)
    return result


def copies_reseal(case_ids: list[UUID]) -> int:
    """Re-seal, without opening, the copies of these cases that are not under their
    case's current epoch."""
    targets = case_epochs_current(case_ids)
    copies = CaseKey.objects.filter(case_id__in=list(targets)).values_list(
        "pk", "case_id", "holder_kind", "holder_id", "wrapped_key", "epoch"
    )
    resealed = 0
    for pk, case_id, holder_kind, holder_id, wrapped_key, epoch in copies:
        target = targets[case_id]
        if epoch == target:
            continue
        wrapped = crypto.epoch_reseal(
            wrapped_key, target, case_id=case_id, holder=holder_name(holder_kind, holder_id)
        )
        # Only if nobody replaced the copy meanwhile (a grant writes a new one).
        resealed += CaseKey.objects.filter(pk=pk, epoch=epoch).update(
            wrapped_key=wrapped, epoch=target, updated_at=timezone.now()
        )
    return resealed


# --- Destroying ----------------------------------------------------------------------------


def epochs_destroyable(epoch_ids: list[str], *, today: date) -> list[str]:
    """Of the key ring's epochs, those no case was ever sealed under that is still kept
    (every such case purged), whose month ended more than DESTROY_GRACE ago, and which
    are not the newest of their family (the fallback for new copies)."""
    newest = {
        family: max((e for e in epoch_ids if e.startswith(f"{family}-")), default=None)
        for family in (OPEN, CLOSED)
    }
    candidates = [
        e
        for e in epoch_ids
        if e not in newest.values()
        and (end := epoch_month_end(e)) is not None
        and end + DESTROY_GRACE <= today
    ]
    in_use = set(
        CaseEpoch.objects.filter(epoch__in=candidates).values_list("epoch", flat=True).distinct()
    ) | set(CaseKey.objects.filter(epoch__in=candidates).values_list("epoch", flat=True).distinct())
    return sorted(e for e in candidates if e not in in_use)


def epochs_destroyable_now() -> list[str]:
    """Of the running key ring's epochs, those epoch_keys_destroy would destroy today."""
    return epochs_destroyable(sorted(crypto.get_keyring().epochs), today=date.today())


def epochs_destroyed_record(epoch_ids: list[str]) -> None:
    if epoch_ids:
        audit_record(action="vault.epochs.destroyed", data={"epochs": epoch_ids})


def case_epochs_forget(case_ids: list[UUID]) -> None:
    """For the purge: these cases no longer hold any epoch back."""
    CaseEpoch.objects.filter(case_id__in=case_ids).delete()


def epochs_in_use_count() -> dict[str, int]:
    """Cases per epoch still kept, for the operator (counts only)."""
    rows = CaseEpoch.objects.values("epoch").annotate(cases=Count("id")).order_by("epoch")
    return {row["epoch"]: row["cases"] for row in rows}


# --- Checking a key ring against a database (the restore drill) ---------------------------


def epochs_unopenable() -> list[str]:
    """The epochs kept cases' copies are sealed under that the running key ring cannot
    open: missing from it, or holding a key that does not open a copy sealed under it (a
    ring of another deployment). One copy per epoch is tried, its epoch layer only
    (re-sealed in memory, never written): beneath it the copy is still wrapped to its
    holder, so nothing is read. For deploy/backup_drill.py."""
    unopenable = []
    for epoch in CaseKey.objects.exclude(epoch="").values_list("epoch", flat=True).distinct():
        copy = CaseKey.objects.filter(epoch=epoch).order_by("pk").first()
        if copy is None:
            continue  # purged meanwhile
        try:
            crypto.epoch_reseal(
                copy.wrapped_key,
                epoch,
                case_id=copy.case_id,
                holder=holder_name(copy.holder_kind, copy.holder_id),
            )
        except crypto.CryptoError:
            unopenable.append(epoch)
    return sorted(unopenable)
