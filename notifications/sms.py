"""Outbound SMS: texts are rendered from templates/sms/, folded into GSM-7, sealed,
written as OutboundSms rows, and sent by tasks that carry the row id only.

WhatsApp children (SmsReporter.channel) get the same texts, unfolded (WhatsApp carries
any character), from a WhatsApp sender. WhatsApp allows free text only within 24 hours
of the child's last message (WHATSAPP_WINDOW_HOURS, less WHATSAPP_WINDOW_MARGIN_MINUTES);
a text due later is held (WAITING), the unit's approved template for the child's
language (policies.WhatsAppTemplate), if any, tells them there is news, and the held
texts go when they next write (held_texts_release)."""

from __future__ import annotations

import logging
import uuid
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from functools import lru_cache

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
from notifications.models import REQUEUE_LIMIT, OutboundSms, SmsStatusReport
from policies.models import WhatsAppTemplate
from vault import server_sealed

logger = logging.getLogger(__name__)

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


# Set while a WhatsApp child's message is answered (intake.sms): replies are not folded
# into GSM-7 and have no two-segment budget.
_whatsapp_replies: ContextVar[bool] = ContextVar("whatsapp_replies", default=False)


@contextmanager
def whatsapp_replies(on: bool = True) -> Iterator[None]:
    token = _whatsapp_replies.set(on)
    try:
        yield
    finally:
        _whatsapp_replies.reset(token)


def over_two_segments(text: str) -> bool:
    """Too long for an SMS reply; never for WhatsApp, which has no segments."""
    return not _whatsapp_replies.get() and segments(text) > 2


def render_sms(name: str, language: str, **context) -> str:
    """One SMS text in the reporter's language, on as few segments as it can take.
    Dates and times read in the unit's own time zone (the case's unit, else `unit`).
    For WhatsApp (a reply while whatsapp_replies() is on, or a text about a case filed
    by WhatsApp) the text keeps its accents and its length."""
    if all(_is_fixed(value) for value in context.values()):
        # Nothing of anyone's in it ("Got it. Send more..."): the same text every time,
        # rendered once per process (a follow-up text's reply, issue 20).
        flags = tuple(sorted((k, () if v in ([], ()) else v) for k, v in context.items()))
        language = language or settings.LANGUAGE_CODE
        return _render_fixed(name, language, _whatsapp_replies.get(), flags)
    return _render(name, language, **context)


def _is_fixed(value) -> bool:
    """A flag, or nothing at all (None, an empty list of numbers or languages)."""
    return value is None or isinstance(value, bool) or value in ([], ())


@lru_cache(maxsize=512)
def _render_fixed(name: str, language: str, whatsapp: bool, flags: tuple) -> str:
    with whatsapp_replies(whatsapp):
        return _render(name, language, **dict(flags))


def _render(name: str, language: str, **context) -> str:
    case, unit = context.get("case"), context.get("unit")
    if case is not None and case.unit_id:
        unit = case.unit
    whatsapp = _whatsapp_replies.get() or (
        case is not None and case.channel == Case.Channel.WHATSAPP
    )
    zone = zoneinfo.ZoneInfo(unit.time_zone if unit is not None else settings.TIME_ZONE)
    with (
        translation.override(language or settings.LANGUAGE_CODE),
        timezone.override(zone),
        whatsapp_replies(whatsapp),
    ):
        text = _rendered(name, context)
        contacts = context.get("emergency_contacts") or []
        if contacts and over_two_segments(text):
            # Long labels must not push a reply past two segments: fewer numbers, then
            # numbers alone. The first number always stays.
            for fewer in ([contacts[0]], [{"number": contacts[0]["number"], "label": ""}]):
                text = _rendered(name, {**context, "emergency_contacts": fewer})
                if not over_two_segments(text):
                    break
    return text


def _rendered(name: str, context: dict) -> str:
    text = render_to_string(f"sms/{name}.txt", context)
    lines = (" ".join(line.split()) for line in text.splitlines())
    text = "\n".join(line for line in lines if line)
    return text if _whatsapp_replies.get() else to_gsm(text)


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
    sender = None
    if reporter.on_whatsapp:
        if not whatsapp_window_open(reporter):
            return _held(outbound)
        sender = whatsapp_sender(reporter, outbound.case)
    try:
        sid = get_sms_backend().send(
            to=reporter.read_phone(),
            body=server_sealed.open_field(outbound, "body"),
            status_callback=_status_callback(),
            sender=sender,
        )
    except PermanentSendError as exc:
        if exc.code == OPTED_OUT_ERROR:
            type(reporter).objects.filter(pk=reporter.pk, opted_out_at__isnull=True).update(
                opted_out_at=timezone.now()
            )
        raise
    return Done(fields={"provider_sid": sid})


