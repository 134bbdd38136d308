"""django-q2 tasks: thin, carry ids only."""

from config.schedule import sweep_run
from intake.media import due_media_requeue, media_fetch
from intake.sms import conversations_sweep


def move_on_idle_conversations() -> None:
    """Every minute (config/schedule.py): SMS conversations the child left are moved on."""
    sweep_run(conversations_sweep)


def fetch_media(media_id: str) -> str:
    """A photo or voice message a child sent: fetched, sealed, deleted at Twilio."""
    return media_fetch(media_id)


def requeue_due_media() -> None:
    """Every minute (config/schedule.py): media a lost task or a retry left waiting."""
    sweep_run(due_media_requeue)
