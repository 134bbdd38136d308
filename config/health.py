"""What `/healthz` checks (issue 18 §2): each component ok or failing, and nothing else,
since the page needs no sign-in. An operator's probe or load balancer reads it.

- database: a query answers;
- keyring: the key ring loads, with this month's epoch keys (vault/epochs.py);
- queue: the oldest task waiting in django-q2's ORM broker is younger than
  HEALTH_QUEUE_MAX_AGE (a worker is consuming);
- sweep: the minute sweep's schedule row is not overdue by more than
  HEALTH_SWEEP_MAX_LATE (the cluster's scheduler runs).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from django_q.models import OrmQ, Schedule

from config.schedule import PERIODIC_JOBS
from vault.epochs import keyring_ready

# The job whose row shows the scheduler runs: the first minute job.
SWEEP_NAME = next(job.name for job in PERIODIC_JOBS if job.minutes == 1)


def _database() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone() == (1,)


def _queue() -> bool:
    """Waiting rows carry their enqueue time in `lock`; a row a worker holds carries a
    time in the future until its timeout, so it is not counted as waiting."""
    now = timezone.now()
    oldest = OrmQ.objects.filter(lock__lte=now).order_by("lock").values_list("lock", flat=True)
    first = oldest.first()
    return first is None or now - first <= timedelta(seconds=settings.HEALTH_QUEUE_MAX_AGE)


def _sweep() -> bool:
    next_run = Schedule.objects.filter(name=SWEEP_NAME).values_list("next_run", flat=True).first()
    late = timedelta(seconds=settings.HEALTH_SWEEP_MAX_LATE)
    return next_run is not None and timezone.now() - next_run <= late


CHECKS = {"database": _database, "keyring": keyring_ready, "queue": _queue, "sweep": _sweep}


def health_report() -> dict[str, bool]:
    """Each component's state. With the database down, the checks that read it fail too,
    rather than the page."""
    report = {}
    for name, check in CHECKS.items():
        try:
            report[name] = bool(check())
        except DatabaseError:
            report[name] = False
    return report
