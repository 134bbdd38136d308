"""Issue 16 §2: the unit's capacity-building plan, against a hand-computed roster."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from competencies.models import (
    Evaluation,
    RetrainingAssignment,
    StaffMember,
    TrainingLevel,
    TrainingRecord,
)
from competencies.selectors import Why, capacity_plan
from competencies.services import sector_competencies
from policies.models import Membership
from tests.conftest import make_staff

TODAY = date(2026, 6, 30)
BASIC = TrainingLevel.BASIC
SPECIALISED = TrainingLevel.SPECIALISED
PD = TrainingLevel.PROFESSIONAL_DEVELOPMENT


def trained(member, competency, level=BASIC, on=date(2025, 1, 10)):
    return TrainingRecord.objects.create(
        staff_member=member, competency=competency, level=level, completed_on=on, provider="ENP"
    )


def rated(member, competency, facet, rating, on, proposed=""):
    return Evaluation.objects.create(
        staff_member=member,
        competency=competency,
        facet=facet,
        rating=rating,
        evaluated_on=on,
        evaluator="Trainer",
        proposed_level=proposed,
    )


def retraining(member, competency, level, due, status="assigned", reference="ABCD2345"):
    return RetrainingAssignment.objects.create(
        staff_member=member,
        competency=competency,
        competency_title=competency.title,
        facets=["skills"],
        training_level=level,
        due_date=due,
        case_reference=reference,
        status=status,
    )


@pytest.fixture
def roster(unit):
    """Three active staff and one who left; the security framework's six competencies."""
    c = list(sector_competencies(unit).order_by("number"))
    assert len(c) == 6
    a = StaffMember.objects.create(
        unit=unit, name="Awa", role_title="Chief", in_service_since=date(2015, 1, 1)
    )
    b = StaffMember.objects.create(unit=unit, name="Bakary", in_service_since=date(2020, 1, 1))
    new = StaffMember.objects.create(
        unit=unit, name="Coumba", in_service_since=TODAY - timedelta(100)
    )
    gone = StaffMember.objects.create(unit=unit, name="Diallo", is_active=False)
    # Awa: basic on all six. Bakary: basic on 1 and 2, only specialised on 3. Coumba: none.
    for competency in c:
        trained(a, competency)
    trained(b, c[0])
    trained(b, c[1])
    trained(b, c[2], level=SPECIALISED)
    # Awa, c1 skills: below, then meets expectations: her latest rating counts, not below.
    rated(a, c[0], "skills", "below_expectations", date(2026, 1, 10), proposed=SPECIALISED)
    rated(a, c[0], "skills", "meets_expectations", date(2026, 3, 1))
    # Awa, c2: knowledge below (professional development proposed), attributes below with
    # no level proposed: in service since 2015, so professional development.
    rated(a, c[1], "knowledge", "below_expectations", date(2026, 5, 1), proposed=PD)
    rated(a, c[1], "attributes", "below_expectations", date(2026, 5, 1))
    rated(a, c[1], "skills", "satisfactory", date(2026, 5, 1))
    # Bakary, c1 attributes: satisfactory, then below (basic proposed).
    rated(b, c[0], "attributes", "satisfactory", date(2026, 1, 1))
    rated(b, c[0], "attributes", "below_expectations", date(2026, 2, 1), proposed=BASIC)
    # Retraining: Awa c4 due 15 July; Bakary c5 overdue since 1 June; Awa c6 completed;
    # Diallo (inactive) c1 assigned: left out.
    retraining(a, c[3], PD, date(2026, 7, 15))
    retraining(b, c[4], BASIC, date(2026, 6, 1))
    retraining(a, c[5], PD, date(2026, 3, 1), status="completed")
    retraining(gone, c[0], BASIC, date(2026, 5, 1))
    return {"c": c, "a": a, "b": b, "new": new, "gone": gone}


def test_needs_per_competency_are_counted_by_hand(roster, unit):
    plan = capacity_plan(unit=unit, today=TODAY)
    assert plan.staff == 3  # Diallo left
    got = [
        (
            [m.name for m in n.untrained],
            [(b.member.name, b.facets, b.levels) for b in n.below],
            len(n.retraining_due),
            len(n.retraining_overdue),
        )
        for n in plan.competencies
    ]
    assert got == [
        # c1: Coumba untrained; Bakary's latest attributes rating is below (basic).
        (["Coumba"], [("Bakary", ["Attributes"], [BASIC])], 0, 0),
        # c2: Coumba untrained; Awa below on knowledge and attributes, both PD.
        (["Coumba"], [("Awa", ["Knowledge", "Attributes"], [PD])], 0, 0),
        # c3: Bakary has only a specialised course, not the basic training.
        (["Bakary", "Coumba"], [], 0, 0),
        # c4: Awa's retraining due 2026-07-15 (not before today).
        (["Bakary", "Coumba"], [], 1, 0),
        # c5: Bakary's retraining due 2026-06-01 < 2026-06-30: overdue.
        (["Bakary", "Coumba"], [], 0, 1),
        # c6: Awa's retraining completed: no longer a need.
        (["Bakary", "Coumba"], [], 0, 0),
    ]


