"""Issue 16 §2: a manager prints the capacity-building plan from chromium: A4, the plan
only (no site header, links or hint), a known number of pages; axe finds nothing wrong
on the plan and impact pages."""

from datetime import date

import pytest

from competencies.frameworks import frameworks_load
from competencies.models import (
    Competency,
    CompetencyFramework,
    Evaluation,
    StaffMember,
    TrainingRecord,
)
from competencies.services import sector_competencies
from tests.browser.axe import axe_violations, describe
from tests.browser.printing import pdf_pages, print_pdf
from tests.browser.staff import staff_sign_in

pytestmark = pytest.mark.browser


def roster_of(unit, count: int) -> None:
    """`count` staff, each trained at basic level on the first competency only and one in
    three rated below expectations on the second: 5 rows each on the plan (6 for those
    rated below), with the security framework's six competencies."""
    # A live-server test's database was flushed by the one before: the frameworks the
    # migrations loaded may be gone.
    frameworks_load(CompetencyFramework, Competency)
    competencies = list(sector_competencies(unit).order_by("number"))
    assert len(competencies) == 6
    for i in range(count):
        member = StaffMember.objects.create(
            unit=unit,
            name=f"Officer {i:02d}",
            role_title="Desk officer",
            in_service_since=date(2019, 1, 1),
        )
        TrainingRecord.objects.create(
            staff_member=member,
            competency=competencies[0],
            level="basic",
            completed_on=date(2025, 1, 1),
            provider="ENP",
        )
        if i % 3 == 0:
            Evaluation.objects.create(
                staff_member=member,
                competency=competencies[1],
                facet="skills",
                rating="below_expectations",
                proposed_level="specialised",
                evaluated_on=date(2026, 1, 1),
                evaluator="Trainer",
            )


@pytest.fixture
def manager_page(browser, live_server, manager):
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    staff_sign_in(page, live_server.url, manager)
    yield page
    context.close()


# 16 rows fit on one page; 160 rows, in six competency groups, on four (about 45 rows a
# page, the table's header repeated on each).
@pytest.mark.parametrize(("staff", "rows", "pages"), [(3, 16, 1), (30, 160, 4)])
def test_a_manager_prints_the_plan_on_a4(manager_page, live_server, unit, staff, rows, pages):
    roster_of(unit, staff)
    page = manager_page
    page.goto(f"{live_server.url}/staff/units/{unit.code}/plan/")
    page.get_by_role("heading", level=1, name=f"Capacity-building plan · {unit.name}").wait_for()
    assert page.locator("#table-plan tr.plan-row").count() == rows
    assert page.locator("#table-needs tbody tr").count() == 6
    assert pdf_pages(print_pdf(page)) == pages
    page.emulate_media(media="print")
    for selector in (".site-header", ".print-hint", "a[href='?format=csv']"):
        assert page.locator(selector).is_hidden(), selector
    assert page.locator(".plan").is_visible()


def test_axe_finds_no_violation_on_the_plan_and_impact_pages(manager_page, live_server, unit):
    roster_of(unit, 6)
    found = {}
    for name in ("plan", "impact"):
        manager_page.goto(f"{live_server.url}/staff/units/{unit.code}/{name}/")
        if violations := axe_violations(manager_page):
            found[name] = describe(violations)
    assert not found, "\n\n".join(f"== {name}\n{report}" for name, report in found.items())
