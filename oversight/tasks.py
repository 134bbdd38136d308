"""django-q2 tasks: thin, carry ids only."""

from config.schedule import sweep_run
from oversight.summary import summary_sweep


def sum_changed_days() -> None:
    """Every minute (config/schedule.py): the compliance summary catches up with the
    cases changed, and the deadlines passed, since its last run."""
    sweep_run(summary_sweep)
