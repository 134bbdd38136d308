"""A purge removes content, never a figure: the compliance review, its trends and the
monthly report read the same before and after (issue 17 §2)."""

import re

import pytest
from django.urls import reverse

from complaints.models import Case
from complaints.retention import purge_expired
from oversight.selectors import Cell, compliance_report, period_last_days
from oversight.trends import compliance_trends, month_from, months_ending
from policies.models import ChildProtectionPolicy
from policies.selectors import unit_time_zone
from tests.oversight.conftest import CANARY, D


def without_csrf(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def figures(unit, now):
    report = compliance_report(
        units=[unit], period=period_last_days(365, now), now=now, cross_unit=False
    )
    tz = unit_time_zone(unit)
    trends = compliance_trends(
        units=[unit],
        months=months_ending(month_from(None, tz=tz, now=now), tz),
        now=now,
        tz=tz,
        cell=Cell(False),
    )
    return (
        {
            key: [[str(v) for v in row] for row in table.rows]
            for key, table in report["tables"].items()
        },
        [str(row) for row in trends],
    )


@pytest.mark.django_db
def test_the_compliance_figures_are_the_same_before_and_after_a_purge(
    staff_client, unit, manager, fixture_cases
):
    now, cases = fixture_cases
    # Every closed case of the fixture closed long ago, under a 1-day retention.
    for case in Case.objects.filter(status=Case.Status.CLOSED, closed_at__isnull=True):
        Case.objects.filter(pk=case.pk).update(closed_at=case.received_at + 6 * D)
    ChildProtectionPolicy.objects.filter(unit=unit).update(retention_days=1)
    client = staff_client(manager)
    report_url = reverse("oversight:report", args=[unit.code])
    before = figures(unit, now)
    page_before = without_csrf(client.get(report_url).content.decode())

    assert purge_expired(now).cases == Case.objects.filter(status=Case.Status.CLOSED).count() >= 2

    assert figures(unit, now) == before
    page_after = without_csrf(client.get(report_url).content.decode())
    assert page_after == page_before and CANARY not in page_after
    assert client.get(reverse("oversight:compliance")).status_code == 200
