"""django-q2 tasks: thin, carry ids only."""

from config.schedule import sweep_run
from notifications.child_email import child_email_deliver, enqueue_child_email
from notifications.models import OutboundEmail, OutboundSms
from notifications.services import enqueue_delivery, notification_deliver, notification_due_ids
from notifications.sms import enqueue_sms, held_texts_in_open_window, sms_deliver


def deliver_notification(notification_id: int) -> str:
    return notification_deliver(notification_id)


def deliver_sms(outbound_id: str) -> str:
    return sms_deliver(outbound_id)


def deliver_child_email(outbound_id: str) -> str:
    return child_email_deliver(outbound_id)


def requeue_due_deliveries() -> None:
    """Every minute (config/schedule.py): enqueue again the texts, emails and notices
    a lost task or a retry left waiting."""
    sweep_run(requeue_due)


def requeue_due(*, now) -> None:
    for outbound_id in OutboundSms.objects.due_ids(now=now) + held_texts_in_open_window(now=now):
        enqueue_sms(outbound_id)
    for outbound_id in OutboundEmail.objects.due_ids(now=now):
        enqueue_child_email(outbound_id)
    for notification_id in notification_due_ids(now=now):
        enqueue_delivery(notification_id)
