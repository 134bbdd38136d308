"""Email to a web child who asked to be told by email. It says only that there is
news and how to read it: the follow-up page's address and the case reference, never
what the news is and never the secret code (an inbox may be shared or read later).
Rows are the work orders; tasks carry the row id only."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from django_q.tasks import async_task

from complaints.models import Case
from notifications.delivery import Done, RetryPolicy, delivery_attempt, email_send
from notifications.models import OutboundEmail
from vault import server_sealed

# About five hours of tries, as for staff notices: an SMTP outage must not lose the news.
CHILD_EMAIL_RETRY = RetryPolicy(max_attempts=12)


def child_email_queue(*, case, carries_outcome: bool = False) -> OutboundEmail:
    """Record an email to send to the case's sealed delivery address."""
    outbound = OutboundEmail.objects.create(
        id=uuid.uuid4(), case=case, carries_outcome=carries_outcome
    )
    transaction.on_commit(lambda: enqueue_child_email(outbound.pk))
    return outbound


def enqueue_child_email(outbound_id) -> None:
    async_task("notifications.tasks.deliver_child_email", str(outbound_id), save=False)


def child_email_deliver(outbound_id) -> str:
    """Send one due email. Safe to run twice: only the run that claims the row sends."""
    result = delivery_attempt(
        rows=OutboundEmail.objects.select_related("case"),
        pk=outbound_id,
        send=_send,
        retry=lambda _row: CHILD_EMAIL_RETRY,
    )
    if result == OutboundEmail.Status.SENT:
        outbound = OutboundEmail.objects.get(pk=outbound_id)
        if outbound.carries_outcome:
            # The child was sent the news of the decision and how to read it.
            Case.outcome_told(outbound.case_id)
    return result


def child_email_message(case) -> tuple[str, str]:
    """(subject, body) in the child's language: no content, no code."""
    with translation.override(case.language or settings.LANGUAGE_CODE):
        subject = gettext("There is news about your complaint")
        body = render_to_string(
            "email/child_news.txt",
            {
                "reference": case.reporter_reference,
                "followup_url": settings.PUBLIC_BASE_URL + reverse("intake:followup"),
            },
        )
    return subject, body


def _send(outbound: OutboundEmail) -> Done:
    case = outbound.case
    if not case.delivery_email:
        return Done(status=OutboundEmail.Status.SKIPPED, attempted=False)
    address = server_sealed.open_field(case, "delivery_email")
    subject, body = child_email_message(case)
    return email_send(subject, body, address)
