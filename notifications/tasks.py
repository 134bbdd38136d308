"""django-q2 tasks: thin, carry ids only."""

from notifications.services import notification_deliver


def deliver_notification(notification_id: int) -> str:
    return notification_deliver(notification_id)
