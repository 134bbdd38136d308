"""Compliance review: database aggregates over case metadata, never content.

Every figure comes from a fixed set of grouped queries over all units in scope, so
the number of queries does not grow with cases or units. Cross-unit views (oversight
staff) show counts from 1 to 4 as "<5", and no share, median or percentile computed
from them (`is_small`, the one small-count rule).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Q
from django.db.models.functions import Extract
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from competencies.models import RetrainingAssignment
from complaints.models import Case

# The figures' definitions live with the summary that keeps them (oversight/summary.py).
from oversight.summary import ESCALATED, overdue_now, review_figures
from policies.models import ChildProtectionPolicy, Membership, Unit, Urgency
from policies.selectors import unit_time_zone
from policies.services import policy_problems

# Counts from 1 to SMALL_COUNT - 1 could single out a child in a view across units.
SMALL_COUNT = 5
URGENCIES = [str(u) for u in Urgency.values]
AGE_BUCKETS = [
    (gettext_noop("under 7 days"), 0, 7),
    (gettext_noop("7 to 30 days"), 7, 30),
    (gettext_noop("30 to 90 days"), 30, 90),
    (gettext_noop("over 90 days"), 90, None),
]
# A review's decisions (upheld, changed) are counted in the reviews table, not here.
OUTCOMES = [str(s) for s in Case.DECIDED_STATUSES if s not in Case.REVIEW_OUTCOMES]
STALE_DRAFT = timedelta(days=30)


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)


@dataclass
class Period:
    start: datetime
    end: datetime
    label: str
    # A range of whole days (a custom period): its first and last day, inclusive.
    first_day: date | None = None
    last_day: date | None = None


@dataclass(frozen=True)
class Linked:
    """A figure that leads to the list behind it; prints (and exports) as the figure."""

    value: object
    href: str

    def __str__(self) -> str:
        return str(self.value)


def is_small(n: int) -> bool:
    """The small-count rule: 1 to 4 cases could be recognised (none gives nothing away)."""
    return 0 < n < SMALL_COUNT


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate, for medians and 90th percentiles."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=fraction, **extra)


def compliance_scope(user) -> tuple[list[Unit], bool]:
    """(units, cross_unit). Staff of an oversight unit review every unit; a manager
    reviews the units they manage."""
    memberships = Membership.objects.filter(user=user, is_active=True).select_related("unit")
    if any(m.unit.sector == Unit.Sector.OVERSIGHT for m in memberships):
        return list(Unit.objects.filter(is_active=True).exclude(sector=Unit.Sector.OVERSIGHT)), True
    managed = [m.unit for m in memberships if m.role == Membership.Role.MANAGER]
    return sorted(managed, key=lambda u: u.name), False


def period_last_days(days: int, now: datetime) -> Period:
    return Period(
        start=now - timedelta(days=days), end=now, label=_("last %(days)s days") % {"days": days}
    )


def period_between(start: date, end: date, tz) -> Period:
    """Whole days from `start` to `end` inclusive, in the time zone `tz`."""
    return Period(
        start=datetime.combine(start, datetime.min.time(), tz),
        end=datetime.combine(end + timedelta(days=1), datetime.min.time(), tz),
        label=_("%(start)s to %(end)s") % {"start": start.isoformat(), "end": end.isoformat()},
        first_day=start,
        last_day=end,
    )


def review_time_zone(units: list[Unit]):
    """The units' own zone when they share one; otherwise the site's."""
    zones = {u.time_zone for u in units}
    if len(zones) == 1:
        return unit_time_zone(units[0])
    return timezone.get_current_timezone()


class Cell:
    """Formats counts and shares, hiding small counts in cross-unit views."""

    def __init__(self, cross_unit: bool):
        self.cross_unit = cross_unit

    def count(self, n: int):
        return f"<{SMALL_COUNT}" if self.cross_unit and is_small(n) else n

    def share_hidden(self, part: int, whole: int) -> bool:
        return not whole or (self.cross_unit and (is_small(part) or is_small(whole - part)))

    def share(self, part: int, whole: int):
        """ "50% (1 of 2)": a share always shows what it is a share of."""
        if self.share_hidden(part, whole):
            return "—"
        return _("%(percent)s%% (%(part)s of %(whole)s)") % {
            "percent": round(100 * part / whole),
            "part": part,
            "whole": whole,
        }

    def statistic(self, value: float | None, n: int):
        """A median or percentile of n cases: hidden where n itself would be."""
        if value is None or (self.cross_unit and is_small(n)):
            return "—"
        return round(value, 1)


def _percentiles(cases) -> dict[int, tuple[float | None, float | None, int]]:
    """Hours from receipt to acknowledgement per unit: (median, 90th percentile, cases)."""
    acknowledged = cases.filter(acknowledged_at__isnull=False)
    if connection.vendor == "postgresql":
        seconds = Extract(F("acknowledged_at") - F("received_at"), "epoch")
        rows = acknowledged.values("unit_id").annotate(
            # COUNT(*): case_acknowledged_received_idx answers alone (no id in it).
            p50=PercentileCont(seconds, 0.5),
            p90=PercentileCont(seconds, 0.9),
            n=Count("*"),
        )
        return {r["unit_id"]: (r["p50"] / 3600, r["p90"] / 3600, r["n"]) for r in rows}
    # SQLite (development) has no ordered-set aggregates: one query, computed here.
    durations = defaultdict(list)
    for unit_id, received, acknowledged_at in acknowledged.values_list(
        "unit_id", "received_at", "acknowledged_at"
    ):
        durations[unit_id].append((acknowledged_at - received).total_seconds() / 3600)
    return {uid: (_quantile(v, 0.5), _quantile(v, 0.9), len(v)) for uid, v in durations.items()}


def _quantile(values: list[float], q: float) -> float | None:
    """Linear interpolation, as PERCENTILE_CONT."""
    if not values:
        return None
    values = sorted(values)
    position = (len(values) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return values[low] + (values[high] - values[low]) * (position - low)


@dataclass(frozen=True)
class _Review:
    """What every table of one review is computed over."""

    units: list[Unit]
    period: Period
    now: datetime
    cell: Cell

    @property
    def unit_ids(self) -> list[int]:
        return [u.pk for u in self.units]

    def cases_received(self):
        """The units' cases received in the period (a queryset: each table runs its own
        grouped query over it)."""
        return Case.objects.filter(
            unit_id__in=self.unit_ids,
            received_at__gte=self.period.start,
            received_at__lt=self.period.end,
        )

    def retraining_assigned(self):
        """Retraining assigned to the units' staff in the period."""
        return RetrainingAssignment.objects.filter(
            staff_member__unit_id__in=self.unit_ids,
            created_at__gte=self.period.start,
            created_at__lt=self.period.end,
        )


