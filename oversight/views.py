import csv

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from access.cases import cases_for_focal_point
from access.staff import verified_staff_required
from oversight.charts import deadline_bars, heat_map, trend_bars
from oversight.forms import PeriodForm
from oversight.ratings import ratings_by_month, ratings_by_unit
from oversight.selectors import (
    DRILL_DOWNS,
    compliance_cases,
    compliance_report,
    compliance_scope,
    period_between,
    period_last_days,
    review_time_zone,
)
from oversight.trends import (
    TREND_COLUMNS,
    MonthError,
    compliance_trends,
    month_from,
    month_in,
    months_ending,
    timezone_today,
    trends_table,
)
from policies.categories import formal_label
from policies.selectors import unit_time_zone

CASES_PAGE_SIZE = 100


def _csv(table) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="recourse-{table.key}.csv"'
    writer = csv.writer(response)
    writer.writerow(table.columns)
    writer.writerows(table.rows)
    return response


def _trend_labels() -> dict[str, str]:
    return {key: str(label) for key, label in TREND_COLUMNS.items()}


@verified_staff_required
def compliance(request):
    units, cross_unit = compliance_scope(request.user)
    if not units:
        raise Http404("No units to review.")
    now = timezone.now()
    tz = review_time_zone(units)
    form = PeriodForm(request.GET)
    context = {"units": units, "cross_unit": cross_unit, "form": form, "params": request.GET}
    valid = form.is_valid()
    context["selected"] = form.selected()  # the period ticked: the one the figures are for
    if not valid:
        # Figures for another period than the one asked for would be wrong figures.
        return render(request, "oversight/compliance.html", context, status=400)
    if form.cleaned_data.get("period") == "custom":
        period = period_between(form.cleaned_data["from"], form.cleaned_data["to"], tz)
    else:
        period = period_last_days(form.days(), now)
    report = compliance_report(units=units, period=period, now=now, cross_unit=cross_unit)
    this_month = month_in(timezone_today(now, tz).replace(day=1), tz)
    trends = compliance_trends(
        units=units, months=months_ending(this_month, tz), now=now, tz=tz, cell=report["cell"]
    )
    tables = {
        "trends": trends_table(trends),
        **report["tables"],
        "ratings": ratings_by_unit(units=units, period=period, tz=tz),
        "ratings_trend": ratings_by_month(units=units, months=months_ending(this_month, tz)),
    }
    export = request.GET.get("export")
    if export:
        if export not in tables:
            raise Http404("No such table.")
        return _csv(tables[export])
    query = request.GET.copy()
    query.pop("export", None)
    context.update(
        {
            "period": period,
            "query": query.urlencode(),
            "tables": tables.values(),
            "ack_chart": deadline_bars(report["ack_chart"], cross_unit=cross_unit),
            "heat_chart": heat_map(report["heat"]),
            "trend_chart": trend_bars(trends, labels=_trend_labels()),
        }
    )
    return render(request, "oversight/compliance.html", context)


def _own_unit(user, code: str):
    """A unit the person manages (not a cross-unit view): else 404."""
    units, cross_unit = compliance_scope(user)
    unit = next((u for u in units if u.code == code), None)
    if unit is None or cross_unit:
        raise Http404("No such unit.")
    return unit


@verified_staff_required
def cases(request, code: str, kind: str):
    """The open cases behind an overdue or escalated count: metadata only. A row links
    to the case only for someone who may read it (a focal point handling it)."""
    if kind not in DRILL_DOWNS:
        raise Http404("No such list.")
    unit = _own_unit(request.user, code)
    page = Paginator(
        compliance_cases(unit=unit, kind=kind, now=timezone.now()), CASES_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    ids = [case.pk for case in page.object_list]
    readable = set(
        cases_for_focal_point(request.user).filter(pk__in=ids).values_list("pk", flat=True)
    )
    titles = {"overdue": _("Overdue open cases"), "escalated": _("Escalated open cases")}
    rows = [(case, formal_label(case.category), case.pk in readable) for case in page.object_list]
    return render(
        request,
        "oversight/cases.html",
        {
            "unit": unit,
            "kind": kind,
            "title": titles[kind],
            "page": page,
            "rows": rows,
        },
    )


@verified_staff_required
def monthly_report(request, code: str):
    """One unit's month, to print: the review's figures for the unit's local month and
    the twelve months up to it."""
    units, cross_unit = compliance_scope(request.user)
    unit = next((u for u in units if u.code == code), None)
    if unit is None:
        raise Http404("No such unit.")
    now = timezone.now()
    tz = unit_time_zone(unit)
    context = {
        "unit": unit,
        "cross_unit": cross_unit,
        "now": now,
        "month_param": request.GET.get("month", ""),
    }
    try:
        month = month_from(request.GET.get("month"), tz=tz, now=now)
    except MonthError as error:
        context["month_error"] = str(error)
        return render(request, "oversight/report.html", context, status=400)
    report = compliance_report(
        units=[unit], period=month.as_period(), now=now, cross_unit=cross_unit
    )
    trends = compliance_trends(
        units=[unit], months=months_ending(month, tz), now=now, tz=tz, cell=report["cell"]
    )
    context.update(
        {
            "month": month,
            "tables": report["tables"],
            "trends": trends_table(trends),
            "ack_chart": deadline_bars(report["ack_chart"], cross_unit=cross_unit),
            "trend_chart": trend_bars(trends, labels=_trend_labels()),
        }
    )
    return render(request, "oversight/report.html", context)
