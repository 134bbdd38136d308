"""Routing: a pure function of a complaint's metadata, the unit's policy and a snapshot
of the unit's staff. No database access here; policies.selectors builds the snapshot.

Rules, in order:
- urgency: the danger flag makes a case an emergency; else the policy's category
  urgency; else standard;
- conflict of interest: the person a complaint is about never receives it; a complaint
  about the unit's manager, or about every focal point, goes to the oversight unit;
- a child who says it is about someone who works there, or is not sure: the policy's
  rule for that answer (as usual, as usual and the manager told, backup focal points
  only and the manager told, or the oversight unit);
- assignee: a primary focal point (backups when no primary is free), by the policy's
  rule (least loaded, or round robin); an emergency alerts every eligible focal point.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from policies.models import DEADLINE_STEPS, ChildProtectionPolicy, Urgency

Rule = ChildProtectionPolicy.AboutStaffRule


@dataclass(frozen=True)
class FocalPoint:
    user_id: int
    is_backup: bool = False
    open_cases: int = 0
    last_assigned_at: datetime | None = None


@dataclass(frozen=True)
class StaffSnapshot:
    """Who can handle a case: the unit's focal points and managers, and the oversight
    unit's focal points."""

    unit_id: int
    focal_points: tuple[FocalPoint, ...] = ()
    manager_ids: tuple[int, ...] = ()
    oversight_unit_id: int | None = None
    oversight_focal_points: tuple[FocalPoint, ...] = ()


@dataclass(frozen=True)
class RoutingDecision:
    unit_id: int
    policy_id: int
    handling_unit_id: int
    urgency: str
    deadlines: dict[str, datetime]
    assignee_id: int | None = None
    alert_ids: tuple[int, ...] = ()
    excluded_ids: tuple[int, ...] = ()
    # Kept away by the policy's rule for complaints about staff (primary focal points
    # when only backups may handle them): recorded as exclusions with the case.
    policy_excluded_ids: tuple[int, ...] = ()
    # The unit's managers, told (metadata only) when the rule says so.
    manager_notice_ids: tuple[int, ...] = ()
    about_staff_rule: str = ""
    reasons: list[str] = field(default_factory=list)

    def as_record(self) -> dict:
        """What is stored with the case so anyone can later see why it went where."""
        return {
            "unit_id": self.unit_id,
            "policy_id": self.policy_id,
            "handling_unit_id": self.handling_unit_id,
            "urgency": self.urgency,
            "deadlines": {step: at.isoformat() for step, at in self.deadlines.items()},
            "assignee_id": self.assignee_id,
            "alert_ids": list(self.alert_ids),
            "excluded_ids": list(self.excluded_ids),
            "policy_excluded_ids": list(self.policy_excluded_ids),
            "manager_notice_ids": list(self.manager_notice_ids),
            "about_staff_rule": self.about_staff_rule,
            "reasons": self.reasons,
        }


def route(
    *,
    policy: ChildProtectionPolicy,
    category: str,
    in_danger: bool,
    received_at: datetime,
    staff: StaffSnapshot | None = None,
    excluded_ids: frozenset[int] = frozenset(),
    subject_id: int | None = None,
    about_staff_answer: str = "",
) -> RoutingDecision:
    """`subject_id`: the account of the staff member the complaint is about, if any.
    `excluded_ids`: people who recused themselves or were excluded earlier.
    `about_staff_answer`: the child's "yes", "no" or "unsure" to "Is this about someone
    who works there?" ("" when not asked)."""
    staff = staff or StaffSnapshot(unit_id=policy.unit_id)
    reasons = [f"Unit {policy.unit.code} under its policy version {policy.version}."]
    urgency = _urgency(policy, category, in_danger, reasons)
    deadlines = _deadlines(policy, urgency, received_at, reasons)
    excluded = _excluded(excluded_ids, subject_id, reasons)
    rule = _about_staff_rule(policy, about_staff_answer, staff, reasons)
    policy_excluded = _kept_away_by_rule(rule, staff)
    excluded |= policy_excluded
    handling_unit_id, eligible = _handlers(policy, staff, excluded, subject_id, rule, reasons)
    if handling_unit_id is None:  # the oversight unit's, but the policy names none
        handling_unit_id, assignee, alerts = policy.unit_id, None, ()
    else:
        assignee = _assignee(eligible, policy, reasons)
        alerts = _alerts(urgency, eligible, assignee, reasons)
    return RoutingDecision(
        unit_id=policy.unit_id,
        policy_id=policy.pk,
        handling_unit_id=handling_unit_id,
        urgency=urgency,
        deadlines=deadlines,
        assignee_id=assignee.user_id if assignee else None,
        alert_ids=alerts,
        excluded_ids=tuple(sorted(excluded)),
        policy_excluded_ids=tuple(sorted(policy_excluded)),
        manager_notice_ids=_managers_told(rule, staff, excluded),
        about_staff_rule=rule or "",
        reasons=reasons,
    )


