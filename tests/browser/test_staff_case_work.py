"""Issue 14 §3 in a real browser: the SMS reply counter counts as the focal point types,
and agrees with the server's count of the text actually sent; the queue and the case
page pass axe-core."""

import pytest

from complaints.models import Case
from complaints.services import followup_add_message, reply_sms_cost
from tests.browser.axe import axe_violations, describe
from tests.browser.staff import staff_sign_in

pytestmark = pytest.mark.browser

# Each exercises one rule of the count: folding to GSM-7, characters that take two
# septets, UCS-2 (surrogate pairs included), blank space folded, the limit.
TEXTS = [
    "Hello",
    ("We are sorry this happened to you. " * 20)[:660],
    ("It’s not your fault. " * 15)[:295],
    ("نحن آسفون لما حدث لك. سنتصل بك قريبا. " * 4).strip(),
    "Prix: 10€ [a] {b} ~ ^ | \\ " * 12,
    "Café à l'école, ça va ? Œuvre « oui » – fin… " * 6,
    "😀 merci " * 20,
    "Hello\n\n\n   world   \t again\r\n" * 25,
    "ﬁne ﬂower ＡＢＣ " * 20,
]


@pytest.fixture
def sms_case(sms, unit, focal_point):
    for text in ("TST1 they hit me", "DONE", "2", "2"):
        sms(text)
    return Case.objects.get()


def sign_in(browser, live_server, user, **options):
    context = browser.new_context(**options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    staff_sign_in(page, live_server.url, user)
    page.get_by_role("heading", name="Case queue").wait_for()
    return context, page


def test_the_sms_counter_counts_as_you_type_as_the_server_does(
    browser, live_server, sms_case, focal_point
):
    context, page = sign_in(browser, live_server, focal_point)
    page.goto(f"{live_server.url}/staff/cases/{sms_case.reference}/")
    box = page.get_by_label("Reply to the child")
    assert page.locator("#sms-segments").inner_text() == "0"
    for text in TEXTS:
        box.fill(text)
        expected = reply_sms_cost(case=sms_case, body=text)
        shown = int(page.locator("#sms-segments").inner_text())
        assert shown == expected.segments, (text, shown, expected)
        assert page.locator("#sms-unicode").is_visible() == expected.unicode, text
        assert page.locator("#sms-over").is_visible() == expected.over_limit, text
    # Past the limit, sending is refused and what was typed comes back.
    box.fill(TEXTS[1])
    page.get_by_role("button", name="Send reply").click()
    page.get_by_text("By SMS this reply would be 5 text messages; the limit is 3.").wait_for()
    assert page.get_by_label("Reply to the child").input_value() == TEXTS[1]
    assert page.evaluate("location.hash") == "#conversation"
    context.close()


def test_without_javascript_a_template_is_inserted_and_counted_by_the_server(
    browser, live_server, sms_case, focal_point
):
    context, page = sign_in(browser, live_server, focal_point, java_script_enabled=False)
    page.goto(f"{live_server.url}/staff/cases/{sms_case.reference}/")
    page.get_by_label("Reply to the child").fill("We will call tomorrow.")
    page.get_by_label("Start from a template").select_option("thanks")
    page.get_by_role("button", name="Insert into the reply").click()
    inserted = page.get_by_label("Reply to the child").input_value()
    assert inserted == "Thank you for telling us. We are looking into it.\n\nWe will call tomorrow."
    assert page.locator("#sms-segments").inner_text() == "1"
    context.close()


def test_axe_finds_no_violation_on_the_queue_and_the_case_page(
    browser, live_server, sms_case, focal_point
):
    followup_add_message(case=sms_case, body="He came back.")
    context, page = sign_in(browser, live_server, focal_point, bypass_csp=True)
    page.goto(
        f"{live_server.url}/staff/?status=nonsense&overdue=on"
    )  # filters open, an error shown
    assert page.locator(".tag.new-message").count() == 0  # filtered out: not overdue
    violations = axe_violations(page)
    assert not violations, describe(violations)
    page.goto(f"{live_server.url}/staff/")
    assert page.locator(".tag.new-message").count() == 1
    violations = axe_violations(page)
    assert not violations, describe(violations)
    page.goto(f"{live_server.url}/staff/cases/{sms_case.reference}/")
    page.get_by_label("Reply to the child").fill("x" * 700)
    violations = axe_violations(page)
    assert not violations, describe(violations)
    context.close()
