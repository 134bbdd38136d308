"""Twelve months by month of receipt, in the unit's own months; figures computed by hand."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from oversight.selectors import Cell
from oversight.trends import MonthError, compliance_trends, month_from, month_in, months_ending
from policies.models import Unit
from tests.oversight.conftest import CANARY, case_at

H = timedelta(hours=1)
D = timedelta(days=1)
UTC = UTC
GUATEMALA = ZoneInfo("America/Guatemala")  # UTC-6 all year
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def trends(unit, tz, *, last=date(2026, 6, 1), cross_unit=False):
    months = months_ending(month_in(last, tz), tz)
    return {
        r.month.key: (r.received, r.on_time, r.on_time_share, r.overdue, r.escalated)
        for r in compliance_trends(
            units=[unit], months=months, now=NOW, tz=tz, cell=Cell(cross_unit)
        )
    }


@pytest.mark.django_db
def test_twelve_months_counted_by_hand(unit):
    march = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    # Urgent (acknowledge 24 h, resolve 10 days):
    # a. acknowledged in 2 h, decided in 5 days: on time, not late.
    case_at(
        unit,
        received=march,
        urgency_category="physical_violence",
        acknowledged_at=march + 2 * H,
        status="closed",
        outcome="substantiated",
        decided_at=march + 5 * D,
    )
    # b. acknowledged in 30 h (late), decided in 20 days (late), escalated once: one late case.
    case_at(
        unit,
        received=march,
        urgency_category="physical_violence",
        acknowledged_at=march + 30 * H,
        status="closed",
        outcome="unsubstantiated",
        decided_at=march + 20 * D,
        escalation_level=1,
    )
    # c. standard, never acknowledged, still open: overdue.
    case_at(unit, received=march + 3 * D)
    # May: acknowledged in time, still investigating past its resolve date: overdue.
    may = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)
    case_at(
        unit,
        received=may,
        urgency_category="physical_violence",
        acknowledged_at=may + H,
        status="investigating",
        escalation_level=2,
    )
    # Thirteen months back: outside the twelve.
    case_at(unit, received=datetime(2025, 6, 20, tzinfo=UTC))
    figures = trends(unit, UTC)
    assert list(figures) == [
        f"{y}-{m:02d}"
        for y, m in [
            (2025, 7),
            (2025, 8),
            (2025, 9),
            (2025, 10),
            (2025, 11),
            (2025, 12),
            (2026, 1),
            (2026, 2),
            (2026, 3),
            (2026, 4),
            (2026, 5),
            (2026, 6),
        ]
    ]
    assert figures["2026-03"] == (3, 1, "33% (1 of 3)", 2, 1)
    assert figures["2026-05"] == (1, 1, "100% (1 of 1)", 1, 1)
    assert figures["2026-04"] == (0, 0, "—", 0, 0)
    assert sum(f[0] for f in figures.values()) == 4


@pytest.mark.django_db
def test_months_are_the_units_local_months(unit):
    Unit.objects.filter(pk=unit.pk).update(time_zone="America/Guatemala")
    unit.refresh_from_db()
    # 31 March, 23:30 in Guatemala is already 1 April in UTC: March for this unit.
    late_march = datetime(2026, 3, 31, 23, 30, tzinfo=GUATEMALA)
    case_at(unit, received=late_march)
    assert trends(unit, GUATEMALA)["2026-03"][0] == 1
    assert trends(unit, GUATEMALA)["2026-04"][0] == 0
    assert trends(unit, UTC)["2026-04"][0] == 1  # the same case, in UTC months


@pytest.mark.django_db
def test_across_units_small_monthly_counts_are_hidden(unit):
    march = datetime(2026, 3, 10, tzinfo=UTC)
    case_at(unit, received=march, escalation_level=1)  # never acknowledged: 0 in time
    assert trends(unit, UTC, cross_unit=True)["2026-03"] == ("<5", 0, "—", "<5", "<5")


def test_month_from_reads_year_and_month_and_refuses_the_rest():
    tz = GUATEMALA
    assert month_from("2026-02", tz=tz, now=NOW).start == datetime(2026, 2, 1, tzinfo=tz)
    assert month_from("2026-02", tz=tz, now=NOW).end == datetime(2026, 3, 1, tzinfo=tz)
    assert month_from("2025-12", tz=tz, now=NOW).end == datetime(2026, 1, 1, tzinfo=tz)
    # No month: the last complete one.
    assert month_from("", tz=tz, now=NOW).key == "2026-05"
    # 1 July 02:00 UTC is still 30 June in Guatemala: June is not complete there.
    assert month_from(None, tz=tz, now=datetime(2026, 7, 1, 2, tzinfo=UTC)).key == "2026-05"
    for bad in ("2026-13", "2026", "June", "2026-06-01", "1999-12", "2026-07"):
        with pytest.raises(MonthError):
            month_from(bad, tz=tz, now=NOW)


@pytest.mark.django_db
def test_the_review_shows_the_trend_chart_with_its_table(staff_client, unit, manager):
    from django.utils import timezone

    case_at(unit, received=timezone.now() - 2 * D)
    html = staff_client(manager).get(reverse("oversight:compliance")).content.decode()
    assert 'aria-labelledby="trend-title trend-desc"' in html and '<desc id="trend-desc">' in html
    assert 'id="table-trends"' in html and CANARY not in html
    assert "<script" not in html


@pytest.mark.django_db
def test_a_late_assessment_is_late_and_a_withdrawal_no_late_decision(unit):
    from complaints.models import CaseEvent

    march = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)

    def assessed(case, after):
        CaseEvent.objects.create(
            case=case,
            at=case.received_at + after,
            from_status="acknowledged",
            to_status="assessing",
        )

    # Urgent (acknowledge 24 h, assess 72 h, resolve 10 days), all acknowledged in 2 h:
    # a. assessed on day 5 (late), decided on day 8 (in time): late.
    a = case_at(
        unit,
        received=march,
        urgency_category="physical_violence",
        acknowledged_at=march + 2 * H,
        status="unsubstantiated",
        outcome="unsubstantiated",
        decided_at=march + 8 * D,
    )
    assessed(a, 5 * D)
    # b. assessed on day 2, decided on day 8: on time throughout.
    b = case_at(
        unit,
        received=march,
        urgency_category="physical_violence",
        acknowledged_at=march + 2 * H,
        status="unsubstantiated",
        outcome="unsubstantiated",
        decided_at=march + 8 * D,
    )
    assessed(b, 2 * D)
    # c. assessed on day 2, withdrawn by the child on day 20: no decision of the unit, so
    # no late one.
    c = case_at(
        unit,
        received=march,
        urgency_category="physical_violence",
        acknowledged_at=march + 2 * H,
        status="withdrawn",
        outcome="withdrawn",
        decided_at=march + 20 * D,
    )
    assessed(c, 2 * D)
    # d. standard (acknowledge 72 h), never acknowledged, withdrawn on day 5: the missed
    # acknowledge deadline stays missed.
    case_at(unit, received=march, status="withdrawn", outcome="withdrawn", decided_at=march + 5 * D)
    # e. emergency (acknowledge 1 h), withdrawn after 30 min: nothing was due yet.
    case_at(
        unit,
        received=march,
        in_danger=True,
        status="withdrawn",
        outcome="withdrawn",
        decided_at=march + H / 2,
    )
    # Acknowledged in time: a, b, c of the four with a deadline that counts (d missed it).
    assert trends(unit, UTC)["2026-03"] == (5, 3, "75% (3 of 4)", 2, 0)
