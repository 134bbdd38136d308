"""Every periodic job, in one place. The django-q2 Schedule rows are made from this list
after every `migrate` (schedule_rows_sync, run by notifications/apps.py): a job added
here gets its row, a job changed here gets its row changed, a job removed goes.

Each job is a task function of the app whose rows it works on; the minute sweeps take
what the database says is still to do, whatever the queue lost, and each is safe to
run twice (its own conditional updates claim the work)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone

logger = logging.getLogger(__name__)

# django_q's Schedule.MINUTES and Schedule.DAILY: its models cannot be imported before
# the app registry is ready, and this module is read while it loads (notifications/apps.py).
MINUTES, DAILY = "I", "D"
# Rows named so are ours: one whose job is no longer listed is deleted.
NAME_PREFIX = "recourse-"


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    func: str  # dotted path of a task function called without arguments
    schedule_type: str
    minutes: int | None = None


PERIODIC_JOBS = (
    # Cases past a deadline climb the escalation chain one step.
    PeriodicJob("recourse-escalation", "complaints.tasks.escalate_overdue_cases", MINUTES, 1),
    # Overdue retraining reaches the unit's managers once.
    PeriodicJob(
        "recourse-retraining-overdue", "competencies.tasks.notify_overdue_retraining", MINUTES, 1
    ),
    # SMS conversations the child left are moved on (asked, alerted, filed on expiry).
    PeriodicJob(
        "recourse-sms-conversations", "intake.tasks.move_on_idle_conversations", MINUTES, 1
    ),
    # Photos and voice messages a lost task or a retry left waiting are fetched again.
    PeriodicJob("recourse-media-fetch", "intake.tasks.requeue_due_media", MINUTES, 1),
    # Notices, texts and emails a lost task or a retry left waiting are enqueued again.
    PeriodicJob(
        "recourse-delivery-requeue", "notifications.tasks.requeue_due_deliveries", MINUTES, 1
    ),
    # Key copies move under the epoch they belong to (vault/epochs.py).
    PeriodicJob("recourse-key-epochs", "vault.tasks.move_copies_to_their_epochs", MINUTES, 1),
    # The compliance review's summary catches up with the cases changed (oversight/summary.py).
    PeriodicJob("recourse-compliance-summary", "oversight.tasks.sum_changed_days", MINUTES, 1),
    # The audit chain's head is anchored outside the table (complaints/audit.py).
    PeriodicJob("recourse-audit-anchor", "complaints.tasks.anchor_audit_head", DAILY),
    # Closed cases past their policy's retention lose their content (legal holds kept).
    PeriodicJob("recourse-retention-purge", "complaints.tasks.purge_expired_cases", DAILY),
)


def schedule_rows_sync(schedules) -> None:
    """Make the rows of `schedules` (a manager of django_q's Schedule) match
    PERIODIC_JOBS. A row already right is left alone, its next run too."""
    for job in PERIODIC_JOBS:
        wanted = {"func": job.func, "schedule_type": job.schedule_type, "minutes": job.minutes}
        row = schedules.filter(name=job.name).first()
        if row is None:
            schedules.create(name=job.name, repeats=-1, **wanted)
        elif any(getattr(row, field) != value for field, value in wanted.items()):
            schedules.filter(pk=row.pk).update(**wanted)
    listed = [job.name for job in PERIODIC_JOBS]
    schedules.filter(name__startswith=NAME_PREFIX).exclude(name__in=listed).delete()


def sweep_run(sweep: Callable[..., object]) -> None:
    """Run one sweep at the current time. One that fails is logged by its error type,
    never its message (which may hold content), and the next minute's run tries again."""
    try:
        sweep(now=timezone.now())
    except Exception as exc:  # noqa: BLE001
        logger.warning("sweep %s failed: %s", sweep.__name__, type(exc).__name__)
