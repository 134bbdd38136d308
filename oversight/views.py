import csv

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from complaints.views import verified_staff_required
from oversight.charts import deadline_bars, heat_map
from oversight.selectors import compliance_report, compliance_scope, period_from


@verified_staff_required
def compliance(request):
    units, cross_unit = compliance_scope(request.user)
    if not units:
        raise Http404("No units to review.")
    now = timezone.now()
    period = period_from(request.GET, now)
    report = compliance_report(units=units, period=period, now=now, cross_unit=cross_unit)
    export = request.GET.get("export")
    if export:
        table = report["tables"].get(export)
        if table is None:
            raise Http404("No such table.")
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="recourse-{table.key}.csv"'
        writer = csv.writer(response)
        writer.writerow(table.columns)
        writer.writerows(table.rows)
        return response
    query = request.GET.copy()
    query.pop("export", None)
    context = {
        "units": units,
        "cross_unit": cross_unit,
        "period": period,
        "params": request.GET,
        "query": query.urlencode(),
        "tables": report["tables"].values(),
        "ack_chart": deadline_bars(report["ack_chart"], cross_unit=cross_unit),
        "heat_chart": heat_map(report["heat"]),
    }
    return render(request, "oversight/compliance.html", context)
