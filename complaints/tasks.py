"""django-q2 tasks: thin, carry ids only."""

from complaints.audit import audit_anchor
from complaints.escalation import escalation_sweep
from config.schedule import sweep_run


def anchor_audit_head() -> None:
    """Daily (config/schedule.py): record the audit chain's head."""
    audit_anchor()


def escalate_overdue_cases() -> None:
    """Every minute (config/schedule.py): cases past a deadline climb one step."""
    sweep_run(escalation_sweep)
