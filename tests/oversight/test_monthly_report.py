"""The monthly report of one unit: the review's own figures for the unit's local month."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from competencies.models import RetrainingAssignment, StaffMember
from competencies.services import sector_competencies
from oversight.selectors import Cell, compliance_report
from oversight.trends import compliance_trends, month_from, months_ending, trends_table
from policies.models import Membership, Unit
from policies.selectors import unit_time_zone
from tests.conftest import make_staff, make_unit
from tests.oversight.conftest import CANARY, case_at

H = timedelta(hours=1)
D = timedelta(days=1)


def last_month(unit):
    return month_from(None, tz=unit_time_zone(unit), now=timezone.now())


def report_url(unit, month: str | None = None) -> str:
    url = reverse("oversight:report", args=[unit.code])
    return f"{url}?month={month}" if month is not None else url


def html_table(html: str, key: str) -> list[list[str]]:
    """The body rows of table #table-<key> as the page shows them, as text."""
    match = re.search(rf'<table class="queue" id="table-{key}">(.*?)</table>', html, re.S)
    assert match, f"no table {key}"
    body = match.group(1).split("<tbody>")[1]
    return [
        [
            unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def as_text(table) -> list[list[str]]:
    return [[str(v) for v in row] for row in table.rows]


def busy_month(unit, month):
    """A month with cases of each urgency, decided or not, and retraining on several
    competencies (the heat map has rows)."""
    start = month.start
    case_at(
        unit,
        received=start + 2 * D,
        urgency_category="physical_violence",
        acknowledged_at=start + 2 * D + 2 * H,
        status="closed",
        outcome="substantiated",
        decided_at=start + 6 * D,
        outcome_told_at=start + 7 * D,
    )
    case_at(
        unit,
        received=start + 3 * D,
        urgency_category="physical_violence",
        acknowledged_at=start + 3 * D + 30 * H,
        status="investigating",
        escalation_level=2,
    )
    case_at(unit, received=start + 4 * D)
    case_at(
        unit,
        received=start + 5 * D,
        in_danger=True,
        acknowledged_at=start + 5 * D + H / 2,
        status="unsubstantiated",
        outcome="unsubstantiated",
        decided_at=start + 7 * D,
    )
    officer = StaffMember.objects.create(unit=unit, name="Officer A")
    for competency in sector_competencies(unit)[:3]:
        RetrainingAssignment.objects.create(
            staff_member=officer,
            competency=competency,
            competency_title=competency.title,
            facets=["skills"],
            training_level="basic",
            case_reference="AAAA1111",
            due_date=timezone.localdate() + 30 * D,
        )
    RetrainingAssignment.objects.update(created_at=start + 8 * D)  # assigned in the month


@pytest.mark.django_db
def test_figures_on_the_page_are_the_reviews_figures(staff_client, unit, manager):
    month = last_month(unit)
    busy_month(unit, month)
    page = staff_client(manager).get(report_url(unit, month.key))
    assert page.status_code == 200
    html = page.content.decode()
    assert f"Compliance report · {unit.name} · {month.key}" in html and CANARY not in html
    now = timezone.now()
    expected = compliance_report(units=[unit], period=month.as_period(), now=now, cross_unit=False)[
        "tables"
    ]
    for key, table in expected.items():
        if table.rows:
            assert html_table(html, key) == as_text(table), key
    # The ones with figures worth checking did have rows.
    assert html_table(html, "deadlines") and html_table(html, "outcomes")
    assert (
        html_table(html, "retraining") == [["TST1", "3", "0", "0"]]
        and len(html_table(html, "breaches")) == 3
    )
    # And the twelve months up to the report's month.
    tz = unit_time_zone(unit)
    trends = trends_table(
        compliance_trends(
            units=[unit],
            months=months_ending(month, tz),
            now=now,
            tz=tz,
            cell=Cell(cross_unit=False),
        )
    )
    shown = html_table(html, "trends")
    assert shown == as_text(trends) and shown[-1][0] == month.key and len(shown) == 12
    assert shown[-1][1] == "4"


@pytest.mark.django_db
def test_the_month_is_the_units_local_month(staff_client, unit, manager):
    Unit.objects.filter(pk=unit.pk).update(time_zone="America/Guatemala")
    unit.refresh_from_db()
    month = last_month(unit)
    # Half an hour before the month ends in Guatemala: already the next month in UTC.
    case_at(unit, received=month.end - H / 2)
    html = staff_client(manager).get(report_url(unit, month.key)).content.decode()
    assert html_table(html, "mix") == [["TST1", "web", "en", "1"]]
    assert "America/Guatemala" in html


@pytest.mark.django_db
def test_without_a_month_it_is_the_last_complete_month(staff_client, unit, manager):
    html = staff_client(manager).get(report_url(unit)).content.decode()
    assert f"· {last_month(unit).key}</h1>" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "month, message",
    [
        ("2026-13", "Give the month as year and month"),
        ("junk", "Give the month as year and month"),
        ("2999-01", "That month has not happened yet."),
    ],
)
def test_a_bad_month_is_an_error(staff_client, unit, manager, month, message):
    page = staff_client(manager).get(report_url(unit, month))
    html = page.content.decode()
    assert page.status_code == 400 and message in html
    assert "<table" not in html and "<svg" not in html


@pytest.mark.django_db
def test_only_the_units_manager_or_oversight_prints_it(
    staff_client, django_user_model, unit, focal_point
):
    stranger = make_staff(
        django_user_model, "mgr-other", make_unit("OTH3"), Membership.Role.MANAGER
    )
    for user in (stranger, focal_point):
        client = staff_client(user)
        assert client.get(report_url(unit)).status_code == 404
        client.logout()
    # Oversight staff review every unit, with small counts hidden.
    case_at(unit, received=last_month(unit).start + D)
    ombud = make_staff(
        django_user_model,
        "ombud",
        make_unit("NCRC", sector=Unit.Sector.OVERSIGHT),
        Membership.Role.FOCAL_POINT,
    )
    html = staff_client(ombud).get(report_url(unit, last_month(unit).key)).content.decode()
    assert html_table(html, "mix") == [["TST1", "web", "en", "<5"]]


@pytest.mark.django_db
def test_query_count_is_constant_as_cases_grow(
    staff_client, unit, manager, django_assert_num_queries
):
    client = staff_client(manager)
    month = last_month(unit)
    case_at(unit, received=month.start + D)
    with CaptureQueriesContext(connection) as few:
        assert client.get(report_url(unit, month.key)).status_code == 200
    busy_month(unit, month)
    for day in range(2, 14):
        case_at(unit, received=month.start + day * D, acknowledged_at=month.start + day * D + H)
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get(report_url(unit, month.key)).status_code == 200


@pytest.mark.django_db
def test_the_review_links_each_unit_to_its_report(staff_client, unit, manager):
    html = staff_client(manager).get(reverse("oversight:compliance")).content.decode()
    assert f'href="{reverse("oversight:report", args=[unit.code])}"' in html