def _excluded(excluded_ids: frozenset[int], subject_id: int | None, reasons: list[str]) -> set[int]:
    """Who never receives the case: those excluded earlier, and the person it is about."""
    excluded = set(excluded_ids)
    if subject_id is not None:
        excluded.add(subject_id)
        reasons.append("The complaint is about a member of staff: that person never sees it.")
    return excluded


def _kept_away_by_rule(rule: str | None, staff: StaffSnapshot) -> set[int]:
    """The primary focal points, when the rule lets only backups handle the case."""
    if rule == Rule.BACKUPS_TELL_MANAGER:
        return {fp.user_id for fp in staff.focal_points if not fp.is_backup}
    return set()


def _managers_told(rule: str | None, staff: StaffSnapshot, excluded: set[int]) -> tuple[int, ...]:
    if rule in (Rule.USUAL_TELL_MANAGER, Rule.BACKUPS_TELL_MANAGER):
        return tuple(sorted(set(staff.manager_ids) - excluded))
    return ()


def _handlers(
    policy,
    staff: StaffSnapshot,
    excluded: set[int],
    subject_id: int | None,
    rule: str | None,
    reasons: list[str],
) -> tuple[int | None, list[FocalPoint]]:
    """(handling unit, its focal points who may receive the case). The oversight unit
    takes a complaint about the manager or about every focal point, one the rule sends
    there, and one nobody in the unit can receive; (None, []) when the policy names no
    oversight unit."""
    unit_focal_ids = {fp.user_id for fp in staff.focal_points}
    eligible = [fp for fp in staff.focal_points if fp.user_id not in excluded]
    about_manager = subject_id is not None and subject_id in staff.manager_ids
    about_every_focal_point = (
        bool(unit_focal_ids) and subject_id is not None and not (unit_focal_ids - {subject_id})
    )
    to_oversight = rule == Rule.OVERSIGHT
    if not (about_manager or about_every_focal_point or to_oversight or not eligible):
        return policy.unit_id, eligible
    if about_manager:
        reasons.append("It is about the unit's manager: it goes to the oversight unit.")
    elif about_every_focal_point:
        reasons.append("It is about every focal point of the unit: it goes to the oversight unit.")
    elif not to_oversight:  # the rule's own reason is given already
        reasons.append("No focal point of the unit can receive it: it goes to the oversight unit.")
    if staff.oversight_unit_id is None:
        reasons.append("The policy names no oversight unit: nobody is assigned. Fix the policy.")
        return None, []
    oversight_eligible = [fp for fp in staff.oversight_focal_points if fp.user_id not in excluded]
    return staff.oversight_unit_id, oversight_eligible


def _assignee(eligible: list[FocalPoint], policy, reasons: list[str]) -> FocalPoint | None:
    assignee = _pick(eligible, policy.assignment_rule)
    if assignee is None:
        reasons.append("No focal point is available: nobody is assigned.")
    else:
        how = policy.get_assignment_rule_display().lower()
        kind = "backup" if assignee.is_backup else "primary"
        reasons.append(f"Assigned to a {kind} focal point ({how}).")
    return assignee


