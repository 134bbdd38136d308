"""Month by month: the twelve-month trends and the monthly report's period.

Months are the unit's local months (`Unit.time_zone`): a case received at 23:30 on
31 January in Dakar belongs to January there, whatever the server's clock says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from oversight.selectors import Cell, Period, Table
from oversight.summary import review_figures
from policies.models import Unit

TREND_MONTHS = 12


@dataclass(frozen=True)
class Month:
    first_day: date
    start: datetime  # aware, midnight of the first day in the zone
    end: datetime  # the next month's start

    @property
    def key(self) -> str:
        return self.first_day.strftime("%Y-%m")

    def as_period(self) -> Period:
        return Period(start=self.start, end=self.end, label=self.key)


@dataclass(frozen=True)
class TrendRow:
    month: Month
    received: object
    on_time: object  # acknowledged within the deadline
    on_time_share: str
    overdue: object  # missed a deadline: late, or still open past it
    escalated: object


TREND_COLUMNS = {
    "received": gettext_lazy("Received"),
    "on_time": gettext_lazy("Acknowledged in time"),
    "overdue": gettext_lazy("Overdue or late"),
    "escalated": gettext_lazy("Escalated"),
}


def trends_table(rows: list[TrendRow]) -> Table:
    """The chart's text alternative, and its CSV."""
    table = Table(
        "trends",
        _("Twelve months, by month of receipt"),
        [
            _("Month"),
            *[str(TREND_COLUMNS[k]) for k in ("received", "on_time")],
            _("Share acknowledged in time"),
            str(TREND_COLUMNS["overdue"]),
            str(TREND_COLUMNS["escalated"]),
        ],
    )
    for r in rows:
        table.rows.append(
            [r.month.key, r.received, r.on_time, r.on_time_share, r.overdue, r.escalated]
        )
    return table


class MonthError(ValueError):
    """A month a person asked for that is no month we can report on."""


def _shift(first_day: date, months: int) -> date:
    index = first_day.year * 12 + first_day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_in(first_day: date, tz) -> Month:
    start = datetime.combine(first_day, datetime.min.time(), tz)
    end = datetime.combine(_shift(first_day, 1), datetime.min.time(), tz)
    return Month(first_day=first_day, start=start, end=end)


def months_ending(last: Month, tz, count: int = TREND_MONTHS) -> list[Month]:
    return [month_in(_shift(last.first_day, -i), tz) for i in reversed(range(count))]


def month_from(text: str | None, *, tz, now: datetime) -> Month:
    """ "YYYY-MM" as a month of the zone `tz`, not after the current one. No month asked
    for: the last complete month, the one a monthly report is usually about."""
    this_month = timezone_today(now, tz).replace(day=1)
    if not text:
        return month_in(_shift(this_month, -1), tz)
    try:
        first_day = datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise MonthError(_("Give the month as year and month, for example 2026-03.")) from None
    if first_day > this_month:
        raise MonthError(_("That month has not happened yet."))
    if first_day.year < 2000:
        raise MonthError(_("Pick a month from 2000 onwards."))
    return month_in(first_day, tz)


def timezone_today(now: datetime, tz) -> date:
    return now.astimezone(tz).date()


def compliance_trends(
    *, units: list[Unit], months: list[Month], now: datetime, tz, cell: Cell
) -> list[TrendRow]:
    """Per month of receipt: cases received, acknowledged within the deadline, overdue
    (a deadline missed: acknowledged, assessed or decided late, or open past its next
    deadline now) and escalated. Two queries (oversight.summary), whatever the number
    of cases."""
    figures = review_figures(
        unit_ids=[u.pk for u in units],
        ranges=[(m.key, m.start, m.end) for m in months],
        now=now,
        by=(),
    )
    by_month = {key: r for (key,), r in figures.items()}
    trends = []
    for month in months:
        r = by_month.get(month.key, {})
        on_time, eligible = r.get("ack_met", 0), r.get("ack_eligible", 0)
        trends.append(
            TrendRow(
                month=month,
                received=cell.count(r.get("received", 0)),
                on_time=cell.count(on_time),
                on_time_share=cell.share(on_time, eligible),
                overdue=cell.count(r.get("late", 0)),
                escalated=cell.count(r.get("escalated", 0)),
            )
        )
    return trends
