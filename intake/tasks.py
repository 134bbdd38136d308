"""django-q2 tasks: thin, carry ids only."""

from config.schedule import sweep_run
from intake.sms import conversations_sweep


def move_on_idle_conversations() -> None:
    """Every minute (config/schedule.py): SMS conversations the child left are moved on."""
    sweep_run(conversations_sweep)