def compliance_report(
    *, units: list[Unit], period: Period, now: datetime, cross_unit: bool
) -> dict:
    """Every table of the review. In a view of the person's own units (not cross-unit),
    the overdue and escalated counts link to the list of those cases."""
    cell = Cell(cross_unit)
    review = _Review(units=units, period=period, now=now, cell=cell)
    deadlines_met = _deadlines_met(review)
    tables = {
        "deadlines": _deadlines_table(review, deadlines_met),
        "time_to_acknowledge": _time_to_acknowledge_table(review),
        "open_cases": _open_cases_table(review),
        "outcomes": _outcomes_table(review),
        "reviews": _reviews_table(review),
        "mix": _mix_table(review),
        "retraining": _retraining_table(review),
        "breaches": _breaches_table(review),
        "repeated": _repeated_table(review),
        "policy_health": _policy_health(units, now),
    }
    chart = _ack_chart(units, deadlines_met)
    return {"tables": tables, "ack_chart": chart, "heat": tables["breaches"], "cell": cell}


def _deadlines_met(review: _Review) -> dict[tuple[int, str], dict]:
    """Per (unit, urgency): cases, and how many met each deadline out of how many it
    counts for (oversight.summary.figure_aggregates). Acknowledge: the cases whose
    deadline counts (`ack_due`). Resolve: a withdrawn case was not resolved by the unit,
    so it is on neither side."""
    figures = review_figures(
        unit_ids=review.unit_ids,
        ranges=[("", review.period.start, review.period.end)],
        now=review.now,
        by=("unit_id", "urgency"),
    )
    return {
        (unit_id, urgency): {**r, "total": r["received"]}
        for (_key, unit_id, urgency), r in figures.items()
    }


