"""django-q2 tasks: thin, carry ids only."""

from competencies.services import retraining_overdue_sweep
from config.schedule import sweep_run


def notify_overdue_retraining() -> None:
    """Every minute (config/schedule.py): overdue retraining reaches the managers once."""
    sweep_run(retraining_overdue_sweep)