def _status_callback() -> str:
    return settings.PUBLIC_BASE_URL + reverse("intake:twilio_status")


# --- WhatsApp ------------------------------------------------------------------------------


def _window() -> timedelta:
    return timedelta(
        hours=settings.WHATSAPP_WINDOW_HOURS, minutes=-settings.WHATSAPP_WINDOW_MARGIN_MINUTES
    )


def whatsapp_window_open(reporter, *, now=None) -> bool:
    """Whether WhatsApp still takes free text to this child: their last message is
    younger than the window, less the margin."""
    if reporter.last_inbound_at is None:
        return False
    return (now or timezone.now()) < reporter.last_inbound_at + _window()


def whatsapp_sender(reporter, case=None) -> str:
    """The service's WhatsApp address to write from: the one the child last wrote to
    (the window is open with that sender only), else their unit's, else the default."""
    if reporter.service_address:
        return reporter.service_address
    if case is not None and case.unit.whatsapp_number:
        return "whatsapp:" + case.unit.whatsapp_number
    return settings.TWILIO_WHATSAPP_FROM


def _held(outbound: OutboundSms) -> Done:
    """Outside the window: the text waits, sealed, for the child's next message. The
    first text held since then sends the unit's template, if it has one for the child's
    language, saying there is news: its one variable is the case reference."""
    reporter, case = outbound.reporter, outbound.case
    keep = {"body": bytes(outbound.body)}
    template = _whatsapp_template(case)
    already_told = (
        OutboundSms.objects.filter(reporter=reporter, status=OutboundSms.Status.WAITING)
        .exclude(template_sid="")
        .exists()
    )
    if template is None or already_told:
        return Done(status=OutboundSms.Status.WAITING, fields=keep, attempted=False)
    try:
        sid = get_sms_backend().send_template(
            to=reporter.read_phone(),
            content_sid=template.content_sid,
            variables={"1": case.display_reference},
            sender=whatsapp_sender(reporter, case),
            status_callback=_status_callback(),
        )
    except PermanentSendError as exc:
        # The template was refused (not approved, paused): the text still waits.
        logger.warning("text %s held; its template was refused (error %s)", outbound.pk, exc.code)
        return Done(status=OutboundSms.Status.WAITING, fields=keep)
    return Done(status=OutboundSms.Status.WAITING, fields={**keep, "template_sid": sid})


def _whatsapp_template(case) -> WhatsAppTemplate | None:
    if case is None:
        return None  # nothing to name in it: the text waits untold
    return WhatsAppTemplate.objects.filter(unit=case.unit_id, language=case.text_language).first()


def held_texts_release(reporter) -> list:
    """The child wrote: their held texts go now, through the queue once the
    transaction (and with it the reply) is done. Two messages at once release each
    text once (the conditional update), and a text enqueued twice is sent once (the
    claim in sms_deliver)."""
    held = list(
        OutboundSms.objects.filter(
            reporter=reporter, status=OutboundSms.Status.WAITING
        ).values_list("pk", flat=True)
    )
    if not held:
        return []
    OutboundSms.objects.filter(pk__in=held, status=OutboundSms.Status.WAITING).update(
        status=OutboundSms.Status.PENDING, next_attempt_at=timezone.now(), claimed_at=None
    )
    transaction.on_commit(lambda: [enqueue_sms(pk) for pk in held])
    return held


def held_texts_in_open_window(*, now) -> list:
    """For the minute sweep: texts held by a send that raced the child's message (it
    read the reporter before the message came, then held the text after the message
    released the others): their window is open, so they are due again."""
    held = list(
        OutboundSms.objects.filter(
            status=OutboundSms.Status.WAITING, reporter__last_inbound_at__gt=now - _window()
        ).values_list("pk", flat=True)[:REQUEUE_LIMIT]
    )
    OutboundSms.objects.filter(pk__in=held, status=OutboundSms.Status.WAITING).update(
        status=OutboundSms.Status.PENDING, next_attempt_at=now, claimed_at=None
    )
    return held


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
