"""Outbound SMS: texts are rendered from templates/sms/, folded into GSM-7, sealed,
written as OutboundSms rows, and sent by tasks that carry the row id only."""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django_q.tasks import async_task

from complaints.models import Case
from notifications.backends import PermanentSendError, get_sms_backend
from notifications.delivery import Done, RetryPolicy, delivery_attempt
from notifications.gsm import segments, to_gsm
from notifications.models import OutboundSms, SmsStatusReport
from vault import server_sealed

MAX_SMS_ATTEMPTS = 6
OPTED_OUT_ERROR = "21610"
# Twilio's statuses, by how far along they are; a report never moves a message back.
STATUS_RANK = {
    "accepted": 1,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
}
FINAL_STATUS = {
    "delivered": OutboundSms.Status.DELIVERED,
    "undelivered": OutboundSms.Status.UNDELIVERED,
    "failed": OutboundSms.Status.FAILED,
}


def render_sms(name: str, language: str, **context) -> str:
    """One SMS text in the reporter's language, on as few segments as it can take.
    Dates and times read in the unit's own time zone (the case's unit, else `unit`)."""
    case, unit = context.get("case"), context.get("unit")
    if case is not None and case.unit_id:
        unit = case.unit
    zone = zoneinfo.ZoneInfo(unit.time_zone if unit is not None else settings.TIME_ZONE)
    with translation.override(language or settings.LANGUAGE_CODE), timezone.override(zone):
        text = _rendered(name, context)
        contacts = context.get("emergency_contacts") or []
        if contacts and segments(text) > 2:
            # Long labels must not push a reply past two segments: fewer numbers, then
            # numbers alone. The first number always stays.
            for fewer in ([contacts[0]], [{"number": contacts[0]["number"], "label": ""}]):
                text = _rendered(name, {**context, "emergency_contacts": fewer})
                if segments(text) <= 2:
                    break
    return text


def _rendered(name: str, context: dict) -> str:
    text = render_to_string(f"sms/{name}.txt", context)
    lines = (" ".join(line.split()) for line in text.splitlines())
    return to_gsm("\n".join(line for line in lines if line))


# Once a text is final (sent, failed, suppressed) its sealed body is dropped: what staff
# wrote lives on in the case, under the case's own key, not under the server key ring.
SENT_BODY = b""


SMS_RETRY = RetryPolicy(max_attempts=MAX_SMS_ATTEMPTS)


def backoff(attempts: int) -> timedelta:
    return SMS_RETRY.delay(attempts)


def sms_queue(*, reporter, body: str, case=None, carries_outcome: bool = False) -> OutboundSms:
    """Record a text to send. Nothing is sent to a number that sent STOP."""
    outbound = OutboundSms(
        id=uuid.uuid4(), reporter=reporter, case=case, carries_outcome=carries_outcome
    )
    if reporter.opted_out:
        outbound.status = OutboundSms.Status.SUPPRESSED
        outbound.body = SENT_BODY  # never sent: nothing to keep
    else:
        server_sealed.seal(outbound, "body", body)
    outbound.save(force_insert=True)
    if outbound.status == OutboundSms.Status.PENDING:
        transaction.on_commit(lambda: enqueue_sms(outbound.pk))
    return outbound


def enqueue_sms(outbound_id) -> None:
    async_task("notifications.tasks.deliver_sms", str(outbound_id), save=False)


def sms_deliver(outbound_id) -> str:
    """Send one due text. Safe to run twice: only the run that claims the row sends."""
    result = delivery_attempt(
        rows=OutboundSms.objects.select_related("reporter"),
        pk=outbound_id,
        send=_send,
        retry=lambda _outbound: SMS_RETRY,
        final_fields={"body": SENT_BODY},
    )
    if result == OutboundSms.Status.SENT:
        outbound = OutboundSms.objects.get(pk=outbound_id)
        # Callbacks that arrived before the send call returned the provider's id.
        _apply_status_reports(outbound.provider_sid)
        if outbound.carries_outcome and outbound.case_id:
            Case.outcome_told(outbound.case_id)
    return result


def _send(outbound: OutboundSms) -> Done:
    reporter = outbound.reporter
    if reporter.opted_out:
        return Done(status=OutboundSms.Status.SUPPRESSED, attempted=False)
    try:
        sid = get_sms_backend().send(
            to=reporter.read_phone(),
            body=server_sealed.open_field(outbound, "body"),
            status_callback=settings.PUBLIC_BASE_URL + reverse("intake:twilio_status"),
        )
    except PermanentSendError as exc:
        if exc.code == OPTED_OUT_ERROR:
            type(reporter).objects.filter(pk=reporter.pk, opted_out_at__isnull=True).update(
                opted_out_at=timezone.now()
            )
        raise
    return Done(fields={"provider_sid": sid})


@transaction.atomic
def sms_status_record(*, provider_sid: str, status: str, error_code: str = "") -> None:
    """A delivery status callback: kept, then applied if the message is known yet."""
    SmsStatusReport.objects.create(
        provider_sid=provider_sid[:64], status=status[:16].lower(), error_code=error_code[:16]
    )
    _apply_status_reports(provider_sid)


@transaction.atomic
def _apply_status_reports(provider_sid: str) -> None:
    outbound = OutboundSms.objects.select_for_update().filter(provider_sid=provider_sid).first()
    if outbound is None:
        return  # the send call has not stored the id yet; it applies these when it does
    reports = list(SmsStatusReport.objects.filter(provider_sid=provider_sid))
    best = max(reports, key=lambda r: STATUS_RANK.get(r.status, 0), default=None)
    if best is None or STATUS_RANK.get(best.status, 0) <= STATUS_RANK.get(
        outbound.provider_status, 0
    ):
        return
    outbound.provider_status = best.status
    outbound.status = FINAL_STATUS.get(best.status, outbound.status)
    if best.error_code:
        outbound.error_code = best.error_code
    outbound.save(update_fields=["provider_status", "status", "error_code"])
