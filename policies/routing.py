"""Routing: a pure function of a complaint's metadata and the unit's policy.

This first version decides urgency and deadlines; assignees, conflicts of interest
and escalation build on the same RoutingDecision.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from policies.models import DEADLINE_STEPS, ChildProtectionPolicy, Urgency


@dataclass(frozen=True)
class RoutingDecision:
    unit_id: int
    policy_id: int
    urgency: str
    deadlines: dict[str, datetime]
    reasons: list[str] = field(default_factory=list)

    def as_record(self) -> dict:
        """What is stored with the case so anyone can later see why it went where."""
        return {
            "unit_id": self.unit_id,
            "policy_id": self.policy_id,
            "urgency": self.urgency,
            "deadlines": {step: at.isoformat() for step, at in self.deadlines.items()},
            "reasons": self.reasons,
        }


def route(
    *,
    policy: ChildProtectionPolicy,
    category: str,
    in_danger: bool,
    received_at: datetime,
) -> RoutingDecision:
    reasons = [f"Unit {policy.unit.code} under its policy version {policy.version}."]
    if in_danger:
        urgency = Urgency.EMERGENCY
        reasons.append("The child said they are in danger right now: emergency.")
    elif category in policy.categories:
        urgency = policy.categories[category]
        reasons.append(f"Category {category!r} is {urgency} under the policy.")
    else:
        urgency = Urgency.STANDARD
        reasons.append(f"Category {category!r} is not listed in the policy: standard.")

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
    return RoutingDecision(
        unit_id=policy.unit_id,
        policy_id=policy.pk,
        urgency=str(urgency),
        deadlines=deadlines,
        reasons=reasons,
    )
