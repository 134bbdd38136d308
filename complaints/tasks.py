"""django-q2 tasks: thin, carry ids only."""

from django.conf import settings

from complaints.audit import audit_anchor
from complaints.escalation import escalation_sweep
from complaints.retention import purge_expired
from config.schedule import sweep_run


def anchor_audit_head() -> None:
    """Daily (config/schedule.py): record the audit chain's head."""
    audit_anchor()


def escalate_overdue_cases() -> None:
    """Every minute (config/schedule.py): cases past a deadline climb one step."""
    sweep_run(escalation_sweep)


def purge_expired_cases() -> None:
    """Daily (config/schedule.py): expired closed cases lose their content, SMS reporter
    records past their period go (complaints/retention.py). Within the worker's task
    timeout: a backlog larger than one run's budget goes on the next day."""
    purge_expired(max_seconds=settings.RETENTION_PURGE_TASK_SECONDS)