def test_plan_rows_say_who_needs_which_level_why_and_by_when(roster, unit):
    plan = capacity_plan(unit=unit, today=TODAY)
    n = {c.pk: c.number for c in roster["c"]}
    rows = [(n[r.competency.pk], r.member.name, r.level, r.reasons, r.by) for r in plan.rows]
    assert rows == [
        (1, "Bakary", BASIC, [Why.BELOW], None),
        (1, "Coumba", BASIC, [Why.UNTRAINED], None),
        (2, "Awa", PD, [Why.BELOW], None),
        (2, "Coumba", BASIC, [Why.UNTRAINED], None),
        (3, "Bakary", BASIC, [Why.UNTRAINED], None),
        (3, "Coumba", BASIC, [Why.UNTRAINED], None),
        # Dated rows first in each competency.
        (4, "Awa", PD, [Why.RETRAINING_DUE], date(2026, 7, 15)),
        (4, "Bakary", BASIC, [Why.UNTRAINED], None),
        (4, "Coumba", BASIC, [Why.UNTRAINED], None),
        # Bakary needs basic on c5 for two reasons: one row, both reasons.
        (5, "Bakary", BASIC, [Why.UNTRAINED, Why.RETRAINING_OVERDUE], date(2026, 6, 1)),
        (5, "Coumba", BASIC, [Why.UNTRAINED], None),
        (6, "Bakary", BASIC, [Why.UNTRAINED], None),
        (6, "Coumba", BASIC, [Why.UNTRAINED], None),
    ]


def test_the_page_shows_the_plan_and_names_no_case(roster, unit, manager, staff_client):
    response = staff_client(manager).get(reverse("competencies:plan", args=[unit.code]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Capacity-building plan · Unit TST1" in html
    assert 'href="?format=csv"' in html
    assert html.count("<tr>") == 1 + 6 + 1  # header rows and the 6 competencies
    assert html.count('<tr class="plan-row">') == 13
    assert "untrained at basic level; retraining overdue" in html
    assert "2026-" in html and "ABCD2345" not in html and "Diallo" not in html
    assert "report.css" in html and "plan.css" in html  # prints as the monthly report


def test_the_plan_downloads_as_csv(roster, unit, manager, staff_client):
    response = staff_client(manager).get(
        reverse("competencies:plan", args=[unit.code]), {"format": "csv"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["Staff member", "Role", "Competency", "Training level", "Why", "By"]
    assert len(rows) == 1 + 13
    c = roster["c"]
    assert rows[1] == [
        "Bakary",
        "",
        str(c[0]),
        "Basic training (new hires)",
        "rated below expectations",
        "",
    ]
    assert rows[3] == [
        "Awa",
        "Chief",
        str(c[1]),
        "Professional development",
        "rated below expectations",
        "",
    ]
    assert [
        "Bakary",
        "",
        str(c[4]),
        "Basic training (new hires)",
        "untrained at basic level; retraining overdue",
        "2026-06-01",
    ] in rows  # noqa: E501
    assert "ABCD2345" not in response.content.decode()


def test_only_the_units_managers_see_the_plan(
    roster, unit, other_unit, focal_point, outsider, django_user_model, staff_client
):
    other_manager = make_staff(
        django_user_model, "other.manager", other_unit, Membership.Role.MANAGER
    )
    for user in (focal_point, outsider, other_manager):
        client = staff_client(user)
        for name in ("competencies:plan", "competencies:impact"):
            assert client.get(reverse(name, args=[unit.code])).status_code == 404, (user, name)
        client.logout()


def test_plan_page_queries_do_not_grow_with_staff(unit, manager, staff_client):
    c = list(sector_competencies(unit).order_by("number"))
    client = staff_client(manager)
    url = reverse("competencies:plan", args=[unit.code])

    def grow(start, count):
        for i in range(start, start + count):
            m = StaffMember.objects.create(
                unit=unit, name=f"Officer {i:03d}", in_service_since=date(2019, 1, 1)
            )
            trained(m, c[i % 6])
            rated(
                m, c[(i + 1) % 6], "skills", "below_expectations", date(2026, 1, 1), proposed=BASIC
            )
            retraining(m, c[(i + 2) % 6], BASIC, date(2026, 1, 1) + timedelta(days=i * 40))

    grow(0, 2)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
        assert client.get(url, {"format": "csv"}).status_code == 200
    grow(2, 20)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
        assert client.get(url, {"format": "csv"}).status_code == 200
    assert len(many) == len(few)


@pytest.mark.django_db
def test_the_demo_units_have_a_plan_worth_showing():
    from django.utils import timezone

    from policies.demo import seed_demo
    from policies.models import Unit

    seed_demo()
    today = timezone.localdate()
    got = {}
    for unit in Unit.objects.exclude(sector="oversight").order_by("code"):
        plan = capacity_plan(unit=unit, today=today)
        got[unit.code] = (
            plan.staff,
            len(plan.rows),
            [len(n.untrained) for n in plan.competencies],
            [(b.member.name, b.levels) for n in plan.competencies for b in n.below],
        )
    # Five staff each: two trained on every competency, one on the first half, one on
    # the first only (rated below expectations in skills, specialised course proposed),
    # a new hire on none. Rows: 2 on competency 1, 2 on each of the first half, 3 on
    # each of the rest.
    assert got == {
        "CMJ3": (5, 20, [1, 2, 2, 2, 3, 3, 3, 3], [("Jorge Ramírez", [SPECIALISED])]),
        "DKR1": (5, 15, [1, 2, 2, 3, 3, 3], [("Ibrahima Fall", [SPECIALISED])]),
        "RVS2": (5, 18, [1, 2, 2, 3, 3, 3, 3], [("Tom Evans", [SPECIALISED])]),
    }