def _deadlines_table(review: _Review, deadlines_met: dict[tuple[int, str], dict]) -> Table:
    cell = review.cell
    table = Table(
        "deadlines",
        _("Deadlines met, by urgency"),
        [
            _("Unit"),
            _("Urgency"),
            _("Cases"),
            _("Acknowledged in time"),
            _("Share"),
            _("Resolved in time"),
            _("Share"),
        ],
    )
    for unit in review.units:
        for urgency in URGENCIES:
            r = deadlines_met.get((unit.pk, urgency))
            if not r:
                continue
            table.rows.append(
                [
                    unit.code,
                    urgency,
                    cell.count(r["total"]),
                    cell.count(r["ack_met"]),
                    cell.share(r["ack_met"], r["ack_eligible"]),
                    cell.count(r["res_met"]),
                    cell.share(r["res_met"], r["res_eligible"]),
                ]
            )
    return table


def _ack_chart(
    units: list[Unit], deadlines_met: dict[tuple[int, str], dict]
) -> list[tuple[str, int, int]]:
    """(urgency, acknowledged in time, acknowledge deadlines that count), over all units."""
    totals = defaultdict(lambda: defaultdict(int))
    for unit in units:
        for urgency in URGENCIES:
            r = deadlines_met.get((unit.pk, urgency))
            if not r:
                continue
            for key in ("ack_met", "ack_eligible"):
                totals[urgency][key] += r[key]
    return [(u, totals[u]["ack_met"], totals[u]["ack_eligible"]) for u in URGENCIES]


def _time_to_acknowledge_table(review: _Review) -> Table:
    cell = review.cell
    percentiles = _percentiles(review.cases_received())
    table = Table(
        "time_to_acknowledge",
        _("Time to acknowledge (hours)"),
        [_("Unit"), _("Cases acknowledged"), _("Median"), _("90th percentile")],
    )
    for unit in review.units:
        p50, p90, n = percentiles.get(unit.pk, (None, None, 0))
        table.rows.append(
            [unit.code, cell.count(n), cell.statistic(p50, n), cell.statistic(p90, n)]
        )
    return table


def _open_case_counts(review: _Review) -> dict[int, dict]:
    """Per unit, the cases open now: in all, by age, overdue, escalated."""
    open_cases = Case.objects.filter(unit_id__in=review.unit_ids, status__in=Case.OPEN_STATUSES)
    age = {
        f"age_{i}": Count("id", filter=_age_filter(review.now, low, high))
        for i, (_label, low, high) in enumerate(AGE_BUCKETS)
    }
    return {
        r["unit_id"]: r
        for r in open_cases.values("unit_id").annotate(
            total=Count("id"),
            overdue=Count("id", filter=overdue_now(review.now)),
            escalated=Count("id", filter=ESCALATED),
            **age,
        )
    }


