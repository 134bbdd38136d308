"""Issue 16 §3: breaches per 100 staff-months before and after training, repeats after
retraining, and training coverage beside deadlines met and outcomes told; every figure
against a hand-computed fixture."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from competencies.models import RetrainingAssignment, StaffMember, TrainingRecord
from competencies.selectors import impact, training_coverage
from competencies.services import sector_competencies
from tests.oversight.conftest import case_at

TODAY = date(2026, 6, 30)
WINDOW_START = date(2024, 7, 10)  # TODAY - 720 days (24 months of 30 days)
H = timedelta(hours=1)
D = timedelta(days=1)


def at(day: date) -> datetime:
    return datetime.combine(day, time(12), UTC)


def trained(member, competency, on, level="basic"):
    TrainingRecord.objects.create(
        staff_member=member, competency=competency, level=level, completed_on=on, provider="ENP"
    )


def breach(member, competency, on, *, reference="ABCD2345", completed_on=None, follow_up_of=None):
    a = RetrainingAssignment.objects.create(
        staff_member=member,
        competency=competency,
        competency_title=competency.title,
        facets=["skills"],
        training_level="basic",
        due_date=on + timedelta(days=60),
        case_reference=reference,
        follow_up_of=follow_up_of,
        status="completed" if completed_on else "assigned",
        completed_at=at(completed_on) if completed_on else None,
    )
    RetrainingAssignment.objects.filter(pk=a.pk).update(created_at=at(on))
    return a


@pytest.fixture
def staffed(unit):
    """Ten staff in service long before the window (s0..s9), a new hire (s10, 90 days),
    one who left (gone). Training on c1 for s0..s9 360 days ago; on c2, s0 180 days ago
    (then again 30 days ago, specialised) and s1 before the window."""
    c = list(sector_competencies(unit).order_by("number"))
    s = [
        StaffMember.objects.create(unit=unit, name=f"S{i}", in_service_since=date(2010, 1, 1))
        for i in range(10)
    ]
    s.append(StaffMember.objects.create(unit=unit, name="S10", in_service_since=TODAY - 90 * D))
    gone = StaffMember.objects.create(unit=unit, name="Gone", is_active=False)
    for m in s[:10]:
        trained(m, c[0], TODAY - 360 * D)
    trained(s[0], c[1], TODAY - 180 * D)
    trained(s[0], c[1], TODAY - 30 * D, level="specialised")
    trained(s[1], c[1], date(2020, 1, 1))
    # c1: six breaches before training (s0..s5, 500 days ago); s0's and s1's retraining
    # completed 450 days ago. After training: s6 and s7 (100 days ago) and s0 again (50).
    for i in range(6):
        breach(s[i], c[0], TODAY - 500 * D, completed_on=TODAY - 450 * D if i < 2 else None)
    first = breach(s[6], c[0], TODAY - 100 * D)
    breach(s[7], c[0], TODAY - 100 * D)
    breach(s[0], c[0], TODAY - 50 * D)
    # Not breaches: outside the window, a follow-up, no case reference, staff who left.
    breach(s[8], c[0], TODAY - 800 * D)
    breach(s[6], c[0], TODAY - 40 * D, follow_up_of=first)
    breach(s[9], c[0], TODAY - 40 * D, reference="")
    breach(gone, c[0], TODAY - 40 * D)
    # c2: s2 (untrained) 300 days ago; s0 10 days ago, after their training 180 days ago.
    breach(s[2], c[1], TODAY - 300 * D)
    breach(s[0], c[1], TODAY - 10 * D)
    return c


def test_breaches_per_100_staff_months_are_computed_by_hand(staffed, unit):
    result = impact(unit=unit, today=TODAY)
    assert result.window_start == WINDOW_START
    c1, c2, *rest = result.competencies
    # c1 before: s0..s9 from the window start to training, 720 - 360 = 360 days each;
    # s10 never trained, 90 days. 3600 + 90 = 3690 days = 123 staff-months, 11 staff.
    assert (c1.before.days, c1.before.staff, c1.before.breaches) == (3690, 11, 6)
    assert c1.before.staff_months == pytest.approx(123)
    # After: s0..s9, 360 days each = 3600 days = 120 staff-months; breaches s6, s7, s0.
    assert (c1.after.days, c1.after.staff, c1.after.breaches) == (3600, 10, 3)
    # 11 and 10 staff, 9 breaches: enough (5 or more each) to give rates.
    assert not c1.too_few
    assert c1.rate_before == pytest.approx(6 / 123 * 100)  # 4.878...
    assert c1.rate_after == pytest.approx(3 / 120 * 100)  # 2.5
    # Retrained on c1: s0 and s1 (completed 450 days ago); s0 breached again 50 days ago.
    assert (c1.retrained_staff, c1.repeat_staff, c1.repeat_breaches) == (2, 1, 1)
    assert c1.repeats_too_few  # 2 retrained < 5

    # c2 before: s0 720 - 180 = 540; s2..s9 720 each = 5760; s10 90. 6390 days = 213
    # staff-months, 10 staff. After: s0 180, s1 (trained before the window) 720 = 900
    # days = 30 staff-months, 2 staff. Breaches: s2 before, s0 after.
    assert (c2.before.days, c2.before.staff, c2.before.breaches) == (6390, 10, 1)
    assert (c2.after.days, c2.after.staff, c2.after.breaches) == (900, 2, 1)
    assert c2.after.staff_months == pytest.approx(30)
    # Two staff after, two breaches: too few; counts given, no rate.
    assert c2.too_few
    assert (c2.rate_before, c2.rate_after) == (None, None)
    assert c2.before.rate == pytest.approx(1 / 213 * 100)  # computed, never shown

    # c3..c6: nobody trained: 10 × 720 + 90 = 7290 days before, no breach.
    for other in rest:
        assert (other.before.days, other.before.staff, other.before.breaches) == (7290, 11, 0)
        assert (other.after.days, other.after.staff, other.after.breaches) == (0, 0, 0)
        assert other.too_few and other.rate_before is None


def test_the_page_gives_rates_only_when_there_are_enough(
    staffed, unit, manager, staff_client, monkeypatch
):
    monkeypatch.setattr(timezone, "now", lambda: at(TODAY))
    response = staff_client(manager).get(reverse("competencies:impact", args=[unit.code]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Impact of training · Unit TST1" in html
    assert "since 2024-07-10" in html
    # c1: 6 / 123 × 100 = 4.9 before; 3 / 120 × 100 = 2.5 after.
    assert "<td>123.0 (11)</td><td>4.9</td>" in html
    assert "<td>120.0 (10)</td><td>2.5</td>" in html
    assert "Fewer breaches after training" in html
    # c2..c6: counts and the caveat, no rate.
    assert "<td>213.0 (10)</td><td>—</td>" in html
    assert "<td>30.0 (2)</td><td>—</td>" in html
    assert html.count("Too few to conclude") == 5 + 6  # impact c2..c6, repeats c1..c6
    assert "ABCD2345" not in html


@pytest.fixture
def coverage_roster(unit):
    """A: basic on all six in 2024. B: all six, the last 30 days ago. C: five of six.
    N: a new hire (100 days), all six 50 days ago. Gone: all six, left."""
    c = list(sector_competencies(unit).order_by("number"))
    a, b, cc, n, gone = (
        StaffMember.objects.create(unit=unit, name=name, in_service_since=since, is_active=active)
        for name, since, active in [
            ("A", date(2015, 1, 1), True),
            ("B", date(2018, 1, 1), True),
            ("C", date(2019, 1, 1), True),
            ("N", TODAY - 100 * D, True),
            ("Gone", date(2015, 1, 1), False),
        ]
    )
    for competency in c:
        trained(a, competency, date(2024, 1, 1))
        trained(b, competency, TODAY - 30 * D if competency == c[5] else date(2024, 1, 1))
        trained(n, competency, TODAY - 50 * D)
        trained(gone, competency, date(2024, 1, 1))
    for competency in c[:5]:
        trained(cc, competency, date(2024, 1, 1))
    trained(cc, c[5], date(2024, 1, 1), level="specialised")  # not basic
    return c


def test_training_coverage_beside_deadlines_and_outcomes(coverage_roster, unit, other_unit):
    now = at(TODAY)
    # In the twelve months: one acknowledged in time, decided in time and told; one
    # acknowledged 30 days late, decided after 35 days (over 28), not told. One older.
    received = now - 10 * D
    case_at(
        unit,
        received=received,
        acknowledged_at=received + H,
        status="closed",
        outcome="substantiated",
        decided_at=received + 2 * D,
        outcome_told_at=received + 3 * D,
    )
    received = now - 40 * D
    case_at(
        unit,
        received=received,
        acknowledged_at=received + 30 * D,
        status="unsubstantiated",
        outcome="unsubstantiated",
        decided_at=received + 35 * D,
    )
    case_at(unit, received=now - 400 * D, acknowledged_at=now - 400 * D + H)

    ours, theirs = training_coverage(units=[unit, other_unit], now=now)
    # Today: A, B, N of A, B, C, N (Gone left). A year ago: A, B, C in service; only A had
    # all six (B's last came 30 days ago).
    assert (ours.staff, ours.fully_trained) == (4, 3)
    assert (ours.staff_a_year_ago, ours.fully_trained_a_year_ago) == (3, 1)
    assert ours.trained_share == "75% (3 of 4)"
    assert ours.trained_share_a_year_ago == "33% (1 of 3)"
    assert ours.acknowledged_share == "50% (1 of 2)"
    assert ours.resolved_share == "50% (1 of 2)"
    assert ours.told_share == "50% (1 of 2)"
    assert (theirs.staff, theirs.trained_share, theirs.acknowledged_share) == (0, "—", "—")


def test_a_retired_competency_is_not_required(coverage_roster, unit):
    coverage_roster[5].is_active = False
    coverage_roster[5].save()
    (ours,) = training_coverage(units=[unit], now=at(TODAY))
    assert (ours.staff, ours.fully_trained) == (4, 4)  # C lacked only the retired one


def test_impact_page_queries_do_not_grow_with_staff_or_cases(unit, manager, staff_client):
    c = list(sector_competencies(unit).order_by("number"))
    client = staff_client(manager)
    url = reverse("competencies:impact", args=[unit.code])
    now = timezone.now()

    def grow(start, count):
        for i in range(start, start + count):
            m = StaffMember.objects.create(
                unit=unit, name=f"O{i}", in_service_since=date(2019, 1, 1)
            )
            trained(m, c[i % 6], timezone.localdate() - 200 * D)
            breach(
                m,
                c[i % 6],
                timezone.localdate() - 300 * D,
                completed_on=timezone.localdate() - 250 * D,
            )
            breach(m, c[i % 6], timezone.localdate() - 20 * D)
            case_at(unit, received=now - (i + 1) * D, acknowledged_at=now - (i + 1) * D + H)

    grow(0, 2)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    grow(2, 15)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)
