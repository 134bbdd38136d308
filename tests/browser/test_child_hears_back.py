"""Two web children in Chromium ask to hear back by text and by email; a focal point
signed in with password + TOTP decides both cases from the case page; the texts go
through the SMS pipeline to the number given, and the emails say only that there is
news (no content, no code). Then a child stops a complaint without JavaScript."""

import pytest
from django.core import mail

from complaints.lifecycle import case_transition
from complaints.models import Case
from notifications.backends import locmem
from notifications.child_email import child_email_deliver
from notifications.models import OutboundEmail, OutboundSms
from notifications.sms import sms_deliver
from tests.browser.staff import staff_sign_in

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 360, "height": 640}, "is_mobile": True, "has_touch": True}
NARRATIVE = "The guard at the gate took my bag and threw it in the rain."


def file_in_browser(
    browser, live_server, unit, *, choice: str, detail: str, javascript: bool = True
) -> tuple[str, str]:
    """A child files through the real form; (reference, code) from the confirmation."""
    context = browser.new_context(java_script_enabled=javascript, **PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/u/{unit.code}/")
    page.get_by_label("What happened?").fill(NARRATIVE)
    page.get_by_label("Someone hurt my body").check()
    page.locator("fieldset", has_text="Are you in danger right now?").get_by_label("No").check()
    page.locator("fieldset", has_text="Is this about someone who works there?").get_by_label(
        "Yes"
    ).check()
    page.get_by_label(choice).check()
    page.get_by_label("Your phone number or email").fill(detail)
    page.get_by_role("button", name="Send my complaint").click()
    page.get_by_role("heading", name="We have your complaint").wait_for()
    receipt = (
        page.locator("#case-reference").inner_text().strip(),
        page.locator("#followup-code").inner_text().strip(),
    )
    context.close()
    return receipt


def decide_in_browser(browser, live_server, focal_point, references: list[str]) -> None:
    """The focal point signs in and records the decision on each case page."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    staff_sign_in(page, live_server.url, focal_point)
    page.get_by_role("heading", name="Case queue").wait_for()
    for reference in references:
        page.goto(f"{live_server.url}/staff/cases/{reference}/")
        assert page.locator("#contact-child").is_visible()
        form = page.locator("form.transition-form")
        form.get_by_label("Move the case to").select_option("unsubstantiated")
        form.get_by_label("Reason").fill("No witness could confirm it")
        form.get_by_role("button", name="Save status").click()
        page.get_by_text("Case moved to: Not substantiated").wait_for()
    context.close()


def test_web_children_hear_back_by_text_and_by_email(browser, live_server, unit, focal_point):
    texted_ref, _texted_code = file_in_browser(
        browser,
        live_server,
        unit,
        choice="Send me a text message (SMS)",
        detail="+221 77 123 45 67",
    )
    mailed_ref, mailed_code = file_in_browser(
        browser, live_server, unit, choice="Send me an email", detail="child.reader@example.org"
    )
    for case in Case.objects.all():  # up to the decision step, as the focal point would
        for status in (Case.Status.ACKNOWLEDGED, Case.Status.ASSESSING, Case.Status.INVESTIGATING):
            case_transition(case=case, actor=focal_point, to_status=status)
    decide_in_browser(browser, live_server, focal_point, [texted_ref, mailed_ref])

    # The worker's part: send what was queued.
    for outbound in OutboundSms.objects.filter(status=OutboundSms.Status.PENDING):
        assert sms_deliver(outbound.pk) == "sent"
    for outbound in OutboundEmail.objects.filter(status=OutboundEmail.Status.PENDING):
        assert child_email_deliver(outbound.pk) == "sent"

    texts = [m for m in locmem.outbox if m["to"] == "+221771234567"]
    assert len(texts) == 2  # acknowledged, then the decision
    assert texts[-1]["body"].startswith(f"{texted_ref}: we looked carefully")
    assert NARRATIVE not in " ".join(m["body"] for m in texts)

    emails = [m for m in mail.outbox if m.to == ["child.reader@example.org"]]
    assert len(emails) == 2
    for email in emails:
        text = email.subject + email.body
        assert mailed_ref in text
        assert "/follow-up/" in text
        assert NARRATIVE not in text
        assert mailed_code not in text and mailed_code.replace(" ", "") not in text
        assert "could not show" not in text  # the news itself is only on the page

    for reference in (texted_ref, mailed_ref):
        case = Case.objects.get(reference=reference.replace("-", ""))
        assert case.outcome_told_at is not None
        case_transition(case=case, actor=focal_point, to_status=Case.Status.CLOSED, reason="Told")


def test_a_child_stops_a_complaint_without_javascript(browser, live_server, unit, focal_point):
    reference, code = file_in_browser(
        browser, live_server, unit, choice="Call me", detail="+221 77 000 11 22", javascript=False
    )
    context = browser.new_context(java_script_enabled=False, **PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/follow-up/")
    page.get_by_label("Case reference").fill(reference)
    page.get_by_label("Secret code").fill(code)
    page.get_by_role("button", name="Show my complaint").click()
    page.get_by_role("link", name="I want to stop my complaint").click()
    page.get_by_role("heading", name="Stop your complaint?").wait_for()
    page.get_by_role("button", name="Yes, stop my complaint").click()
    page.get_by_text("Your complaint is stopped.").wait_for()
    assert page.locator("#case-status").inner_text().strip() == "You stopped this complaint."
    context.close()
    assert Case.objects.get().status == Case.Status.WITHDRAWN
