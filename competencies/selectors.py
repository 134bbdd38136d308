"""Reads over training, evaluations and retraining: the unit's capacity-building plan,
the measured impact of training, and training coverage beside the compliance figures.

Staff only, never a child: a case appears by reference at most (and not at all here).
Each function runs a fixed number of queries, whatever the number of staff and cases.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Min
from django.utils.translation import gettext as _

from competencies.models import (
    Competency,
    Evaluation,
    Facet,
    Rating,
    RetrainingAssignment,
    StaffMember,
    TrainingLevel,
    TrainingRecord,
)
from competencies.services import sector_competencies, training_level_for
from oversight.selectors import (
    SMALL_COUNT,
    Cell,
    period_last_days,
    unit_deadlines_and_outcomes,
)
from policies.models import Unit
from policies.selectors import unit_time_zone

LEVEL_ORDER = {level: i for i, level in enumerate(TrainingLevel.values)}

# --- The capacity-building plan ------------------------------------------------------------


class Why:
    UNTRAINED = "untrained"
    BELOW = "below_expectations"
    RETRAINING_DUE = "retraining_due"
    RETRAINING_OVERDUE = "retraining_overdue"

    @staticmethod
    def label(why: str) -> str:
        return {
            Why.UNTRAINED: _("untrained at basic level"),
            Why.BELOW: _("rated below expectations"),
            Why.RETRAINING_DUE: _("retraining due"),
            Why.RETRAINING_OVERDUE: _("retraining overdue"),
        }[why]


@dataclass
class BelowExpectations:
    member: StaffMember
    facets: list[str]  # facet labels, in the facets' order
    levels: list[str]  # proposed training levels (values), lowest first


@dataclass
class CompetencyNeeds:
    competency: Competency
    untrained: list[StaffMember] = field(default_factory=list)
    below: list[BelowExpectations] = field(default_factory=list)
    retraining_due: list[RetrainingAssignment] = field(default_factory=list)
    retraining_overdue: list[RetrainingAssignment] = field(default_factory=list)


@dataclass
class PlanRow:
    """Who needs which level of which competency, why, and by when if known."""

    member: StaffMember
    competency: Competency
    level: str
    reasons: list[str] = field(default_factory=list)  # Why values
    by: date | None = None

    @property
    def level_label(self) -> str:
        return str(TrainingLevel(self.level).label)

    @property
    def reason_labels(self) -> list[str]:
        return [Why.label(r) for r in self.reasons]


@dataclass
class CapacityPlan:
    unit: Unit
    today: date
    staff: int  # active roster members
    competencies: list[CompetencyNeeds]
    rows: list[PlanRow]

    def csv_header(self) -> list[str]:
        return [
            _("Staff member"),
            _("Role"),
            _("Competency"),
            _("Training level"),
            _("Why"),
            _("By"),
        ]

    def csv_rows(self) -> list[list[str]]:
        return [
            [
                r.member.name,
                r.member.role_title,
                str(r.competency),
                r.level_label,
                "; ".join(r.reason_labels),
                r.by.isoformat() if r.by else "",
            ]
            for r in self.rows
        ]


def capacity_plan(*, unit: Unit, today: date) -> CapacityPlan:
    """Per active competency of the unit's sector framework: active roster members with
    no basic-level training record on it; members whose latest rating of any facet of it
    is below expectations (with the level the evaluation proposes, or the level their
    time in service calls for when it proposes none); members with retraining on it
    still assigned, due (due date today or later) or overdue (before today). Then the
    same as one row per person, competency and level, with every reason and the earliest
    due date. Five queries."""
    competencies = list(sector_competencies(unit).order_by("number"))
    by_pk = {c.pk: c for c in competencies}
    members = list(StaffMember.objects.filter(unit=unit, is_active=True).order_by("name", "pk"))
    member_by_pk = {m.pk: m for m in members}
    basic = set(
        TrainingRecord.objects.filter(
            staff_member__unit=unit,
            staff_member__is_active=True,
            competency__in=competencies,
            level=TrainingLevel.BASIC,
        ).values_list("staff_member_id", "competency_id")
    )
    # The latest rating per person, competency and facet: evaluated_on, then entry order.
    latest: dict[tuple[int, int, str], tuple[str, str]] = {}
    for member_id, competency_id, facet, rating, proposed in (
        Evaluation.objects.filter(
            staff_member__unit=unit, staff_member__is_active=True, competency__in=competencies
        )
        .order_by("evaluated_on", "created_at", "pk")
        .values_list("staff_member_id", "competency_id", "facet", "rating", "proposed_level")
    ):
        latest[(member_id, competency_id, facet)] = (rating, proposed)
    below: dict[tuple[int, int], dict[str, str]] = defaultdict(dict)
    for (member_id, competency_id, facet), (rating, proposed) in latest.items():
        if rating == Rating.BELOW_EXPECTATIONS:
            below[(member_id, competency_id)][facet] = proposed
    assigned = list(
        RetrainingAssignment.objects.filter(
            staff_member__unit=unit,
            staff_member__is_active=True,
            competency__in=competencies,
            status=RetrainingAssignment.Status.ASSIGNED,
        ).order_by("due_date", "pk")
    )

    needs = {c.pk: CompetencyNeeds(competency=c) for c in competencies}
    rows: dict[tuple[int, int, str], PlanRow] = {}

    def need(member: StaffMember, competency: Competency, level: str, why: str, by=None):
        row = rows.setdefault(
            (member.pk, competency.pk, level),
            PlanRow(member=member, competency=competency, level=level),
        )
        if why not in row.reasons:
            row.reasons.append(why)
        if by is not None and (row.by is None or by < row.by):
            row.by = by

    for competency in competencies:
        for member in members:
            if (member.pk, competency.pk) not in basic:
                needs[competency.pk].untrained.append(member)
                need(member, competency, TrainingLevel.BASIC, Why.UNTRAINED)
            facets = below.get((member.pk, competency.pk))
            if facets:
                fallback = training_level_for(member, today)
                levels = sorted({p or fallback for p in facets.values()}, key=LEVEL_ORDER.get)
                needs[competency.pk].below.append(
                    BelowExpectations(
                        member=member,
                        facets=[str(f.label) for f in Facet if f.value in facets],
                        levels=levels,
                    )
                )
                for level in levels:
                    need(member, competency, level, Why.BELOW)
    for assignment in assigned:
        member = member_by_pk[assignment.staff_member_id]
        competency = by_pk[assignment.competency_id]
        assignment.staff_member = member
        overdue = assignment.due_date < today
        group = needs[competency.pk]
        (group.retraining_overdue if overdue else group.retraining_due).append(assignment)
        need(
            member,
            competency,
            assignment.training_level,
            Why.RETRAINING_OVERDUE if overdue else Why.RETRAINING_DUE,
            by=assignment.due_date,
        )
    position = {c.pk: i for i, c in enumerate(competencies)}
    ordered = sorted(
        rows.values(),
        key=lambda r: (
            position[r.competency.pk],
            r.by is None,
            r.by or today,
            r.member.name,
            r.member.pk,
            LEVEL_ORDER[r.level],
        ),
    )
    return CapacityPlan(
        unit=unit,
        today=today,
        staff=len(members),
        competencies=[needs[c.pk] for c in competencies],
        rows=ordered,
    )


# --- Measured impact -----------------------------------------------------------------------

# The window impact is measured over, and what a staff-month is.
IMPACT_WINDOW_MONTHS = 24
MONTH_DAYS = 30
IMPACT_WINDOW = timedelta(days=IMPACT_WINDOW_MONTHS * MONTH_DAYS)


@dataclass
class Side:
    """One side of a training date: breaches, staff exposed, staff-months of exposure."""

    breaches: int = 0
    staff: int = 0
    days: int = 0

    @property
    def staff_months(self) -> float:
        return self.days / MONTH_DAYS

    @property
    def rate(self) -> float | None:
        """Breaches per 100 staff-months."""
        if not self.days:
            return None
        return self.breaches / self.staff_months * 100


@dataclass
class CompetencyImpact:
    competency: Competency
    before: Side
    after: Side
    retrained_staff: int  # staff who completed a retraining on it
    repeat_staff: int  # of those, staff with a breach after completing it
    repeat_breaches: int

    @property
    def too_few(self) -> bool:
        """Too few to conclude anything: fewer than SMALL_COUNT staff on either side of
        the training date, or fewer than SMALL_COUNT breaches in all."""
        return (
            self.before.staff < SMALL_COUNT
            or self.after.staff < SMALL_COUNT
            or self.before.breaches + self.after.breaches < SMALL_COUNT
        )

    @property
    def rate_before(self) -> float | None:
        return None if self.too_few else self.before.rate

    @property
    def rate_after(self) -> float | None:
        return None if self.too_few else self.after.rate

    @property
    def repeats_too_few(self) -> bool:
        return self.retrained_staff < SMALL_COUNT


@dataclass
class Impact:
    unit: Unit
    today: date
    window_start: date
    competencies: list[CompetencyImpact]


def impact(*, unit: Unit, today: date) -> Impact:
    """Substantiated breaches per 100 staff-months, before and after training, per
    active competency of the unit's sector framework. Four queries.

    - Window: the last 24 months, counted as 720 days (a month is 30 days) up to today.
    - Staff: the unit's active roster members (the roster does not record when someone
      left, so staff no longer active are left out, with their breaches).
    - Exposure: each member's days in the window from max(window start, in service
      since) to today, split at the date of their first training record on the
      competency, any level: days before it count "before", from it on "after". A member
      never trained on it counts only "before". staff-months = days / 30.
    - Breach: one retraining assignment created from a substantiated complaint (it has
      a case reference; a follow-up after a poor evaluation is the same breach trained
      again and is not counted), dated by its creation in the unit's time zone, in the
      window, before or after by that member's training date on the competency.
    - Rate: breaches / staff-months × 100.
    - Repeat breaches: staff who had a breach of the competency (at any time) after
      completing a retraining on that same competency.
    - Small counts (oversight's SMALL_COUNT): with fewer than 5 staff on either side or
      fewer than 5 breaches in all, the counts are given and no rate: too few to conclude.
    """
    tz = unit_time_zone(unit)
    window_start = today - IMPACT_WINDOW
    competencies = list(sector_competencies(unit).order_by("number"))
    members = list(
        StaffMember.objects.filter(unit=unit, is_active=True).values_list("pk", "in_service_since")
    )
    trained = {
        (r["staff_member_id"], r["competency_id"]): r["first"]
        for r in TrainingRecord.objects.filter(
            staff_member__unit=unit, staff_member__is_active=True, competency__in=competencies
        )
        .values("staff_member_id", "competency_id")
        .annotate(first=Min("completed_on"))
    }
    breaches: dict[tuple[int, int], list[datetime]] = defaultdict(list)
    completed: dict[tuple[int, int], list[datetime]] = defaultdict(list)
    for (
        member_id,
        competency_id,
        reference,
        follow_up_of,
        status,
        created,
        done,
    ) in RetrainingAssignment.objects.filter(
        staff_member__unit=unit, staff_member__is_active=True, competency__in=competencies
    ).values_list(
        "staff_member_id",
        "competency_id",
        "case_reference",
        "follow_up_of_id",
        "status",
        "created_at",
        "completed_at",
    ):
        if reference and follow_up_of is None:
            breaches[(member_id, competency_id)].append(created)
        if status == RetrainingAssignment.Status.COMPLETED and done is not None:
            completed[(member_id, competency_id)].append(done)

    results = []
    for competency in competencies:
        before, after = Side(), Side()
        retrained = repeat_staff = repeat_breaches = 0
        for member_id, since in members:
            key = (member_id, competency.pk)
            start = max(window_start, since) if since else window_start
            split = trained.get(key)
            if start < today:
                if split is None or split >= today:
                    before.days += (today - start).days
                    before.staff += 1
                elif split <= start:
                    after.days += (today - start).days
                    after.staff += 1
                else:
                    before.days += (split - start).days
                    after.days += (today - split).days
                    before.staff += 1
                    after.staff += 1
            for created in breaches.get(key, []):
                day = created.astimezone(tz).date()
                if not window_start <= day <= today:
                    continue
                if split is None or day < split:
                    before.breaches += 1
                else:
                    after.breaches += 1
            if completed.get(key):
                retrained += 1
                first_done = min(completed[key])
                later = [c for c in breaches.get(key, []) if c > first_done]
                if later:
                    repeat_staff += 1
                    repeat_breaches += len(later)
        results.append(
            CompetencyImpact(
                competency=competency,
                before=before,
                after=after,
                retrained_staff=retrained,
                repeat_staff=repeat_staff,
                repeat_breaches=repeat_breaches,
            )
        )
    return Impact(unit=unit, today=today, window_start=window_start, competencies=results)


# --- Training coverage beside the compliance figures ---------------------------------------

COVERAGE_DAYS = 365


@dataclass
class Coverage:
    unit: Unit
    staff: int  # active roster members now
    fully_trained: int  # of them, trained at basic level on every core competency
    staff_a_year_ago: int  # active now and in service a year ago
    fully_trained_a_year_ago: int  # of them, fully trained by then
    ack_met: int
    ack_eligible: int
    res_met: int
    res_eligible: int
    told: int
    decided: int

    # "50% (1 of 2)", as the compliance review writes a share; "—" when there is none.
    @property
    def trained_share(self) -> str:
        return Cell(False).share(self.fully_trained, self.staff)

    @property
    def trained_share_a_year_ago(self) -> str:
        return Cell(False).share(self.fully_trained_a_year_ago, self.staff_a_year_ago)

    @property
    def acknowledged_share(self) -> str:
        return Cell(False).share(self.ack_met, self.ack_eligible)

    @property
    def resolved_share(self) -> str:
        return Cell(False).share(self.res_met, self.res_eligible)

    @property
    def told_share(self) -> str:
        return Cell(False).share(self.told, self.decided)


def training_coverage(*, units: list[Unit], now: datetime) -> list[Coverage]:
    """Per unit, over the last twelve months (365 days to `now`): the share of active
    staff trained at basic level on every active competency of the sector framework,
    today and a year ago (staff active now who were in service then, with training
    completed by then); beside deadlines met and outcomes told for the cases received
    in those twelve months, the compliance review's own figures. Five queries."""
    by_sector: dict[str, set[int]] = defaultdict(set)
    for pk, sector in Competency.objects.filter(
        framework__sector__in={u.sector for u in units}, is_active=True
    ).values_list("pk", "framework__sector"):
        by_sector[sector].add(pk)
    members = list(
        StaffMember.objects.filter(unit__in=units, is_active=True).values_list(
            "pk", "unit_id", "in_service_since"
        )
    )
    first_basic: dict[int, dict[int, date]] = defaultdict(dict)
    for member_id, competency_id, first in (
        TrainingRecord.objects.filter(
            staff_member__unit__in=units, staff_member__is_active=True, level=TrainingLevel.BASIC
        )
        .values("staff_member_id", "competency_id")
        .annotate(first=Min("completed_on"))
        .values_list("staff_member_id", "competency_id", "first")
    ):
        first_basic[member_id][competency_id] = first
    figures = unit_deadlines_and_outcomes(
        units=units, period=period_last_days(COVERAGE_DAYS, now), now=now
    )
    result = []
    for unit in units:
        today = now.astimezone(unit_time_zone(unit)).date()
        year_ago = today - timedelta(days=COVERAGE_DAYS)
        core = by_sector[unit.sector]
        staff = fully = staff_then = fully_then = 0
        for member_id, unit_id, since in members:
            if unit_id != unit.pk:
                continue
            done = first_basic.get(member_id, {})
            staff += 1
            fully += bool(core) and core <= done.keys()
            if since is None or since <= year_ago:
                staff_then += 1
                fully_then += bool(core) and all(c in done and done[c] <= year_ago for c in core)
        result.append(
            Coverage(
                unit=unit,
                staff=staff,
                fully_trained=fully,
                staff_a_year_ago=staff_then,
                fully_trained_a_year_ago=fully_then,
                **figures[unit.pk],
            )
        )
    return result