def _open_cases_table(review: _Review) -> Table:
    cell = review.cell
    open_counts = _open_case_counts(review)
    table = Table(
        "open_cases",
        _("Open cases now"),
        [
            _("Unit"),
            _("Open"),
            *[_(label) for label, *_bounds in AGE_BUCKETS],
            _("Overdue"),
            _("Escalated"),
        ],
    )
    for unit in review.units:
        r = open_counts.get(unit.pk, {})
        table.rows.append(
            [
                unit.code,
                cell.count(r.get("total", 0)),
                *[cell.count(r.get(f"age_{i}", 0)) for i in range(len(AGE_BUCKETS))],
                _drill_down(cell, unit, "overdue", r.get("overdue", 0)),
                _drill_down(cell, unit, "escalated", r.get("escalated", 0)),
            ]
        )
    return table


def _outcome_counts(review: _Review) -> dict[int, dict]:
    """Per unit: cases decided, each outcome, and children told the decision. The child
    withdrawing is no decision of the unit: counted in its own column, not as decided,
    nor in the share of children told a decision."""
    figures = review_figures(
        unit_ids=review.unit_ids,
        ranges=[("", review.period.start, review.period.end)],
        now=review.now,
        by=("unit_id",),
    )
    return {unit_id: r for (_key, unit_id), r in figures.items()}


def _outcomes_table(review: _Review) -> Table:
    """Outcomes, substantiation rate, child told."""
    cell = review.cell
    outcome_counts = _outcome_counts(review)
    table = Table(
        "outcomes",
        _("Outcomes"),
        [
            _("Unit"),
            _("Decided"),
            *[o.capitalize() for o in OUTCOMES],
            _("Substantiation rate"),
            _("Child told the outcome"),
        ],
    )
    for unit in review.units:
        r = outcome_counts.get(unit.pk, {})
        sub, unsub = r.get("substantiated", 0), r.get("unsubstantiated", 0)
        table.rows.append(
            [
                unit.code,
                cell.count(r.get("decided", 0)),
                *[cell.count(r.get(o, 0)) for o in OUTCOMES],
                cell.share(sub, sub + unsub),
                cell.share(r.get("told", 0), r.get("decided", 0)),
            ]
        )
    return table


def _review_counts(review: _Review) -> dict[int, dict]:
    """Per unit complained about: reviews the children asked for in the period (the
    review's received date), and what the oversight unit decided. One grouped query."""
    reviews = Case.objects.filter(
        review_of__unit_id__in=review.unit_ids,
        received_at__gte=review.period.start,
        received_at__lt=review.period.end,
    )
    return {
        r["review_of__unit_id"]: r
        for r in reviews.values("review_of__unit_id").annotate(
            requested=Count("id"),
            upheld=Count("id", filter=Q(outcome=Case.Status.UPHELD)),
            changed=Count("id", filter=Q(outcome=Case.Status.CHANGED)),
            withdrawn=Count("id", filter=Q(outcome=Case.Status.WITHDRAWN)),
            pending=Count("id", filter=Q(outcome="")),
        )
    }


def _reviews_table(review: _Review) -> Table:
    """Reviews asked of the oversight unit, per unit whose decision was contested, and
    how often the decision was changed."""
    cell = review.cell
    counts = _review_counts(review)
    table = Table(
        "reviews",
        _("Reviews the children asked for"),
        [
            _("Unit"),
            _("Reviews asked"),
            _("Decision upheld"),
            _("Decision changed"),
            _("Withdrawn"),
            _("Not decided yet"),
            _("Share changed"),
        ],
    )
    for unit in review.units:
        r = counts.get(unit.pk, {})
        upheld, changed = r.get("upheld", 0), r.get("changed", 0)
        table.rows.append(
            [
                unit.code,
                cell.count(r.get("requested", 0)),
                cell.count(upheld),
                cell.count(changed),
                cell.count(r.get("withdrawn", 0)),
                cell.count(r.get("pending", 0)),
                cell.share(changed, upheld + changed),
            ]
        )
    return table


