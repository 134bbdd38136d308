"""Issue 14 §2 in a browser: the case page's "whom is it about" part and the roster
page, used with the keyboard and checked with axe-core."""

import pytest

from competencies.models import StaffMember
from complaints.lifecycle import case_transition
from complaints.models import CaseExclusion
from complaints.services import complaint_receive
from policies.models import Membership
from tests.browser.axe import axe_violations, describe
from tests.browser.staff import staff_sign_in
from tests.conftest import make_staff

pytestmark = pytest.mark.browser


@pytest.fixture
def staff_page(browser):
    context = browser.new_context(bypass_csp=True)  # axe is injected as a script
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.mark.django_db(transaction=True)
def test_a_focal_point_marks_a_colleague_with_the_keyboard_and_loses_nothing_to_axe(
    staff_page, live_server, unit, focal_point, django_user_model
):
    colleague = make_staff(django_user_model, "colleague", unit, Membership.Role.FOCAL_POINT)
    make_staff(django_user_model, "manager", unit, Membership.Role.MANAGER)
    subject = StaffMember.objects.create(
        unit=unit, name="Moussa Diop", role_title="Focal point", user=colleague
    )
    StaffMember.objects.create(unit=unit, name="Aminata Sow", role_title="Desk officer")
    case = complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative="He shouted.",
        category="neglect",
        in_danger=False,
        about_staff_answer="unsure",
        contact_preference="none",
    ).case
    for status in ("acknowledged", "assessing", "investigating"):
        case_transition(case=case, actor=focal_point, to_status=status)
    page = staff_page
    staff_sign_in(page, live_server.url, focal_point)
    page.goto(f"{live_server.url}/staff/cases/{case.reference}/")
    assert "They answered: Not sure." in page.inner_text("body")
    violations = axe_violations(page)
    assert not violations, describe(violations)

    # Its label names the select; nothing is chosen until the focal point chooses.
    select = page.get_by_label("The complaint is about")
    assert select.input_value() == ""
    select.focus()
    select.select_option(label="Moussa Diop · Focal point")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Mark and re-route"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert CaseExclusion.objects.filter(case=case, user=colleague, reason="subject").exists()
    assert "Their staff account is kept away from it" in page.inner_text("body")
    assert subject.name in page.inner_text("#about-whom-marked")


@pytest.mark.django_db(transaction=True)
def test_the_roster_page_links_an_account_and_passes_axe(
    staff_page, live_server, unit, focal_point, manager
):
    entry = StaffMember.objects.create(unit=unit, name="Moussa Diop", role_title="Focal point")
    page = staff_page
    staff_sign_in(page, live_server.url, manager)
    page.goto(f"{live_server.url}/staff/units/{unit.code}/roster/")
    violations = axe_violations(page)
    assert not violations, describe(violations)
    page.get_by_label("Account of Moussa Diop").select_option(label="focal")
    with page.expect_navigation():
        page.locator(f"#member-{entry.pk} button[type=submit]").click()
    entry.refresh_from_db()
    assert entry.user == focal_point
    assert "is linked to the account focal" in page.inner_text("body")
    violations = axe_violations(page)
    assert not violations, describe(violations)
