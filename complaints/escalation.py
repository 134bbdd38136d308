"""Deadlines: a case past its next deadline climbs the policy's escalation chain one
step at a time (backup focal points -> unit managers -> oversight unit), each step
claimed with a conditional update so a sweep run twice, or after an outage, sends
each notice once."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from access.cases import MANAGER_LEVEL, OVERSIGHT_LEVEL
from complaints.audit import audit_record
from complaints.lifecycle import child_tell
from complaints.models import Case, CaseEvent, CaseExclusion
from notifications.models import Notification
from notifications.services import notify_users
from policies.models import Membership
from vault.keys import case_holder_ids

BACKUP, MANAGER, OVERSIGHT = 1, MANAGER_LEVEL, OVERSIGHT_LEVEL
STEP_NAMES = {BACKUP: "backup focal points", MANAGER: "unit manager", OVERSIGHT: "oversight unit"}
MIN_STEP_GAP = timedelta(hours=1)
# Steps one sweep takes at most, well within the worker's task timeout.
STEPS_PER_SWEEP = 500


def overdue_cases(now: datetime):
    """Open cases past the deadline of the step they are at."""
    return Case.objects.filter(
        status__in=Case.OPEN_STATUSES, escalation_level__lt=OVERSIGHT, next_due_at__lt=now
    )


def step_gap(case: Case) -> timedelta:
    """Time the previous step gets before the next: the urgency's acknowledge window."""
    hours = case.policy.deadline_hours(case.urgency, "acknowledge")
    return max(timedelta(hours=hours or 0), MIN_STEP_GAP)


def escalation_sweep(*, now: datetime | None = None) -> int:
    """Escalate every overdue case by at most one step, at most STEPS_PER_SWEEP of them
    (the rest on the next minute's run), the most overdue first. Returns the steps taken.

    Cases that took a step less than MIN_STEP_GAP ago are left out by the query, and
    the scan goes on past those whose own gap is longer: with more overdue cases than
    one run takes, the ones escalated last must not fill every run while the others
    wait for hours."""
    now = now or timezone.now()
    taken = 0
    candidates = (
        overdue_cases(now)
        .filter(Q(escalated_at__isnull=True) | Q(escalated_at__lte=now - MIN_STEP_GAP))
        .select_related("policy", "unit", "sms_reporter")
        .order_by("next_due_at", "pk")
    )
    for case in candidates.iterator(chunk_size=STEPS_PER_SWEEP):
        if taken >= STEPS_PER_SWEEP:
            break
        if case.escalated_at and now - case.escalated_at < step_gap(case):
            continue
        if _escalate(case, now):
            taken += 1
    return taken


@transaction.atomic
def _escalate(case: Case, now: datetime) -> bool:
    level = case.escalation_level + 1
    claimed = Case.objects.filter(pk=case.pk, escalation_level=case.escalation_level).update(
        escalation_level=F("escalation_level") + 1, escalated_at=now
    )
    if claimed != 1:
        return False  # another sweep took this step
    case.escalation_level, case.escalated_at = level, now
    recipients = _recipients(case, level)
    CaseEvent.objects.create(
        case=case,
        at=now,
        from_status=case.status,
        to_status=case.status,
        reason=f"Deadline missed: escalated to the {STEP_NAMES[level]}.",
    )
    audit_record(
        action="complaints.case.escalated",
        case=case,
        data={"level": level, "recipients": len(recipients)},
    )
    notify_users(case=case, user_ids=recipients, kind=Notification.Kind.ESCALATION)
    if level == OVERSIGHT:
        # The oversight unit holds no copy yet: the holders' next sign-in passes it on.
        holders = [u for u in case_holder_ids(case) if u not in recipients]
        notify_users(case=case, user_ids=holders, kind=Notification.Kind.ACCESS_NEEDED)
    if level == BACKUP:
        _tell_child_we_are_late(case, now)
    return True


def _recipients(case: Case, level: int) -> list[int]:
    excluded = set(CaseExclusion.objects.filter(case=case).values_list("user_id", flat=True))
    if level == BACKUP:
        members = Membership.objects.filter(
            unit_id=case.handling_unit_id,
            is_backup=True,
            role=Membership.Role.FOCAL_POINT,
            is_active=True,
        )
    elif level == MANAGER:
        members = Membership.objects.filter(
            unit_id=case.unit_id, role=Membership.Role.MANAGER, is_active=True
        )
    else:
        members = Membership.objects.filter(
            unit_id=case.policy.oversight_unit_id, role=Membership.Role.FOCAL_POINT, is_active=True
        )
    return [uid for uid in members.values_list("user_id", flat=True) if uid not in excluded]


def _tell_child_we_are_late(case: Case, now: datetime) -> None:
    child_tell(case=case, notice="late", date=now + step_gap(case))
