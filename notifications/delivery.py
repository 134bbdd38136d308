"""One way to deliver a row of outbound work (a staff notice by email, a staff SMS
alert, a text to a child): claim it, attempt it, record the outcome.

The row, not the queue, holds the state (status, attempts, next_attempt_at,
claimed_at: notifications.models.Delivery), so a task run twice sends once, a task
lost is found again by the minute sweep, and a failure waits out its backoff instead
of being retried every minute until its attempts run out.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.mail import send_mail
from django.db.models import QuerySet
from django.utils import timezone

from notifications.backends.base import PermanentSendError, TransientSendError
from notifications.models import FAILED, PENDING, SENT

logger = logging.getLogger(__name__)

# The row being sent ("notifications.notification:42"), for a backend that records
# sends by id (notifications/backends/ledger.py): backends are given an address and a
# text, never the row.
current_delivery: ContextVar[str] = ContextVar("current_delivery", default="")


@dataclass(frozen=True)
class RetryPolicy:
    """How often a transient failure is tried again: 30 s, then doubling up to
    `max_delay`, at most `max_attempts` attempts in all."""

    max_attempts: int
    max_delay: timedelta = timedelta(hours=1)

    def delay(self, attempts: int) -> timedelta:
        return min(timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), self.max_delay)


@dataclass(frozen=True)
class Done:
    """What a send function returns: the final status (SENT, or e.g. skipped) and any
    fields to record with it. `attempted` is False when nothing was sent at all."""

    status: str = SENT
    fields: dict = field(default_factory=dict)
    attempted: bool = True


def delivery_attempt(
    *,
    rows: QuerySet,
    pk,
    send: Callable[[object], Done],
    retry: Callable[[object], RetryPolicy],
    final_fields: dict | None = None,
    now=None,
) -> str:
    """Claim row `pk` (a Delivery: DeliveryQuerySet.claim) and, only if this run won
    it, call `send(row)`. Returns "not-claimed", "sent" (or the status `send` chose),
    "retry" or "failed".

    `send` raises PermanentSendError (retrying cannot help), TransientSendError, or
    anything else (counted as transient: a bug or an outage must not lose the row, and
    the next attempt comes after the backoff). `final_fields` are set whenever the row
    stops being pending (an outbound text drops its sealed body)."""
    now = now or timezone.now()
    model = rows.model
    if not model.objects.claim(pk, now=now):
        return "not-claimed"
    row = rows.get(pk=pk)
    attempts = row.attempts + 1
    final_fields = final_fields or {}
    token = current_delivery.set(f"{model._meta.label_lower}:{pk}")
    try:
        done = send(row)
    except PermanentSendError as exc:
        _record(model, pk, status=FAILED, attempts=attempts, error=exc.code, **final_fields)
        logger.warning("%s %s failed permanently (error %s)", model._meta.label, pk, exc.code)
        return FAILED
    except Exception as exc:  # noqa: BLE001 - transient by default; see the docstring
        code = exc.code if isinstance(exc, TransientSendError) else type(exc).__name__
        policy = retry(row)
        if attempts >= policy.max_attempts:
            _record(model, pk, status=FAILED, attempts=attempts, error=code, **final_fields)
            logger.warning(
                "%s %s failed after %s attempts (error %s)", model._meta.label, pk, attempts, code
            )
            return FAILED
        _record(
            model,
            pk,
            status=PENDING,
            attempts=attempts,
            error=code,
            next_attempt_at=now + policy.delay(attempts),
        )
        logger.warning("%s %s attempt %s failed (error %s)", model._meta.label, pk, attempts, code)
        return "retry"
    finally:
        current_delivery.reset(token)
    _record(
        model,
        pk,
        status=done.status,
        attempts=attempts if done.attempted else row.attempts,
        error="",
        sent_at=timezone.now() if done.status == SENT else None,
        **{**final_fields, **done.fields},
    )
    return done.status


def _record(model, pk, *, status, attempts, error, sent_at=None, **fields) -> None:
    """Release the claim with the outcome. The error is a provider code or an
    exception's type name, never a message (which may hold an address or a text)."""
    if sent_at is not None:
        fields["sent_at"] = sent_at
    max_length = model._meta.get_field("error_code").max_length
    model.objects.filter(pk=pk).update(
        status=status,
        attempts=attempts,
        claimed_at=None,
        error_code=(error or "")[:max_length],
        **fields,
    )


def email_send(subject: str, body: str, address: str) -> Done:
    """One email through Django's backend. A refused recipient is permanent for 5xx
    (the address does not exist) and transient for 4xx (greylisting, a full mailbox).
    The error recorded is the code only: the exception's text holds the address."""
    try:
        send_mail(subject, body, None, [address])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _message in exc.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            raise PermanentSendError(f"smtp-{codes[0]}") from None
        raise TransientSendError(f"smtp-{codes[0] if codes else 'refused'}") from None
    return Done()
