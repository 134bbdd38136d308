"""Issue 14 §4: a manager signs in, lands on the compliance review, opens a unit's
monthly report and prints it from chromium: at most four A4 pages, the report only,
and axe finds nothing wrong on the manager's pages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from competencies.models import RetrainingAssignment, StaffMember
from competencies.services import sector_competencies
from oversight.trends import month_from
from policies.selectors import unit_time_zone
from tests.browser.axe import axe_violations, describe
from tests.browser.printing import pdf_pages, print_pdf
from tests.browser.staff import staff_sign_in
from tests.oversight.conftest import case_at

pytestmark = pytest.mark.browser

H = timedelta(hours=1)
D = timedelta(days=1)
MAX_PAGES = 4


def busiest_month(unit):
    """What makes a report long: every urgency, both channels in three languages, every
    outcome, escalations, a year of earlier months, every competency of the sector
    breached by several staff, three of them more than once."""
    tz = unit_time_zone(unit)
    month = month_from(None, tz=tz, now=timezone.now())
    start = month.start
    combos = [(c, lang) for c in ("web", "sms") for lang in ("en", "fr", "es")]
    for i in range(24):
        channel, language = combos[i % len(combos)]
        received = start + (i % 27) * D + H
        kind = i % 4
        if kind == 0:
            case_at(
                unit,
                received=received,
                urgency_category="physical_violence",
                channel=channel,
                language=language,
                acknowledged_at=received + 2 * H,
                status="closed",
                outcome="substantiated",
                decided_at=received + 3 * D,
                outcome_told_at=received + 4 * D,
            )
        elif kind == 1:
            case_at(
                unit,
                received=received,
                in_danger=True,
                channel=channel,
                language=language,
                acknowledged_at=received + H / 2,
                status="unsubstantiated",
                outcome="unsubstantiated",
                decided_at=received + 2 * D,
            )
        elif kind == 2:
            case_at(unit, received=received, channel=channel, language=language, escalation_level=2)
        else:
            case_at(
                unit,
                received=received,
                channel=channel,
                language=language,
                acknowledged_at=received + 50 * H,
                status="investigating",
            )
    for months_back in range(1, 12):
        case_at(
            unit,
            received=start - months_back * 30 * D,
            acknowledged_at=start - months_back * 30 * D + H,
        )
    competencies = list(sector_competencies(unit))
    staff = [StaffMember.objects.create(unit=unit, name=f"Officer {n}") for n in range(6)]
    for i, competency in enumerate(competencies):
        for j in range(2):
            RetrainingAssignment.objects.create(
                staff_member=staff[(i + j) % len(staff)],
                competency=competency,
                competency_title=competency.title,
                facets=["knowledge", "skills"],
                training_level="basic",
                case_reference=f"CASE{i:02d}{j:02d}",
                due_date=timezone.localdate() + 20 * D,
            )
    RetrainingAssignment.objects.update(created_at=start + 10 * D)  # assigned in the month
    return month


def test_a_manager_prints_the_monthly_report_on_at_most_four_pages(
    browser, live_server, unit, manager
):
    month = busiest_month(unit)
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    staff_sign_in(page, live_server.url, manager)
    # Signing in leads a manager to the review of their units, not to an empty queue.
    page.get_by_role("heading", level=1, name="Compliance review").wait_for()
    page.get_by_role("link", name="monthly report").click()
    page.get_by_role(
        "heading", level=1, name=f"Compliance report · {unit.name} · {month.key}"
    ).wait_for()
    assert page.locator("#table-deadlines tbody tr").count() == 3
    assert page.locator("#table-breaches tbody tr").count() == len(sector_competencies(unit))
    assert page.locator("#table-trends tbody tr").count() == 12

    pages = pdf_pages(print_pdf(page))
    assert 1 <= pages <= MAX_PAGES, pages
    # On paper: the report, without the site's header, the month picker or the hint.
    page.emulate_media(media="print")
    for selector in (".site-header", ".month-form", ".print-hint"):
        assert page.locator(selector).is_hidden(), selector
    assert page.locator(".report").is_visible()
    # Another month, picked on the page.
    page.emulate_media(media="screen")
    page.get_by_label("Month (year-month, e.g. 2026-03)").fill(month.key)
    page.get_by_role("button", name="Show").click()
    page.get_by_role(
        "heading", level=1, name=f"Compliance report · {unit.name} · {month.key}"
    ).wait_for()
    context.close()


def test_axe_finds_no_violation_on_the_managers_pages(browser, live_server, unit, manager):
    month = busiest_month(unit)
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    staff_sign_in(page, live_server.url, manager)
    page.get_by_role("heading", level=1, name="Compliance review").wait_for()
    found = {}
    for name, path in [
        ("review", "/staff/compliance/?period=365"),
        (
            "review, inverted range",
            "/staff/compliance/?period=custom&from=2026-03-02&to=2026-03-01",
        ),
        ("report", f"/staff/compliance/{unit.code}/report/?month={month.key}"),
        ("report, bad month", f"/staff/compliance/{unit.code}/report/?month=2026-13"),
        ("overdue cases", f"/staff/compliance/{unit.code}/overdue/"),
        ("retraining", f"/staff/units/{unit.code}/retraining/"),
    ]:
        page.goto(live_server.url + path)
        if violations := axe_violations(page):
            found[name] = describe(violations)
    context.close()
    assert not found, "\n\n".join(f"== {name}\n{report}" for name, report in found.items())
