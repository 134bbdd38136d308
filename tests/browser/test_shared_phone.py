"""Issue 12 in a real browser, with JavaScript on and off: a child in danger, or on a
shared phone, is safe at every step."""

import re
import time

import pytest

from complaints.models import Case, Message
from complaints.services import complaint_receive
from policies.models import Unit
from policies.services import unit_create_with_policy

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 360, "height": 640}, "is_mobile": True, "has_touch": True}
STORY = "The guard at the centre took my shoes and laughed at me."
LATE = "He came back today.\nHe shouted at me again."
JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])


@pytest.fixture
def phone():
    """A phone-sized browser context, JavaScript on or off; closed even when a test
    fails (an open context keeps the live server waiting)."""
    contexts = []

    def open_page(browser, js: bool):
        context = browser.new_context(java_script_enabled=js, **PHONE)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return context, page

    yield open_page
    for context in contexts:
        context.close()


def key_cookie(context) -> list[dict]:
    return [c for c in context.cookies() if c["name"] == "recourse_fk"]


def open_followup(page, base_url, reference, code):
    page.goto(f"{base_url}/follow-up/")
    page.get_by_label("Case reference").fill(reference)
    page.get_by_label("Secret code").fill(code)
    page.get_by_role("button", name="Show my complaint").click()
    page.get_by_role("heading", name=re.compile("^Your complaint")).wait_for()


def settled_content(page) -> str:
    """The page's HTML once it stops navigating (Back to a form's answer may show
    Chromium's own "resend?" page first)."""
    for _ in range(50):
        try:
            page.wait_for_load_state()
            return page.content()
        except Exception:  # noqa: BLE001 - still navigating
            page.wait_for_timeout(100)
    return page.content()


def filed(unit) -> tuple[str, str]:
    receipt = complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative=STORY,
        category="neglect",
        in_danger=False,
        about_staff_answer="yes",
        contact_preference="follow_up_page",
    )
    return receipt.case.display_reference, receipt.followup_code


@JS
def test_numbers_limits_question_and_way_higher_are_all_on_the_page(
    phone, browser, live_server, settings, js
):
    helpline = {"label": "Child helpline", "number": "116"}
    body = unit_create_with_policy(
        code="NCRI",
        name="National Child Rights Office",
        sector=Unit.Sector.OVERSIGHT,
        default_language="en",
        emergency_contacts=[helpline],
    )
    unit = unit_create_with_policy(
        code="GUAT",
        name="Police station",
        time_zone="America/Guatemala",
        sector=Unit.Sector.SECURITY,
        default_language="en",
        oversight_unit=body,
        emergency_contacts=[helpline, {"label": "Police", "number": "17"}],
    )
    # Past the per-address limit from the first complaint: a school's shared connection.
    settings.SUBMISSIONS_PER_CLIENT = 0
    context, page = phone(browser, js)

    page.goto(f"{live_server.url}/")
    start_numbers = page.locator("#emergency-numbers")
    assert start_numbers.is_visible() and "116" in start_numbers.inner_text()
    assert "Each place's page shows its emergency numbers." in start_numbers.inner_text()
    # Both pages have #emergency-numbers: wait for the unit's page before looking.
    page.get_by_role("link", name="Police station").click()
    page.wait_for_url(f"**/u/{unit.code}/")

    top = page.locator("#emergency-numbers")
    assert top.is_visible()
    assert top.get_by_role("link", name=re.compile("116")).get_attribute("href") == "tel:116"
    danger = page.locator("fieldset", has_text="Are you in danger right now?")
    assert danger.locator("#emergency-numbers-danger").is_visible()
    assert danger.get_by_role("link", name=re.compile("17 Police")).is_visible()
    assert page.get_by_role("heading", name="Who will know").is_visible()
    assert page.get_by_text("If you or another child could be badly hurt").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.locator("fieldset", has_text="Who is this complaint about?").get_by_label(
        "Someone else"
    ).check()
    page.get_by_label("What happened?").fill(STORY)
    page.get_by_label("Someone hurt my body").check()
    danger.get_by_label("No").check()
    page.locator("fieldset", has_text="Is this about someone who works there?").get_by_label(
        "Yes"
    ).check()
    page.get_by_role("button", name="Send my complaint").click()

    # Not turned away: a question, with everything typed still there.
    page.get_by_role("group", name="One more step").wait_for()
    assert page.get_by_label("What happened?").input_value() == STORY
    assert page.get_by_label("Someone hurt my body").is_checked()
    assert page.locator("#emergency-numbers").is_visible()
    question = page.locator("label[for=id_check_answer]").inner_text()
    a, b = map(int, re.search(r"(\d+) \+ (\d+)", question).groups())
    page.get_by_label(question).fill(str(a + b))
    page.get_by_role("button", name="Send my complaint").click()

    page.get_by_role("heading", name="We have your complaint").wait_for()
    assert page.get_by_text("Write it somewhere only you can find.").is_visible()
    assert "photo" not in page.content().lower()
    assert page.get_by_text("Then you can tell National Child Rights Office.").is_visible()
    link = page.get_by_role("link", name="Complain to National Child Rights Office")
    assert link.get_attribute("href") == "/u/NCRI/"
    assert "a.m." not in page.content()
    case = Case.objects.get(unit=unit)
    assert case.filed_for == Case.FiledFor.SOMEONE_ELSE