def _alerts(
    urgency: str, eligible: list[FocalPoint], assignee: FocalPoint | None, reasons: list[str]
) -> tuple[int, ...]:
    """Who is alerted now: every eligible focal point in an emergency, else the assignee."""
    if urgency == Urgency.EMERGENCY:
        reasons.append("Emergency: every eligible focal point is alerted at once.")
        return tuple(sorted(fp.user_id for fp in eligible))
    if assignee is not None:
        return (assignee.user_id,)
    return ()


ABOUT_STAFF_ANSWERS = {
    "yes": "The child says it is about someone who works there",
    "unsure": "The child is not sure whether it is about someone who works there",
}

RULE_REASONS = {
    Rule.USUAL: "it is routed as usual; whoever reads it marks whom it is about.",
    Rule.USUAL_TELL_MANAGER: "it is routed as usual and the unit's manager is told "
    "(reference and deadlines only).",
    Rule.BACKUPS_TELL_MANAGER: "only backup focal points handle it (primary focal points never "
    "see it) and the unit's manager is told (reference and deadlines "
    "only).",
    Rule.OVERSIGHT: "it goes to the oversight unit.",
}


def _about_staff_rule(policy, answer: str, staff: StaffSnapshot, reasons: list[str]) -> str | None:
    """The policy's rule for the child's answer, or None when it has none ("no", not
    asked). A rule that sends to an oversight unit the policy does not name routes
    as usual and tells the manager instead: nobody-assigned is never the answer."""
    rule = policy.about_staff_rule(answer)
    if rule is None:
        return None
    if rule == Rule.OVERSIGHT and staff.oversight_unit_id is None:
        reasons.append(
            f"{ABOUT_STAFF_ANSWERS[answer]}. The policy sends such complaints to the "
            "oversight unit but names none: " + RULE_REASONS[Rule.USUAL_TELL_MANAGER]
        )
        return Rule.USUAL_TELL_MANAGER
    reasons.append(f"{ABOUT_STAFF_ANSWERS[answer]}. Under the policy, {RULE_REASONS[rule]}")
    return rule


def _urgency(policy, category: str, in_danger: bool, reasons: list[str]) -> str:
    if in_danger:
        reasons.append("The child said they are in danger right now: emergency.")
        return str(Urgency.EMERGENCY)
    if category in policy.categories:
        urgency = str(policy.categories[category])
        reasons.append(f"Category {category!r} is {urgency} under the policy.")
        return urgency
    reasons.append(f"Category {category!r} is not listed in the policy: standard.")
    return str(Urgency.STANDARD)


def _deadlines(policy, urgency: str, received_at: datetime, reasons: list[str]) -> dict:
    deadlines = {}
    for step in DEADLINE_STEPS:
        hours = policy.deadline_hours(urgency, step)
        if hours is not None:
            deadlines[step] = received_at + timedelta(hours=hours)
    if deadlines:
        summary = ", ".join(
            f"{step} within {policy.deadline_hours(urgency, step)} h" for step in deadlines
        )
        reasons.append(f"Deadlines for {urgency} cases: {summary}.")
    else:
        reasons.append(f"The policy sets no deadlines for {urgency} cases.")
    return deadlines


def _pick(eligible: list[FocalPoint], rule: str) -> FocalPoint | None:
    pool = [fp for fp in eligible if not fp.is_backup] or list(eligible)
    if not pool:
        return None
    if rule == ChildProtectionPolicy.AssignmentRule.ROUND_ROBIN:
        # The one who waited longest since their last assignment; never-assigned first.
        return min(
            pool,
            key=lambda fp: (
                fp.last_assigned_at is not None,
                fp.last_assigned_at or datetime.min,
                fp.user_id,
            ),
        )
    return min(pool, key=lambda fp: (fp.open_cases, fp.user_id))
