"""django-q2 tasks: thin, carry ids only."""

from complaints.audit import audit_anchor


def anchor_audit_head() -> None:
    """Daily (schedule `recourse-audit-anchor`): record the audit chain's head."""
    audit_anchor()
