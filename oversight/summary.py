"""The compliance review's summary (oversight.models.CaseDayFigures): kept by the minute
sweep, read with live figures beside it.

A review period is cut into whole UTC days before today, read from the summary, and the
rest (the period's ragged edges, today), aggregated live from the cases. Both sides
compute the same `figure_aggregates`, so a summed day equals the live one; a test
checks it. A day is summed again when one of its cases changes (database triggers
write SummaryDirty) or when one of its undecided cases passes a deadline since the
last run (the figures that depend on the time: a deadline counts once passed).

The summary is as fresh as the sweep's last run: a case changed in the last minute
may not be in its day's figures yet. Until it is first built, every figure is live.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import models, transaction
from django.db.models import CharField, Count, Exists, F, OuterRef, Q, Sum, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from complaints.models import Case, CaseEvent
from oversight.models import CaseDayFigures, SummaryDirty, SummaryState

# The summary's dimensions beside the unit and the day.
DIMENSIONS = ("urgency", "channel", "language")
# Days summed again per statement (the rest in the next statement of the same run).
DAYS_PER_STATEMENT = 200
# A first build goes through the cases this many days at a time.
BUILD_DAYS = 31
ACK_MET = Q(acknowledged_at__lte=F("acknowledge_due_at"))
ESCALATED = Q(escalation_level__gt=0)
# Outcome is kept once the case closes (its status then says "closed").
WITHDRAWN = Q(outcome=Case.Status.WITHDRAWN)


def ack_due(now: datetime) -> Q:
    """Cases whose acknowledge deadline counts: acknowledged (in time or not), or past
    the deadline unacknowledged, while still open or before the child withdrew. A
    withdrawal does not erase a deadline already missed, nor miss one not yet due."""
    return Q(acknowledge_due_at__isnull=False) & (
        Q(acknowledged_at__isnull=False)
        | Q(decided_at__isnull=True, acknowledge_due_at__lt=now)
        | Q(acknowledge_due_at__lt=F("decided_at"))
    )


def overdue_now(now: datetime) -> Q:
    """An open case past the deadline of the step it is at (acknowledge, assess or
    resolve: `Case.current_next_due()`, kept in `next_due_at`), exactly as the focal
    point's "overdue" queue filter and the escalation sweep read it. Apply it to open
    cases: a decided case has no next deadline."""
    return Q(status__in=Case.OPEN_STATUSES, next_due_at__lt=now)


def _assessed_late():
    """The case left "acknowledged" (the step the assess deadline is for) after that
    deadline: assessed late, or withdrawn with the deadline already missed. A case still
    acknowledged past it is open past its next deadline (`overdue_now`)."""
    return CaseEvent.objects.filter(
        case=OuterRef("pk"), from_status=Case.Status.ACKNOWLEDGED, at__gt=OuterRef("assess_due_at")
    )


def figure_aggregates(now: datetime) -> dict:
    """Every additive figure of the review over a set of cases, at `now`: the one
    definition the summary and the live side share."""
    decided = ~Q(outcome="") & ~WITHDRAWN
    late = (
        Q(acknowledged_at__gt=F("acknowledge_due_at"))
        # Withdrawn unacknowledged, after the acknowledge deadline had passed.
        | Q(acknowledged_at__isnull=True, acknowledge_due_at__lt=F("decided_at"))
        | Q(Exists(_assessed_late()))
        # A withdrawal is no decision: only the unit's own decision can be late.
        | (Q(decided_at__gt=F("resolve_due_at")) & ~WITHDRAWN)
        | overdue_now(now)
    )
    res_eligible = Q(decided_at__isnull=False) | Q(resolve_due_at__lt=now)
    return {
        "received": Count("id"),
        "ack_eligible": Count("id", filter=ack_due(now)),
        "ack_met": Count("id", filter=ACK_MET),
        "res_eligible": Count(
            "id", filter=res_eligible & Q(resolve_due_at__isnull=False) & ~WITHDRAWN
        ),
        "res_met": Count("id", filter=Q(decided_at__lte=F("resolve_due_at")) & ~WITHDRAWN),
        "decided": Count("id", filter=decided),
        "told": Count("id", filter=decided & Q(outcome_told_at__isnull=False)),
        **{
            o: Count("id", filter=Q(outcome=o))
            for o in ("substantiated", "unsubstantiated", "referred", "withdrawn")
        },
        "late": Count("id", filter=late),
        "escalated": Count("id", filter=ESCALATED),
    }


FIGURES = tuple(figure_aggregates(timezone.now()))


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


def _utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


@dataclass(frozen=True)
class _Split:
    """One range of a review cut in two: whole summed days, and live instants."""

    key: str
    days: tuple[date, date] | None  # first and last day, inclusive
    live: list[tuple[datetime, datetime]]


def _split(key: str, start: datetime, end: datetime, summed_until: date) -> _Split:
    """[start, end) as whole UTC days before `summed_until` and the live rest."""
    first = _utc_day(start)
    if _day_start(first) < start:
        first += timedelta(days=1)
    last = min(_utc_day(end), summed_until)  # exclusive
    if first >= last:
        return _Split(key, None, [(start, end)])
    live = []
    if start < _day_start(first):
        live.append((start, _day_start(first)))
    if _day_start(last) < end:
        live.append((_day_start(last), end))
    return _Split(key, (first, last - timedelta(days=1)), live)


def review_figures(
    *, unit_ids: list[int], ranges: list[tuple[str, datetime, datetime]], now: datetime, by
) -> dict[tuple, dict[str, int]]:
    """The review's figures for the cases the units received in each range, grouped by
    (range key, *by): `by` names Case fields among unit_id and DIMENSIONS. Two queries
    (one when the summary was never built), whatever the number of cases or days."""
    by = tuple(by)
    state = SummaryState.objects.filter(built_at__isnull=False).first()
    today = _utc_day(now)
    splits = [_split(key, start, end, today if state else date.min) for key, start, end in ranges]
    totals: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    summed = [s for s in splits if s.days]
    if summed:
        rows = (
            CaseDayFigures.objects.filter(unit_id__in=unit_ids)
            .filter(_any_of(Q(day__range=s.days) for s in summed))
            .annotate(range_key=_keyed(When(day__range=s.days, then=Value(s.key)) for s in summed))
            .values("range_key", *by)
            .annotate(**{f: Sum(f) for f in FIGURES})
        )
        _add(totals, rows, by)
    pieces = [(s.key, lo, hi) for s in splits for lo, hi in s.live]
    if pieces:
        rows = (
            Case.objects.filter(unit_id__in=unit_ids)
            .filter(_any_of(Q(received_at__gte=lo, received_at__lt=hi) for _k, lo, hi in pieces))
            .annotate(
                range_key=_keyed(
                    When(received_at__gte=lo, received_at__lt=hi, then=Value(k))
                    for k, lo, hi in pieces
                )
            )
            .values("range_key", *by)
            .annotate(**figure_aggregates(now))
            .order_by()
        )
        _add(totals, rows, by)
    return dict(totals)


def _any_of(conditions) -> Q:
    combined = Q(pk__in=[])
    for condition in conditions:
        combined |= condition
    return combined


def _keyed(whens) -> models.Case:
    """Which range a row falls in, as its key."""
    return models.Case(*whens, default=Value(""), output_field=CharField())


def _add(totals, rows, by) -> None:
    for r in rows:
        figures = totals[(r["range_key"], *(r[b] for b in by))]
        for f in FIGURES:
            figures[f] += r[f] or 0


# --- Keeping it -------------------------------------------------------------------------


def summary_sweep(*, now: datetime | None = None) -> int:
    """The minute sweep: the first run builds the summary; the next ones sum again the
    days whose cases changed or passed a deadline since the run before. One run at a
    time (the state row is locked). Returns the days summed."""
    now = now or timezone.now()
    with transaction.atomic():
        state, _created = SummaryState.objects.select_for_update().get_or_create(pk=1)
        if state.built_at is None:
            days = _build(now)
            state.built_at = now
        else:
            days = _sum_changed_days(since=state.swept_at, now=now)
        state.swept_at = now
        state.save()
    return days


def _build(now: datetime) -> int:
    """Every day from the first case received to now, BUILD_DAYS at a time."""
    SummaryDirty.objects.all().delete()
    CaseDayFigures.objects.all().delete()
    first = Case.objects.order_by("received_at").values_list("received_at", flat=True).first()
    if first is None:
        return 0
    day, count = _utc_day(first), 0
    while day <= _utc_day(now):
        until = day + timedelta(days=BUILD_DAYS)
        count += _store(
            Case.objects.filter(
                received_at__gte=_day_start(day), received_at__lt=_day_start(until)
            ),
            now,
        )
        day = until
    return count


def _sum_changed_days(*, since: datetime, now: datetime) -> int:
    """The days of cases changed (SummaryDirty) or of undecided cases one of whose
    deadlines passed in (since, now]."""
    newest = SummaryDirty.objects.order_by("-pk").values_list("pk", flat=True).first()
    pairs = set()
    if newest is not None:
        pairs |= set(SummaryDirty.objects.filter(pk__lte=newest).values_list("unit_id", "day"))
    passed = (
        Q(decided_at__isnull=True, acknowledge_due_at__gt=since, acknowledge_due_at__lte=now)
        | Q(decided_at__isnull=True, resolve_due_at__gt=since, resolve_due_at__lte=now)
        # Only open cases have a next deadline (case_open_next_due_idx).
        | Q(status__in=Case.OPEN_STATUSES, next_due_at__gt=since, next_due_at__lte=now)
    )
    pairs |= {
        (unit_id, _utc_day(received))
        for unit_id, received in Case.objects.filter(passed).values_list("unit_id", "received_at")
    }
    ordered = sorted(pairs)
    for i in range(0, len(ordered), DAYS_PER_STATEMENT):
        chunk = ordered[i : i + DAYS_PER_STATEMENT]
        CaseDayFigures.objects.filter(
            _any_of(Q(unit_id=unit_id, day=day) for unit_id, day in chunk)
        ).delete()
        _store(
            Case.objects.filter(
                _any_of(
                    Q(
                        unit_id=unit_id,
                        received_at__gte=_day_start(day),
                        received_at__lt=_day_start(day + timedelta(days=1)),
                    )
                    for unit_id, day in chunk
                )
            ),
            now,
        )
    if newest is not None:
        SummaryDirty.objects.filter(pk__lte=newest).delete()
    return len(ordered)


def _store(cases, now: datetime) -> int:
    """The figures of these cases, per unit, UTC day and dimensions, as new rows."""
    rows = (
        cases.annotate(day=TruncDate("received_at", tzinfo=UTC))
        .values("unit_id", "day", *DIMENSIONS)
        .annotate(**figure_aggregates(now))
        .order_by()
    )
    made = CaseDayFigures.objects.bulk_create([CaseDayFigures(**r) for r in rows], batch_size=2000)
    return len({(f.unit_id, f.day) for f in made})
