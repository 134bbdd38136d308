"""The compliance fixture: cases with deadlines set by hand, and the figures they give
(see the comments in test_compliance.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from complaints.models import Case
from complaints.services import complaint_receive

CANARY = "canary-compliance-51c2"
H = timedelta(hours=1)
D = timedelta(days=1)


def case_at(unit, *, received, urgency_category="neglect", in_danger=False, **fields):
    case = complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative=f"x {CANARY}",
        category=urgency_category,
        in_danger=in_danger,
        about_staff_answer="no",
        contact_preference="none",
    ).case
    policy = case.policy
    hours = {
        s: policy.deadline_hours(case.urgency, s) for s in ("acknowledge", "assess", "resolve")
    }
    Case.objects.filter(pk=case.pk).update(
        received_at=received,
        acknowledge_due_at=received + hours["acknowledge"] * H,
        assess_due_at=received + hours["assess"] * H,
        resolve_due_at=received + hours["resolve"] * H,
        **fields,
    )
    case = Case.objects.get(pk=case.pk)
    if "next_due_at" not in fields:
        # As the services keep it: the deadline of the step the case is at.
        Case.objects.filter(pk=case.pk).update(next_due_at=case.current_next_due())
        case.refresh_from_db()
    return case


@pytest.fixture
def fixture_cases(unit, focal_point, manager):
    now = timezone.now()
    r1, r2, r3, r4, r5, r6, r7, r8 = (
        now - 10 * D,
        now - 20 * D,
        now - 5 * D,
        now - D,
        now - 3 * D,
        now - 200 * D,
        now - 8 * D,
        now - 9 * D,
    )
    return now, {
        # urgent, acknowledged in 2 h (due 24 h), substantiated in 5 days (due 10), told.
        "c1": case_at(
            unit,
            received=r1,
            urgency_category="physical_violence",
            acknowledged_at=r1 + 2 * H,
            status="closed",
            outcome="substantiated",
            decided_at=r1 + 5 * D,
            outcome_told_at=r1 + 6 * D,
        ),
        # urgent, acknowledged in 30 h (late), still investigating past its 10-day resolve date.
        "c2": case_at(
            unit,
            received=r2,
            urgency_category="physical_violence",
            acknowledged_at=r2 + 30 * H,
            status="investigating",
        ),
        # standard, never acknowledged, 3-day deadline passed.
        "c3": case_at(unit, received=r3),
        # standard, one day old: nothing due yet.
        "c4": case_at(unit, received=r4),
        # emergency, acknowledged in 30 min, unsubstantiated in 2 days (due 3), not told.
        "c5": case_at(
            unit,
            received=r5,
            in_danger=True,
            acknowledged_at=r5 + H / 2,
            status="unsubstantiated",
            outcome="unsubstantiated",
            decided_at=r5 + 2 * D,
        ),
        # before the period: open, acknowledged, escalated twice.
        "c6": case_at(
            unit, received=r6, acknowledged_at=r6 + H, status="assessing", escalation_level=2
        ),
        # Withdrawn by the child: no decision of the unit, so neither decided nor resolved
        # in time (nor late), whatever its resolve date.
        # standard, never acknowledged, withdrawn on day 5: its 3-day acknowledge deadline
        # was already missed, and stays missed.
        "c7": case_at(
            unit, received=r7, status="withdrawn", outcome="withdrawn", decided_at=r7 + 5 * D
        ),
        # emergency, withdrawn (and closed) 30 min after filing, before its 1-hour
        # acknowledge deadline: no deadline met or missed.
        "c8": case_at(
            unit,
            received=r8,
            in_danger=True,
            status="closed",
            outcome="withdrawn",
            decided_at=r8 + H / 2,
            closed_at=r8 + H / 2,
        ),
    }
