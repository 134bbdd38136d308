from datetime import UTC, datetime, timedelta

import pytest

from policies.models import ChildProtectionPolicy, Unit, Urgency
from policies.routing import FocalPoint, StaffSnapshot, route

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
DEADLINES = {
    "emergency": {"acknowledge": 1, "assess": 24, "resolve": 72},
    "urgent": {"acknowledge": 24, "assess": 72, "resolve": 240},
    "standard": {"acknowledge": 72, "assess": 120, "resolve": 672},
}


def policy(rule="least_loaded"):
    unit = Unit(pk=1, code="DKR1", name="Unit", sector="security")
    return ChildProtectionPolicy(
        pk=10,
        unit=unit,
        version=3,
        assignment_rule=rule,
        categories={"physical_violence": "urgent", "neglect": "standard"},
        deadlines=DEADLINES,
    )


A, B, C, MANAGER = 101, 102, 103, 201
STAFF = StaffSnapshot(
    unit_id=1,
    focal_points=(
        FocalPoint(A, open_cases=3, last_assigned_at=NOW - timedelta(hours=1)),
        FocalPoint(B, open_cases=1, last_assigned_at=NOW - timedelta(hours=5)),
        FocalPoint(C, is_backup=True, open_cases=0),
    ),
    manager_ids=(MANAGER,),
    oversight_unit_id=9,
    oversight_focal_points=(FocalPoint(901), FocalPoint(902, open_cases=4)),
)

CASES = [
    # (name, kwargs, handling unit, assignee, alerted, excluded, urgency)
    ("least loaded primary", {}, 1, B, (B,), (), "urgent"),
    ("round robin: longest waiting primary", {"rule": "round_robin"}, 1, B, (B,), (), "urgent"),
    (
        "danger makes an emergency, alerting all",
        {"in_danger": True},
        1,
        B,
        (A, B, C),
        (),
        "emergency",
    ),
    ("category urgency from the policy", {"category": "neglect"}, 1, B, (B,), (), "standard"),
    ("unknown category is standard", {"category": "new_thing"}, 1, B, (B,), (), "standard"),
    ("about a focal point: never routed to them", {"subject": B}, 1, A, (A,), (B,), "urgent"),
    (
        "about a focal point in an emergency: not alerted",
        {"subject": B, "in_danger": True},
        1,
        A,
        (A, C),
        (B,),
        "emergency",
    ),
    ("recused focal point is skipped", {"excluded": {B}}, 1, A, (A,), (B,), "urgent"),
    ("no primary left: a backup", {"excluded": {A, B}}, 1, C, (C,), (A, B), "urgent"),
    ("about the manager: oversight", {"subject": MANAGER}, 9, 901, (901,), (MANAGER,), "urgent"),
    ("everyone excluded: oversight", {"excluded": {A, B, C}}, 9, 901, (901,), (A, B, C), "urgent"),
]


@pytest.mark.parametrize(
    "name, kwargs, handling, assignee, alerted, excluded, urgency", CASES, ids=[c[0] for c in CASES]
)
def test_routing_table(name, kwargs, handling, assignee, alerted, excluded, urgency):
    decision = route(
        policy=policy(kwargs.get("rule", "least_loaded")),
        category=kwargs.get("category", "physical_violence"),
        in_danger=kwargs.get("in_danger", False),
        received_at=NOW,
        staff=STAFF,
        excluded_ids=frozenset(kwargs.get("excluded", ())),
        subject_id=kwargs.get("subject"),
    )
    assert decision.handling_unit_id == handling
    assert decision.assignee_id == assignee
    assert decision.alert_ids == alerted
    assert decision.excluded_ids == excluded
    assert decision.urgency == urgency
    assert decision.reasons and all(isinstance(r, str) for r in decision.reasons)
    assert decision.deadlines["acknowledge"] == NOW + timedelta(
        hours=DEADLINES[urgency]["acknowledge"]
    )


def test_about_every_focal_point_goes_to_oversight():
    only_one = StaffSnapshot(
        unit_id=1,
        focal_points=(FocalPoint(A),),
        manager_ids=(MANAGER,),
        oversight_unit_id=9,
        oversight_focal_points=(FocalPoint(901),),
    )
    decision = route(
        policy=policy(),
        category="neglect",
        in_danger=False,
        received_at=NOW,
        staff=only_one,
        subject_id=A,
    )
    assert (decision.handling_unit_id, decision.assignee_id) == (9, 901)
    assert any("every focal point" in r for r in decision.reasons)


def test_no_oversight_unit_leaves_it_unassigned_and_says_so():
    staff = StaffSnapshot(unit_id=1, focal_points=(FocalPoint(A),), manager_ids=(MANAGER,))
    decision = route(
        policy=policy(),
        category="neglect",
        in_danger=False,
        received_at=NOW,
        staff=staff,
        subject_id=MANAGER,
    )
    assert decision.assignee_id is None
    assert any("Fix the policy" in r for r in decision.reasons)


def test_routing_is_pure_and_repeatable():
    kwargs = dict(
        policy=policy(), category="physical_violence", in_danger=False, received_at=NOW, staff=STAFF
    )
    assert route(**kwargs) == route(**kwargs)
    assert Urgency.URGENT == route(**kwargs).urgency
