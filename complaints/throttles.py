"""Limits on attempts, counted in the database so that every web process shares them.

An attempt is counted *before* the expensive or dangerous check it guards (an Argon2
derivation, a password check), and the count and the claim are one atomic step: a
burst of simultaneous requests cannot all read "under the limit" before any of them
writes. The step is serialised per key: on PostgreSQL by a transaction-scoped advisory
lock per (scope, key); on SQLite by the database's single write lock, which every
transaction takes at BEGIN (`transaction_mode: IMMEDIATE` in config/settings.py).

A claimed attempt that turns out well (the right code) is released: only failures
stay counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from complaints.models import ThrottleEvent


@dataclass(frozen=True)
class Limit:
    """At most `maximum` counted attempts per (scope, key) within the window."""

    scope: str
    key: str
    maximum: int


@dataclass(frozen=True)
class Claim:
    """The outcome of counting one attempt. When refused, nothing was counted, and
    `retry_at` says when the first limit that refused it frees a place."""

    granted: bool
    event_ids: tuple[int, ...] = ()
    # Attempts now counted per scope, this one included (granted only).
    counts: dict[str, int] = field(default_factory=dict)
    refused_by: str = ""
    retry_at: datetime | None = None


def throttle_claim(*, limits: Sequence[Limit], window: timedelta) -> Claim:
    """Count one attempt against every limit, or refuse it without counting when any
    limit is already reached. Atomic per key: commit before doing the guarded work."""
    with transaction.atomic():
        _serialise(limits)
        now = timezone.now()
        since = now - window
        counts = {}
        for limit in limits:
            counted = _window(limit, since)
            used = counted.count()
            if used >= limit.maximum:
                return Claim(
                    granted=False,
                    refused_by=limit.scope,
                    retry_at=_place_frees_at(counted, used, limit, now) + window,
                )
            counts[limit.scope] = used + 1
        events = ThrottleEvent.objects.bulk_create(
            [ThrottleEvent(scope=limit.scope, key=limit.key, at=now) for limit in limits]
        )
    return Claim(granted=True, event_ids=tuple(event.pk for event in events), counts=counts)


def throttle_release(claim: Claim) -> None:
    """The attempt went well: it no longer counts against any limit."""
    if claim.event_ids:
        ThrottleEvent.objects.filter(pk__in=claim.event_ids).delete()


def throttle_count(*, scope: str, key: str) -> None:
    """Count an attempt that was not claimed beforehand (it was allowed anyway)."""
    ThrottleEvent.objects.create(scope=scope, key=key, at=timezone.now())


def throttle_prune(*, scopes: Sequence[str], window: timedelta) -> None:
    """Forget attempts that left the window (each scope family has its own window)."""
    ThrottleEvent.objects.filter(scope__in=scopes, at__lt=timezone.now() - window).delete()


def _window(limit: Limit, since: datetime):
    return ThrottleEvent.objects.filter(scope=limit.scope, key=limit.key, at__gte=since)


def _place_frees_at(counted, used: int, limit: Limit, now: datetime) -> datetime:
    """When enough of the oldest attempts have left the window for one more."""
    if used == 0:  # a limit of zero: nothing ever frees a place; say one window
        return now
    return counted.order_by("at").values_list("at", flat=True)[max(used - limit.maximum, 0)]


def _serialise(limits: Sequence[Limit]) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite: BEGIN IMMEDIATE already holds the one write lock
    with connection.cursor() as cursor:
        # Sorted, so two requests locking the same pair of keys cannot deadlock.
        for name in sorted(f"throttle:{limit.scope}:{limit.key}" for limit in limits):
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [name])
