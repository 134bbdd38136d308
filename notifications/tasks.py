"""django-q2 tasks: thin, carry ids only."""

import logging

from django.utils import timezone

from notifications.child_email import (
    child_email_deliver,
    child_email_due_ids,
    enqueue_child_email,
)
from notifications.services import enqueue_delivery, notification_deliver, notification_due_ids
from notifications.sms import enqueue_sms, sms_deliver, sms_due_ids

logger = logging.getLogger(__name__)


def deliver_notification(notification_id: int) -> str:
    return notification_deliver(notification_id)


def deliver_sms(outbound_id: str) -> str:
    return sms_deliver(outbound_id)


def deliver_child_email(outbound_id: str) -> str:
    return child_email_deliver(outbound_id)


def sweep() -> None:
    """Every minute: what the database says is still to do, whatever the queue lost.
    Each step runs on its own: one that fails is logged (its error type, never content)
    and does not keep texts and notices from being sent again."""
    from competencies.services import retraining_overdue_sweep
    from complaints.escalation import escalation_sweep
    from intake.sms import conversations_sweep

    now = timezone.now()
    for step in (escalation_sweep, retraining_overdue_sweep, conversations_sweep, _requeue):
        try:
            step(now=now)
        except Exception as exc:  # noqa: BLE001
            logger.warning("sweep step %s failed: %s", step.__name__, type(exc).__name__)


def _requeue(*, now) -> None:
    for outbound_id in sms_due_ids(now):
        enqueue_sms(outbound_id)
    for outbound_id in child_email_due_ids(now):
        enqueue_child_email(outbound_id)
    for notification_id in notification_due_ids(now=now):
        enqueue_delivery(notification_id)
