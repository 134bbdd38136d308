"""Issue 16 §1 in a real browser: a manager, with JavaScript off, records a training and
an evaluation on a roster member's record, then imports the unit's training register,
first a file with mistakes (nothing imported, each error by line) and then a good one.
axe finds nothing wrong on either page, error states included."""

from datetime import date

import pytest

from competencies.frameworks import frameworks_load
from competencies.models import Competency, CompetencyFramework, StaffMember, TrainingRecord
from tests.browser.axe import axe_violations, describe
from tests.browser.staff import staff_sign_in

pytestmark = pytest.mark.browser

BAD_REGISTER = (
    "staff_member,competency,level,date,provider,evidence\n"
    "Awa Diop,1,basic,2026-03-14,ENP,CERT-1\n"
    "Nobody Here,1,basic,2026-03-14,ENP,\n"
    "Awa Diop,99,basic,2026-03-14,ENP,\n"
)
GOOD_REGISTER = (
    "staff_member,competency,level,date,provider,evidence\n"
    "Awa Diop,1,basic,2026-03-14,ENP,CERT-1\n"
    "Awa Diop,2,basic,2026-03-15,ENP,CERT-2\n"
)


@pytest.fixture
def member(unit):
    # A live-server test's database was flushed by the one before: the frameworks the
    # migrations loaded may be gone.
    frameworks_load(CompetencyFramework, Competency)
    return StaffMember.objects.create(
        unit=unit, name="Awa Diop", role_title="Desk officer", in_service_since=date(2024, 1, 1)
    )


def signed_in_page(browser, live_server, manager, **context_options):
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    staff_sign_in(page, live_server.url, manager)
    return context, page


def upload(page, name: str, content: str) -> None:
    page.set_input_files(
        "input[type=file]",
        files=[{"name": name, "mimeType": "text/csv", "buffer": content.encode()}],
    )
    with page.expect_navigation():
        page.click("form:has(input[type=file]) button[type=submit]")


def test_a_manager_without_javascript_keeps_a_record_and_imports_the_register(
    browser, live_server, unit, manager, member
):
    context, page = signed_in_page(browser, live_server, manager, java_script_enabled=False)
    page.goto(f"{live_server.url}/staff/units/{unit.code}/roster/")
    with page.expect_navigation():
        page.get_by_role("link", name="Awa Diop", exact=True).click()
    page.get_by_role("heading", level=1, name="Competency record · Awa Diop").wait_for()

    # A training dated tomorrow is refused, with what was typed kept.
    form = page.locator("form:has(input[value=training])")
    form.get_by_label("Competency").select_option(index=1)
    form.get_by_label("Level").select_option("basic")
    form.get_by_label("Date").fill("2099-01-01")
    form.get_by_label("Provider or course").fill("National police school")
    with page.expect_navigation():
        form.get_by_role("button", name="Record the training").click()
    assert "This date is in the future." in page.content()
    assert form.get_by_label("Provider or course").input_value() == "National police school"
    assert not TrainingRecord.objects.exists()

    form.get_by_label("Date").fill("2026-03-14")
    with page.expect_navigation():
        form.get_by_role("button", name="Record the training").click()
    page.get_by_text("Training recorded for Awa Diop.").wait_for()
    assert page.locator("table[aria-labelledby=trainings] tbody tr").count() == 1

    evaluation = page.locator("form:has(input[value=evaluation])")
    evaluation.get_by_label("Competency").select_option(index=2)
    evaluation.get_by_label("Facet").select_option("skills")
    evaluation.get_by_label("Rating", exact=True).select_option("below_expectations")
    evaluation.get_by_label("Date").fill("2026-04-01")
    evaluation.get_by_label("Evaluator").fill("Unit trainer")
    with page.expect_navigation():
        evaluation.get_by_role("button", name="Record the evaluation").click()
    row = page.locator("table[aria-labelledby=evaluations] tbody tr")
    assert row.count() == 1
    assert "Below expectations" in row.inner_text()

    page.goto(f"{live_server.url}/staff/units/{unit.code}/training/import/")
    upload(page, "register.csv", BAD_REGISTER)
    errors = page.locator("#import-errors li")
    assert errors.count() == 2
    assert errors.nth(0).inner_text().startswith("line 3:")
    assert errors.nth(1).inner_text().startswith("line 4:")
    assert TrainingRecord.objects.count() == 1  # the one typed in: nothing half-imported

    upload(page, "register.csv", GOOD_REGISTER)
    page.get_by_text("1 training imported. 1 was already recorded.").wait_for()
    upload(page, "register.csv", GOOD_REGISTER)
    page.get_by_text("0 trainings imported. 2 were already recorded.").wait_for()
    # The line typed in by hand (competency 1, basic, 2026-03-14) was already there.
    assert TrainingRecord.objects.count() == 2
    context.close()


def test_axe_finds_no_violation_on_the_record_and_import_pages(
    browser, live_server, unit, manager, member
):
    context, page = signed_in_page(browser, live_server, manager, bypass_csp=True)
    found = {}
    record_url = f"{live_server.url}/staff/units/{unit.code}/roster/{member.pk}/"
    page.goto(record_url)
    if violations := axe_violations(page):
        found["record"] = describe(violations)
    # The same page showing a form's errors: a training dated in the future.
    form = page.locator("form:has(input[value=training])")
    form.get_by_label("Competency").select_option(index=1)
    form.get_by_label("Date").fill("2099-01-01")
    form.get_by_label("Provider or course").fill("ENP")
    with page.expect_navigation():
        form.get_by_role("button", name="Record the training").click()
    assert page.locator(".field-error").count() > 0
    if violations := axe_violations(page):
        found["record with errors"] = describe(violations)
    page.goto(f"{live_server.url}/staff/units/{unit.code}/training/import/")
    if violations := axe_violations(page):
        found["import"] = describe(violations)
    upload(page, "register.csv", BAD_REGISTER)
    if violations := axe_violations(page):
        found["import with errors"] = describe(violations)
    context.close()
    assert not found, "\n\n".join(f"== {name}\n{report}" for name, report in found.items())