def _mix_table(review: _Review) -> Table:
    """Channel and language mix."""
    codes = {u.pk: u.code for u in review.units}
    table = Table(
        "mix", _("Channel and language"), [_("Unit"), _("Channel"), _("Language"), _("Cases")]
    )
    figures = review_figures(
        unit_ids=review.unit_ids,
        ranges=[("", review.period.start, review.period.end)],
        now=review.now,
        by=("unit_id", "channel", "language"),
    )
    for (_key, unit_id, channel, language), r in sorted(figures.items()):
        if r["received"]:
            table.rows.append([codes[unit_id], channel, language, review.cell.count(r["received"])])
    return table


def _retraining_table(review: _Review) -> Table:
    cell = review.cell
    today = timezone.localdate(review.now)
    retraining_counts = {
        r["staff_member__unit_id"]: r
        for r in review.retraining_assigned()
        .values("staff_member__unit_id")
        .annotate(
            assigned=Count("id"),
            completed=Count("id", filter=Q(status="completed")),
            overdue=Count("id", filter=Q(status="assigned", due_date__lt=today)),
        )
    }
    table = Table(
        "retraining", _("Retraining"), [_("Unit"), _("Assigned"), _("Completed"), _("Overdue")]
    )
    for unit in review.units:
        r = retraining_counts.get(unit.pk, {})
        table.rows.append(
            [
                unit.code,
                cell.count(r.get("assigned", 0)),
                cell.count(r.get("completed", 0)),
                cell.count(r.get("overdue", 0)),
            ]
        )
    return table


def _breaches_table(review: _Review) -> Table:
    """Breached competencies, competency × unit. A breach is one first assignment; a
    follow-up after a poor evaluation is the same breach trained again, so it is not
    counted twice."""
    heat = defaultdict(int)
    competencies = {}
    for r in (
        review.retraining_assigned()
        .filter(follow_up_of__isnull=True)
        .values(
            "competency_id",
            "competency__number",
            "competency__framework__sector",
            "competency_title",
            "staff_member__unit_id",
        )
        .annotate(n=Count("id"))
    ):
        key = (r["competency__framework__sector"], r["competency__number"])
        competencies[key] = f"{r['competency__number']}. {r['competency_title']}"
        heat[(key, r["staff_member__unit_id"])] += r["n"]
    table = Table(
        "breaches",
        _("Breached competencies (competency × unit)"),
        [_("Competency"), *[u.code for u in review.units]],
    )
    for key in sorted(competencies):
        table.rows.append(
            [
                competencies[key],
                *[review.cell.count(heat.get((key, u.pk), 0)) for u in review.units],
            ]
        )
    return table


def _repeated_table(review: _Review) -> Table:
    """Staff retrained for two or more cases, at any time (not only in the period)."""
    repeated = (
        RetrainingAssignment.objects.filter(staff_member__unit_id__in=review.unit_ids)
        .values("staff_member_id", "staff_member__name", "staff_member__unit__code")
        .annotate(cases=Count("case_reference", distinct=True))
        .filter(cases__gte=2)
        .order_by("-cases", "staff_member__name")
    )
    table = Table(
        "repeated",
        _("Staff with two or more substantiated complaints"),
        [_("Staff member"), _("Unit"), _("Substantiated complaints")],
    )
    for r in repeated:
        table.rows.append(
            [r["staff_member__name"], r["staff_member__unit__code"], review.cell.count(r["cases"])]
        )
    return table


DRILL_DOWNS = {"overdue": overdue_now, "escalated": lambda now: ESCALATED}


def compliance_cases(*, unit: Unit, kind: str, now: datetime):
    """The open cases behind an overdue or escalated count: metadata only, the columns
    a list needs and nothing else (no narrative is stored in clear anyway)."""
    return (
        Case.objects.filter(DRILL_DOWNS[kind](now), unit=unit, status__in=Case.OPEN_STATUSES)
        .order_by("received_at")
        .only(
            "id",
            "reference",
            "category",
            "urgency",
            "status",
            "received_at",
            "acknowledged_at",
            "acknowledge_due_at",
            "resolve_due_at",
            "next_due_at",
            "escalation_level",
        )
    )


