"""A child files a complaint in a real browser, leaves with the quick exit, and a focal
point reads it after a password + TOTP login."""

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import PASSWORD, totp_now

pytestmark = pytest.mark.browser

NARRATIVE = "At the station the officer hit my hand with a ruler."
PHONE = {"viewport": {"width": 360, "height": 640}, "is_mobile": True, "has_touch": True}


def fill_complaint(page):
    page.get_by_label("What happened?").fill(NARRATIVE)
    page.get_by_label("Someone hurt my body").check()
    page.locator("fieldset", has_text="Are you in danger right now?").get_by_label("No").check()
    page.locator("fieldset", has_text="Is this about someone who works there?").get_by_label(
        "Yes"
    ).check()
    page.get_by_label("I will check for answers on this website").check()
    page.get_by_role("button", name="Send my complaint").click()


def test_child_files_exits_and_focal_point_reads(
    browser, live_server, exit_site, unit, focal_point
):
    child = browser.new_context(**PHONE)
    page = child.new_page()
    page.set_default_timeout(10_000)
    # What the page looked like just before it left (see the quick exit below).
    last_seen = []
    page.expose_function("reportPage", lambda count, title: last_seen.append((count, title)))

    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name=unit.name).click()
    assert page.url.endswith(f"/u/{unit.code}/")
    # A narrow phone screen: nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.get_by_role("link", name="Exit this page").is_visible()

    fill_complaint(page)
    page.get_by_role("heading", name="We have your complaint").wait_for()
    reference = page.locator("#case-reference").inner_text().strip()
    code = page.locator("#followup-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", reference)
    assert re.fullmatch(r"\d{4} \d{4} \d{4}", code)
    assert page.get_by_text("Write it somewhere only you can find.").is_visible()

    # Quick exit: Shift three times. The page is blanked before the next site loads.
    page.evaluate("""() => new MutationObserver(() => window.reportPage(
        document.body.childElementCount, document.title)).observe(
        document.body, {childList: true})""")
    history_before = page.evaluate("history.length")
    # The deferred script is listening once it has unhidden its hint (CSS may still
    # keep the hint off a narrow screen).
    page.wait_for_function("() => !document.getElementById('exit-hint').hidden")
    for _ in range(3):
        page.keyboard.press("Shift")
    page.wait_for_url(exit_site)
    assert page.get_by_role("heading", name="Weather").is_visible()
    assert last_seen and last_seen[-1] == (0, ""), last_seen
    # replace(), not a new history entry: "back" does not return to the confirmation.
    assert page.evaluate("history.length") == history_before
    child.close()

    staff = browser.new_context()
    page = staff.new_page()
    page.goto(f"{live_server.url}/staff/")
    page.get_by_label("Username").fill(focal_point.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    device = TOTPDevice.objects.get(user=focal_point)
    page.get_by_label("Code").fill(totp_now(device))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Case queue").wait_for()
    page.get_by_role("link", name=reference).click()
    assert page.locator("#narrative").inner_text().strip() == NARRATIVE
    staff.close()


def test_without_javascript_the_form_and_the_exit_link_work(browser, live_server, exit_site, unit):
    context = browser.new_context(java_script_enabled=False, **PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/u/{unit.code}/")
    # Without JavaScript the Shift hint stays hidden; the plain link is there.
    assert not page.locator("#exit-hint").is_visible()
    fill_complaint(page)
    page.get_by_role("heading", name="We have your complaint").wait_for()
    assert page.locator("#followup-code").inner_text().strip()
    assert page.get_by_text("Write it somewhere only you can find.").is_visible()
    page.get_by_role("link", name="Exit this page").click()
    page.wait_for_url(exit_site)
    context.close()
