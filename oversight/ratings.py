"""Children's ratings of the service, in the compliance review: per unit for the period,
and month by month. Aggregates only, from `ServiceRating` rows that name no case.

The small-count rule holds in every view, a unit manager's own too (not only across
units as for case counts): a unit's month may hold one decided case, and its rating
must not be read beside it. A question with fewer than SMALL_COUNT answers shows
"fewer than 5 answers" and no share. One grouped query per table, whatever the
number of ratings.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from complaints.models import ServiceRating
from complaints.ratings import QUESTIONS
from oversight.selectors import SMALL_COUNT, Period, Table, is_small
from oversight.trends import Month
from policies.models import Unit

Answer = ServiceRating.Answer
NO_SHARE = "—"


def _counts() -> dict:
    """Per question: answers given, and how many said each answer."""
    aggregates = {}
    for name in QUESTIONS:
        aggregates[f"{name}_n"] = Count("id", filter=Q(**{f"{name}__isnull": False}))
        for answer in Answer:
            aggregates[f"{name}_{answer.value}"] = Count("id", filter=Q(**{name: answer.value}))
    return aggregates


def _answers(n: int):
    if is_small(n):
        return _("fewer than %(n)s answers") % {"n": SMALL_COUNT}
    return n


def _share(part: int, n: int) -> str:
    if not n or is_small(n):
        return NO_SHARE
    return _("%(percent)s%%") % {"percent": round(100 * part / n)}


def _period_months(period: Period, tz) -> tuple[date, date]:
    """The months a period touches (ratings are kept by month only): first, last."""
    first = period.start.astimezone(tz).date().replace(day=1)
    last = (period.end - timedelta(microseconds=1)).astimezone(tz).date()
    return first, last


def ratings_by_unit(*, units: list[Unit], period: Period, tz) -> Table:
    """Per unit and question: how many answered, and the share Yes / Partly / No."""
    first, last = _period_months(period, tz)
    rows = {
        r["unit_id"]: r
        for r in ServiceRating.objects.filter(
            unit_id__in=[u.pk for u in units], month__gte=first, month__lte=last
        )
        .values("unit_id")
        .annotate(**_counts())
    }
    table = Table(
        "ratings",
        _("Children's ratings of the service (by month of answer)"),
        [_("Unit"), _("Question"), _("Answers"), *[str(a.label) for a in Answer]],
    )
    for unit in units:
        r = rows.get(unit.pk, {})
        for name, question in QUESTIONS.items():
            n = r.get(f"{name}_n", 0)
            table.rows.append(
                [
                    unit.code,
                    str(question),
                    _answers(n),
                    *[_share(r.get(f"{name}_{a.value}", 0), n) for a in Answer],
                ]
            )
    return table


def ratings_by_month(*, units: list[Unit], months: list[Month]) -> Table:
    """Month by month, the units together: answers and the share "Yes" per question."""
    rows = {
        r["month"]: r
        for r in ServiceRating.objects.filter(
            unit_id__in=[u.pk for u in units],
            month__gte=months[0].first_day,
            month__lte=months[-1].first_day,
        )
        .values("month")
        .annotate(**_counts())
    }
    columns = [_("Month")]
    for question in QUESTIONS.values():
        columns += [
            _("%(question)s: answers") % {"question": question},
            _("%(question)s: yes") % {"question": question},
        ]
    table = Table("ratings_trend", _("Children's ratings, twelve months"), columns)
    for month in months:
        r = rows.get(month.first_day, {})
        row: list = [month.key]
        for name in QUESTIONS:
            n = r.get(f"{name}_n", 0)
            row += [_answers(n), _share(r.get(f"{name}_{Answer.YES.value}", 0), n)]
        table.rows.append(row)
    return table