@JS
def test_nothing_typed_comes_back_after_exit_and_back(
    phone, browser_with_bfcache, live_server, exit_site, unit, js
):
    context, page = phone(browser_with_bfcache, js)
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name=unit.name).click()
    page.get_by_label("What happened?").fill(STORY)
    page.get_by_label("Your phone number or email").fill("+221 77 000 00 01")
    page.get_by_role("link", name="Exit this page").click()
    page.wait_for_url(exit_site)

    # "commit": a page restored from the back-forward cache fires no load event.
    page.go_back(wait_until="commit")
    if js:
        # The exit replaced the form in history: Back skips it.
        page.get_by_role("heading", name="Tell us if someone treated you badly").wait_for()
        assert page.url == f"{live_server.url}/"
    else:
        # A plain link: Back returns to the form, fetched again rather than kept in
        # memory (no-store, and /exit/ changed the cookies), and the browser puts
        # nothing back in the fields (autocomplete="off").
        page.get_by_label("What happened?").wait_for()
        assert page.url == f"{live_server.url}/u/{unit.code}/"
        assert page.get_by_label("What happened?").input_value() == ""
        assert page.get_by_label("Your phone number or email").input_value() == ""
    content = settled_content(page)
    assert "took my shoes" not in content and "+221 77" not in content


def test_back_really_returns_pages_from_memory_in_this_browser(
    phone, browser_with_bfcache, live_server, exit_site
):
    """The control for the test above: an ordinary page comes back with what was typed,
    so the empty form there is our doing, not a browser that never keeps pages."""
    context, page = phone(browser_with_bfcache, js=False)
    page.goto(exit_site.replace("/weather", "/form"))
    page.get_by_label("Text").fill(STORY)
    page.goto(f"{live_server.url}/safety/")
    page.go_back(wait_until="commit")
    page.get_by_label("Text").wait_for()
    assert page.get_by_label("Text").input_value() == STORY


@JS
def test_back_after_exit_does_not_show_the_secret_code(
    phone, browser_with_bfcache, live_server, exit_site, unit, js
):
    context, page = phone(browser_with_bfcache, js)
    page.goto(f"{live_server.url}/u/{unit.code}/")
    page.get_by_label("What happened?").fill(STORY)
    page.get_by_label("Someone hurt my body").check()
    page.locator("fieldset", has_text="Are you in danger right now?").get_by_label("No").check()
    page.locator("fieldset", has_text="Is this about someone who works there?").get_by_label(
        "Yes"
    ).check()
    page.get_by_role("button", name="Send my complaint").click()
    code = page.locator("#followup-code").inner_text().strip()
    page.get_by_role("link", name="Exit this page").click()
    page.wait_for_url(exit_site)
    try:
        page.go_back(wait_until="commit")
    except Exception:  # noqa: BLE001 - Chromium may refuse to resend the form: fine
        pass
    # With JavaScript, Back skips the replaced confirmation; without, Chromium will not
    # show a no-store answer to a form again (its "resend?" page): the code is gone.
    content = settled_content(page)
    assert code not in content
    assert "took my shoes" not in content


@JS
def test_exit_ends_the_followup_visit(phone, browser, live_server, exit_site, unit, js):
    reference, code = filed(unit)
    context, page = phone(browser, js)
    open_followup(page, live_server.url, reference, code)
    assert key_cookie(context)
    page.get_by_role("link", name="Exit this page").click()
    page.wait_for_url(exit_site)
    assert key_cookie(context) == []
    page.goto(f"{live_server.url}/follow-up/case/")
    assert page.url == f"{live_server.url}/follow-up/"
    assert page.get_by_label("Secret code").is_visible()


@JS
def test_the_safety_page_is_one_tap_from_any_page(phone, browser, live_server, unit, js):
    context, page = phone(browser, js)
    page.goto(f"{live_server.url}/u/{unit.code}/")
    page.locator("footer").get_by_role("link", name="Staying safe on a shared phone").click()
    page.get_by_role("heading", name="Staying safe on a shared phone", level=1).wait_for()
    assert page.get_by_role("heading", name="Clear the history").is_visible()
    assert page.get_by_text("Delete our texts after you read them.").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


@JS
def test_a_message_typed_after_the_visit_timed_out_is_added_after_the_code(
    phone, browser, live_server, unit, settings, js
):
    reference, code = filed(unit)
    context, page = phone(browser, js)
    open_followup(page, live_server.url, reference, code)
    settings.FOLLOWUP_SESSION_IDLE_MINUTES = 0  # from now on, the visit has timed out
    time.sleep(0.05)
    page.get_by_label("Add something to your complaint").fill(LATE)
    page.get_by_role("button", name="Send", exact=True).click()

    page.get_by_text("We kept the message you wrote.").wait_for()
    assert page.url == f"{live_server.url}/follow-up/case/"  # the text is in no URL
    assert Message.objects.count() == 0
    settings.FOLLOWUP_SESSION_IDLE_MINUTES = 15
    page.get_by_label("Case reference").fill(reference)
    page.get_by_label("Secret code").fill(code)
    page.get_by_role("button", name="Show my complaint").click()

    page.get_by_text("We added your message to your complaint.").wait_for()
    assert Message.objects.filter(author_kind=Message.Author.REPORTER).count() == 1
    messages = page.locator(".messages-list").inner_text()
    assert "He came back today.\nHe shouted at me again." in messages
