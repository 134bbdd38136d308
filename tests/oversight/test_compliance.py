"""Each metric against a fixture computed by hand (see the comments)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints.models import Case
from complaints.services import complaint_receive
from oversight.selectors import Period, compliance_report
from policies.models import Membership, Unit
from tests.conftest import make_staff, make_unit

CANARY = "canary-compliance-51c2"
H = timedelta(hours=1)
D = timedelta(days=1)


def case_at(unit, *, received, urgency_category="neglect", in_danger=False, **fields):
    case = complaint_receive(unit=unit, channel="web", language="en", narrative=f"x {CANARY}",
                             category=urgency_category, in_danger=in_danger, about_staff_answer="no",
                             contact_preference="none").case
    policy = case.policy
    hours = {s: policy.deadline_hours(case.urgency, s) for s in ("acknowledge", "assess", "resolve")}
    Case.objects.filter(pk=case.pk).update(
        received_at=received, acknowledge_due_at=received + hours["acknowledge"] * H,
        assess_due_at=received + hours["assess"] * H, resolve_due_at=received + hours["resolve"] * H,
        **fields)
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def fixture_cases(unit, focal_point, manager):
    now = timezone.now()
    r1, r2, r3, r4, r5, r6 = (now - 10 * D, now - 20 * D, now - 5 * D, now - D, now - 3 * D, now - 200 * D)
    return now, {
        # urgent, acknowledged in 2 h (due 24 h), substantiated in 5 days (due 10), told.
        "c1": case_at(unit, received=r1, urgency_category="physical_violence", acknowledged_at=r1 + 2 * H,
                      status="closed", outcome="substantiated", decided_at=r1 + 5 * D,
                      outcome_told_at=r1 + 6 * D),
        # urgent, acknowledged in 30 h (late), still investigating past its 10-day resolve date.
        "c2": case_at(unit, received=r2, urgency_category="physical_violence", acknowledged_at=r2 + 30 * H,
                      status="investigating"),
        # standard, never acknowledged, 3-day deadline passed.
        "c3": case_at(unit, received=r3),
        # standard, one day old: nothing due yet.
        "c4": case_at(unit, received=r4),
        # emergency, acknowledged in 30 min, unsubstantiated in 2 days (due 3), not told.
        "c5": case_at(unit, received=r5, in_danger=True, acknowledged_at=r5 + H / 2,
                      status="unsubstantiated", outcome="unsubstantiated", decided_at=r5 + 2 * D),
        # before the period: open, acknowledged, escalated twice.
        "c6": case_at(unit, received=r6, acknowledged_at=r6 + H, status="assessing", escalation_level=2),
    }


def report_for(units, now, cross_unit=False, days=90):
    period = Period(start=now - days * D, end=now, label="test")
    return compliance_report(units=units, period=period, now=now, cross_unit=cross_unit)["tables"]


def rows(table):
    return [row for row in table.rows]


@pytest.mark.django_db
def test_each_metric_matches_the_hand_computed_fixture(unit, fixture_cases):
    now, _ = fixture_cases
    tables = report_for([unit], now)
    assert rows(tables["deadlines"]) == [
        ["TST1", "emergency", 1, 1, "100%", 1, "100%"],
        ["TST1", "urgent", 2, 1, "50%", 1, "50%"],
        ["TST1", "standard", 2, 0, "0%", 0, "—"],
    ]
    # Acknowledged after 2 h, 30 h and 0.5 h: median 2, 90th percentile 2 + 0.8 * 28 = 24.4.
    assert rows(tables["time_to_acknowledge"]) == [["TST1", 2.0, 24.4]]
    # Open now: c2 (20 days), c3 (5), c4 (1), c6 (200); overdue c2, c3, c6; escalated c6.
    assert rows(tables["open_cases"]) == [["TST1", 4, 2, 1, 0, 1, 3, 1]]
    # Decided in the period: c1 substantiated (told), c5 unsubstantiated (not told).
    assert rows(tables["outcomes"]) == [["TST1", 2, 1, 1, 0, 0, "50%", "50%"]]
    assert rows(tables["mix"]) == [["TST1", "web", "en", 5]]
    assert rows(tables["policy_health"]) == [["TST1", 1, "no backup focal point"]]


@pytest.mark.django_db
def test_period_excludes_older_cases(unit, fixture_cases):
    now, _ = fixture_cases
    tables = report_for([unit], now, days=7)
    assert sum(r[2] for r in tables["deadlines"].rows) == 3  # c3, c4, c5


@pytest.mark.django_db
def test_cross_unit_view_hides_small_counts(unit, fixture_cases):
    now, _ = fixture_cases
    tables = report_for([unit], now, cross_unit=True)
    assert rows(tables["deadlines"])[1] == ["TST1", "urgent", "<5", "<5", "—", "<5", "—"]
    assert rows(tables["mix"]) == [["TST1", "web", "en", 5]]  # five is not small
    assert rows(tables["open_cases"])[0][1] == "<5"


@pytest.mark.django_db
def test_manager_sees_the_review_and_csv_without_content(staff_client, unit, manager, fixture_cases):
    client = staff_client(manager)
    page = client.get(reverse("oversight:compliance"))
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and "<title" in html
    assert CANARY not in html
    for key in ("deadlines", "time_to_acknowledge", "open_cases", "outcomes", "mix", "retraining",
                "breaches", "repeated", "policy_health"):
        response = client.get(reverse("oversight:compliance"), {"export": key, "period": "365"})
        assert response["Content-Type"].startswith("text/csv")
        body = response.content.decode()
        assert CANARY not in body and body.splitlines()[0]


@pytest.mark.django_db
def test_custom_period_and_bad_dates_fall_back(staff_client, unit, manager, fixture_cases):
    client = staff_client(manager)
    ok = client.get(reverse("oversight:compliance"), {"period": "custom", "from": "2026-01-01", "to": "2026-12-31"})
    assert "2026-01-01 to 2026-12-31" in ok.content.decode()
    bad = client.get(reverse("oversight:compliance"), {"period": "custom", "from": "nope", "to": "x"})
    assert bad.status_code == 200 and "last 90 days" in bad.content.decode()


@pytest.mark.django_db
def test_oversight_staff_review_all_units_and_focal_points_none(staff_client, django_user_model, unit, focal_point):
    oversight = make_unit("NCRC", sector=Unit.Sector.OVERSIGHT)
    ombud = make_staff(django_user_model, "ombud", oversight, Membership.Role.FOCAL_POINT)
    assert "All units" in staff_client(ombud).get(reverse("oversight:compliance")).content.decode()
    client = staff_client(focal_point)
    assert client.get(reverse("oversight:compliance")).status_code == 404


@pytest.mark.django_db
def test_query_count_is_constant_as_cases_grow(staff_client, unit, manager, other_unit,
                                               django_assert_num_queries, django_assert_max_num_queries):
    Membership.objects.create(user=manager, unit=other_unit, role=Membership.Role.MANAGER)
    client = staff_client(manager)
    now = timezone.now()
    for _ in range(2):
        case_at(unit, received=now - 2 * D)
    with django_assert_max_num_queries(30) as few:
        client.get(reverse("oversight:compliance"))
    for days in range(12):
        case_at(unit, received=now - days * D, acknowledged_at=now - days * D + H)
        case_at(other_unit, received=now - days * D)
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(reverse("oversight:compliance"))


@pytest.mark.django_db
def test_retraining_metrics_heat_map_and_repeated_staff(unit, focal_point, manager):
    from datetime import date

    from competencies.models import RetrainingAssignment, StaffMember
    from competencies.services import sector_competencies

    first, second = sector_competencies(unit)[:2]
    officer = StaffMember.objects.create(unit=unit, name="Officer A")
    guard = StaffMember.objects.create(unit=unit, name="Guard B")
    today = timezone.localdate()

    def assign(member, competency, case_reference, **extra):
        return RetrainingAssignment.objects.create(
            staff_member=member, competency=competency, competency_title=competency.title,
            facets=["skills"], training_level="basic", case_reference=case_reference,
            due_date=extra.pop("due_date", today + 30 * D), **extra)

    # Officer A: two cases (first twice, second once); Guard B: one case.
    assign(officer, first, "AAAA1111", status="completed")
    assign(officer, second, "AAAA1111", due_date=today - 2 * D)  # overdue
    assign(officer, first, "BBBB2222")
    assign(guard, first, "CCCC3333", due_date=date(2000, 1, 1), status="completed")
    tables = report_for([unit], timezone.now())
    assert rows(tables["retraining"]) == [["TST1", 4, 2, 1]]
    assert rows(tables["breaches"]) == [[f"{first.number}. {first.title}", 3],
                                        [f"{second.number}. {second.title}", 1]]
    assert rows(tables["repeated"]) == [["Officer A", "TST1", 2]]
