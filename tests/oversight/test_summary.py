"""The compliance summary (oversight/summary.py) gives the live figures: after its first
build, and after cases change in every way a case can (saved, updated in bulk, moved,
deleted, filed on a past day, assessed late) and deadlines pass."""

import uuid
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from complaints.models import Case, CaseEvent
from oversight.models import CaseDayFigures, SummaryDirty, SummaryState
from oversight.selectors import Cell, compliance_report, period_between, period_last_days
from oversight.summary import DIMENSIONS, FIGURES, figure_aggregates, review_figures, summary_sweep
from oversight.trends import compliance_trends, month_in, months_ending
from policies.models import Unit


def live(unit_ids, start, end, now, by):
    """The figures aggregated from the cases themselves, nothing summed before."""
    return {
        tuple(r[b] for b in by): {f: r[f] for f in FIGURES}
        for r in Case.objects.filter(
            unit_id__in=unit_ids, received_at__gte=start, received_at__lt=end
        )
        .values(*by)
        .annotate(**figure_aggregates(now))
        .order_by()
        if r["received"]
    }


def summed(unit_ids, start, end, now, by):
    return {
        key[1:]: r
        for key, r in review_figures(
            unit_ids=unit_ids, ranges=[("p", start, end)], now=now, by=by
        ).items()
        if r["received"]
    }


def assert_same_figures(now):
    unit_ids = list(Unit.objects.values_list("pk", flat=True))
    assert CaseDayFigures.objects.exists()  # the summary is read, not bypassed
    for start, end in (
        (now - timedelta(days=90), now),
        (now - timedelta(days=365), now),
        # whole UTC days, and a range ending before today
        (datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)),
        (now - timedelta(days=200, hours=5), now - timedelta(days=20, hours=3)),
    ):
        for by in (("unit_id",), ("unit_id", "urgency"), ("unit_id", *DIMENSIONS)):
            expected = live(unit_ids, start, end, now, by)
            assert expected  # a period with cases
            assert summed(unit_ids, start, end, now, by) == expected


def review_as_seen(units, now, *, cross_unit):
    """Every table and the trends, as a manager or the oversight unit sees them."""
    report = compliance_report(
        units=units, period=period_last_days(365, now), now=now, cross_unit=cross_unit
    )
    tz = timezone.get_current_timezone()
    trends = compliance_trends(
        units=units,
        months=months_ending(month_in(now.date().replace(day=1), tz), tz),
        now=now,
        tz=tz,
        cell=Cell(cross_unit),
    )
    return {k: t.rows for k, t in report["tables"].items()}, report["ack_chart"], trends


@pytest.fixture
def volume(settings):
    """Cases over six units and two years: every status, deadlines met and missed,
    escalations, some past retention."""
    settings.RECOURSE_ENV = "development"
    call_command("seed_demo", stdout=StringIO())
    call_command(
        "seed_volume",
        *("--cases", "600", "--units", "6", "--years", "2", "--expired-share", "0.02"),
        stdout=StringIO(),
    )
    return list(Unit.objects.exclude(sector=Unit.Sector.OVERSIGHT))


@pytest.mark.django_db
def test_summary_equals_live_figures_then_after_changes(volume):
    now = timezone.now()
    # An open case of last week whose deadlines pass in the next two days: its figures
    # change with no write to it.
    waiting = Case.objects.filter(status=Case.Status.INVESTIGATING).first()
    due = now + timedelta(days=1)
    Case.objects.filter(pk=waiting.pk).update(
        received_at=now - timedelta(days=7),
        acknowledged_at=None,
        status=Case.Status.RECEIVED,
        acknowledge_due_at=due,
        next_due_at=due,
        resolve_due_at=due,
    )
    assert not SummaryState.objects.exists()
    across_units = review_as_seen(volume, now, cross_unit=True)
    one_unit = review_as_seen(volume[:1], now, cross_unit=False)
    assert summary_sweep(now=now) > 0  # the first run builds it
    assert_same_figures(now)
    # The pages read the summary and show what they showed from the cases alone.
    assert review_as_seen(volume, now, cross_unit=True) == across_units
    assert review_as_seen(volume[:1], now, cross_unit=False) == one_unit

    # Cases change in every way they can.
    old = Case.objects.filter(received_at__lt=now - timedelta(days=30)).order_by("reference")
    first, second, third, fourth = old[:4]
    Case.objects.filter(pk=first.pk).update(
        status=Case.Status.CLOSED, outcome=Case.Status.SUBSTANTIATED, decided_at=F("received_at")
    )
    second.escalation_level = 2
    second.save(update_fields=["escalation_level"])
    Case.objects.filter(pk=third.pk).update(
        unit=volume[-1], received_at=third.received_at - timedelta(days=40)
    )
    fourth.delete()
    opened = Case.objects.filter(
        status=Case.Status.ACKNOWLEDGED, received_at__lt=now - timedelta(days=2)
    ).first()
    CaseEvent.objects.create(
        case=opened,
        at=opened.assess_due_at + timedelta(hours=1),
        from_status=Case.Status.ACKNOWLEDGED,
        to_status=Case.Status.ASSESSING,
        reason="Assessed late.",
    )
    # Cases filed on past days (a paper complaint entered later), one by one and in bulk.
    _copy(second, "ZZZZZZZZ", received_at=second.received_at - timedelta(days=100)).save()
    Case.objects.bulk_create([_copy(first, "ZZZZZZZY", received_at=now - timedelta(days=75))])
    assert SummaryDirty.objects.exists()

    # Two days on: deadlines of undecided cases pass without any case changing.
    later = now + timedelta(days=2)
    summary_sweep(now=later)
    assert not SummaryDirty.objects.exists()
    assert_same_figures(later)


@pytest.mark.django_db
def test_review_reads_live_figures_until_the_summary_is_built(volume):
    now = timezone.now()
    period = period_between(now.date() - timedelta(days=120), now.date(), UTC)
    first = review_figures(
        unit_ids=[u.pk for u in volume], ranges=[("p", period.start, period.end)], now=now, by=()
    )
    assert not CaseDayFigures.objects.exists() and first[("p",)]["received"]
    summary_sweep(now=now)
    assert CaseDayFigures.objects.exists()
    assert (
        review_figures(
            unit_ids=[u.pk for u in volume],
            ranges=[("p", period.start, period.end)],
            now=now,
            by=(),
        )
        == first
    )


def _copy(case: Case, reference: str, **changes) -> Case:
    case = Case.objects.get(pk=case.pk)
    fields = {f.attname: getattr(case, f.attname) for f in Case._meta.concrete_fields}
    fields.update(id=uuid.uuid4(), reference=reference, **changes)
    return Case(**fields)
