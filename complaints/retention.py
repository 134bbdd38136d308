"""Retention (issue 17 §2): closed cases past their policy version's retention period
lose their content, SMS reporter records with no open case go after the policy's
period, and a manager's legal hold stops a case's purge until lifted.

A purged case keeps its metadata (unit, category, urgency, dates, outcome, events,
retraining links by reference), so the compliance review counts it as before, and
`purged_at` is its tombstone. The period is the one of the policy version the case was
routed under (Case.policy records it)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from complaints.audit import audit_record
from complaints.models import Case, CaseLastOpened, Message
from config.batching import iter_batches
from intake.models import InboundMedia, InboundSms, SmsCodePickup, SmsConversation, SmsReporter
from notifications.models import OutboundEmail, OutboundSms
from policies.models import ChildProtectionPolicy
from vault.cases import case_secrets_forget

DEFAULT_BATCH_SIZE = 1000
# A reporter linked to no case any more (its cases purged, or it never filed) is judged
# by the policy field's default.
DEFAULT_SMS_REPORTER_DAYS = ChildProtectionPolicy._meta.get_field(
    "sms_reporter_retention_days"
).default


@dataclass
class PurgeResult:
    cases: int = 0
    messages: int = 0
    key_copies: int = 0
    sms_reporters: int = 0
    batches: int = 0
    held: int = 0  # expired but on legal hold: left alone
    dry_run: bool = False
    complete: bool = True  # False when a time budget stopped the run early


def _past_retention(now: datetime) -> Q:
    """closed_at older than the retention of the case's policy version: one cutoff per
    distinct retention period (policy versions are few), so the test is plain
    comparisons on both SQLite and PostgreSQL, with no date arithmetic in SQL."""
    periods = ChildProtectionPolicy.objects.values_list("retention_days", flat=True).distinct()
    condition = Q(pk__in=[])
    for days in periods:
        condition |= Q(policy__retention_days=days, closed_at__lt=now - timedelta(days=days))
    return condition


def expired_cases(now: datetime | None = None, *, include_held: bool = False):
    """Closed cases past their policy version's retention, not purged yet and (unless
    `include_held`) not on legal hold."""
    now = now or timezone.now()
    rows = Case.objects.filter(
        _past_retention(now), closed_at__isnull=False, purged_at__isnull=True
    )
    if not include_held:
        rows = rows.filter(legal_hold_at__isnull=True)
    return rows


def _purge_batch(case_ids: list, references: list[str], now: datetime) -> tuple[int, int]:
    """Everything that holds this batch's content or the child's contact, gone; one audit
    event for the batch (ids and references, never content). Queries per batch are
    constant."""
    key_copies = case_secrets_forget(case_ids)
    messages, _ = Message.objects.filter(case_id__in=case_ids).delete()
    # Photos and voice messages the child sent: content like the messages.
    media, _ = InboundMedia.objects.filter(case_id__in=case_ids).delete()
    CaseLastOpened.objects.filter(case_id__in=case_ids).delete()
    # Sealed drafts, sealed code pickups, sealed texts and emails about these cases.
    SmsConversation.objects.filter(case_id__in=case_ids).delete()
    SmsCodePickup.objects.filter(case_id__in=case_ids).delete()
    OutboundSms.objects.filter(case_id__in=case_ids).delete()
    OutboundEmail.objects.filter(case_id__in=case_ids).delete()
    # The link to the phone goes too; the reporter record follows its own period.
    Case.objects.filter(pk__in=case_ids).update(
        purged_at=now, sms_reporter=None, submission_token=None
    )
    audit_record(
        action="complaints.retention.purged",
        data={
            "case_ids": [str(case_id) for case_id in case_ids],
            "references": references,
            "key_copies": key_copies,
            "messages": messages,
            "media": media,
        },
    )
    return key_copies, messages


def purge_expired(
    now: datetime | None = None,
    *,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_seconds: float | None = None,
) -> PurgeResult:
    """Purge every expired case, batch by batch (each batch commits, so an interrupted
    run resumes), then the SMS reporter records past their period. A dry run counts
    and changes nothing. With `max_seconds`, no batch starts after that long: the rest
    waits for the next run (`complete` is then False)."""
    now = now or timezone.now()
    started = time.monotonic()
    result = PurgeResult(dry_run=dry_run)
    result.held = expired_cases(now, include_held=True).filter(legal_hold_at__isnull=False).count()
    rows = expired_cases(now).only("pk", "reference")
    if dry_run:
        result.cases = rows.count()
        result.messages = Message.objects.filter(case__in=expired_cases(now)).count()
        result.sms_reporters = len(_expired_reporter_ids(now))
        return result
    for batch in iter_batches(rows, batch_size):
        if max_seconds is not None and time.monotonic() - started > max_seconds:
            result.complete = False
            return result
        with transaction.atomic():
            # Locked and checked again: a hold set meanwhile wins.
            ids = list(
                expired_cases(now)
                .select_for_update(of=("self",))
                .filter(pk__in=[case.pk for case in batch])
                .values_list("pk", flat=True)
            )
            if not ids:
                continue
            kept = set(ids)
            references = [case.reference for case in batch if case.pk in kept]
            key_copies, messages = _purge_batch(ids, references, now)
        result.cases += len(ids)
        result.key_copies += key_copies
        result.messages += messages
        result.batches += 1
    result.sms_reporters = purge_sms_reporters(now, batch_size=batch_size)
    return result


def _reporters_with_an_unclosed_case():
    # NULLs left out: NOT IN over a NULL matches nothing.
    return Case.objects.filter(closed_at__isnull=True, sms_reporter__isnull=False).values(
        "sms_reporter_id"
    )


def _expired_reporter_ids(now: datetime) -> list[int]:
    """SMS reporters with no case still to close, quiet for longer than their period (the
    longest among the policies of their cases, else the field's default). Quiet: no
    record made, case closed, text received or conversation moved within it."""
    candidates = (
        SmsReporter.objects.exclude(pk__in=_reporters_with_an_unclosed_case())
        .annotate(
            last_closed=Max("cases__closed_at"),
            period=Max("cases__policy__sms_reporter_retention_days"),
        )
        .values_list("pk", "created_at", "last_closed", "period")
    )
    last_inbound = dict(
        InboundSms.objects.filter(reporter__isnull=False)
        .values("reporter_id")
        .annotate(last=Max("received_at"))
        .values_list("reporter_id", "last")
    )
    last_conversation = dict(
        SmsConversation.objects.values("reporter_id")
        .annotate(last=Max("updated_at"))
        .values_list("reporter_id", "last")
    )
    expired = []
    for pk, created_at, last_closed, period in candidates:
        seen = (created_at, last_closed, last_inbound.get(pk), last_conversation.get(pk))
        days = period if period is not None else DEFAULT_SMS_REPORTER_DAYS
        if max(t for t in seen if t is not None) < now - timedelta(days=days):
            expired.append(pk)
    return expired


def purge_sms_reporters(
    now: datetime | None = None, *, batch_size: int = DEFAULT_BATCH_SIZE
) -> int:
    """Remove SMS reporter records (sealed phone and its blind index) past their period.
    Their texts, inbound replies, conversations and code pickups go with them (cascade);
    their closed cases keep their metadata (the link is set to NULL). One audit event
    per batch, with ids."""
    now = now or timezone.now()
    ids = _expired_reporter_ids(now)
    removed = 0
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        with transaction.atomic():
            # A child who filed meanwhile has an unclosed case, and stays.
            doomed = list(
                SmsReporter.objects.filter(pk__in=chunk)
                .exclude(pk__in=_reporters_with_an_unclosed_case())
                .values_list("pk", flat=True)
            )
            SmsReporter.objects.filter(pk__in=doomed).delete()
            if doomed:
                audit_record(action="intake.sms_reporter.purged", data={"sms_reporter_ids": doomed})
        removed += len(doomed)
    return removed


class LegalHoldError(Exception):
    pass


def legal_hold_set(case: Case, *, reason: str, actor) -> None:
    """A manager stops the case's purge until the hold is lifted. Audited with the case
    id; the reason is staff text and stays on the case, not in the audit data."""
    reason = reason.strip()
    if not reason:
        raise LegalHoldError("reason")
    with transaction.atomic():
        updated = Case.objects.filter(pk=case.pk, purged_at__isnull=True).update(
            legal_hold_reason=reason, legal_hold_at=timezone.now(), legal_hold_by=actor
        )
        if not updated:
            raise LegalHoldError("purged")
        audit_record(action="complaints.case.legal_hold_set", actor=actor, case=case)


def legal_hold_lift(case: Case, *, actor) -> None:
    with transaction.atomic():
        updated = Case.objects.filter(pk=case.pk, legal_hold_at__isnull=False).update(
            legal_hold_reason="", legal_hold_at=None, legal_hold_by=None
        )
        if updated:
            audit_record(action="complaints.case.legal_hold_lifted", actor=actor, case=case)