def _age_filter(now, low_days, high_days) -> Q:
    q = Q(received_at__lte=now - timedelta(days=low_days))
    if high_days is not None:
        q &= Q(received_at__gt=now - timedelta(days=high_days))
    return q


def _drill_down(cell: Cell, unit: Unit, kind: str, n: int):
    """Own units only: a list across units would undo the small-count rule."""
    if cell.cross_unit or not n:
        return cell.count(n)
    return Linked(n, reverse("oversight:cases", args=[unit.code, kind]))


def _policy_health(units: list[Unit], now: datetime) -> Table:
    """The unit's current policy and roster, checked as publishing would check them."""
    unit_ids = [u.pk for u in units]
    policies = defaultdict(list)
    for policy in ChildProtectionPolicy.objects.filter(unit_id__in=unit_ids).select_related("unit"):
        policies[policy.unit_id].append(policy)
    focal = defaultdict(lambda: {"primary": 0, "backup": 0})
    for r in (
        Membership.objects.filter(
            unit_id__in=unit_ids,
            role=Membership.Role.FOCAL_POINT,
            is_active=True,
            user__is_active=True,
        )
        .values("unit_id", "is_backup")
        .annotate(n=Count("id"))
    ):
        focal[r["unit_id"]]["backup" if r["is_backup"] else "primary"] += r["n"]
    table = Table(
        "policy_health", _("Policy health"), [_("Unit"), _("Policy version"), _("Problems")]
    )
    for unit in units:
        versions = policies.get(unit.pk, [])
        published = max(
            (p for p in versions if p.published_at), key=lambda p: p.version, default=None
        )
        problems = _policy_problems(versions, published, focal[unit.pk], now)
        table.rows.append(
            [unit.code, published.version if published else "—", "; ".join(problems) or _("OK")]
        )
    return table


def _policy_problems(
    versions: list[ChildProtectionPolicy],
    published: ChildProtectionPolicy | None,
    focal_points: dict[str, int],
    now: datetime,
) -> list[str]:
    """One unit's problems: its roster of focal points, its published policy (as
    publishing checks it, staff aside) and any draft left lying."""
    problems = []
    if not focal_points["primary"]:
        problems.append(_("no active focal point"))
    if not focal_points["backup"]:
        problems.append(_("no backup focal point"))
    if published is None:
        problems.append(_("no published policy"))
    else:
        problems += [p.rstrip(".").lower() for p in policy_problems(published, check_staff=False)]
    if any(not p.published_at and now - p.created_at > STALE_DRAFT for p in versions):
        problems.append(_("stale draft (over 30 days)"))
    return problems


FIGURE_KEYS = ("ack_met", "ack_eligible", "res_met", "res_eligible", "told", "decided")


def unit_deadlines_and_outcomes(
    *, units: list[Unit], period: Period, now: datetime
) -> dict[int, dict[str, int]]:
    """Per unit, the review's own figures for the cases received in the period, summed
    over urgencies: acknowledge and resolve deadlines met out of those that count, and
    children told a decision out of the unit's decisions. Raw counts, for a page that
    sets them beside its own figures (competencies' training coverage). Two queries."""
    review = _Review(units=units, period=period, now=now, cell=Cell(False))
    figures = {u.pk: dict.fromkeys(FIGURE_KEYS, 0) for u in units}
    for (unit_id, _urgency), r in _deadlines_met(review).items():
        for key in ("ack_met", "ack_eligible", "res_met", "res_eligible"):
            figures[unit_id][key] += r[key]
    for unit_id, r in _outcome_counts(review).items():
        figures[unit_id]["told"] = r["told"]
        figures[unit_id]["decided"] = r["decided"]
    return figures
