"""Issue 12, section 7: every page a child can reach, in every language, as axe-core,
a 200% text zoom on a phone and a finger see it.

One walk (`reporter_pages`) reaches each page the way a child does, error pages
included; each test walks it once per language and checks every page on the way."""

from contextlib import contextmanager
from unittest import mock

import pytest
from django.db import OperationalError

from policies.models import Unit
from policies.services import unit_create_with_policy
from tests.browser.axe import axe_violations, describe

pytestmark = pytest.mark.browser

LANGUAGES = ["en", "fr", "es", "ar"]
EXIT_URL = "https://www.bbc.co.uk/weather"
# Numbers no template or translation could hold: what the pages show comes from the policy.
CONTACTS = [
    {"label": "Ligne verte enfance", "number": "+221800004242"},
    {"label": "Gendarmerie", "number": "800 00 17"},
]


@pytest.fixture
def unit_for_pages(db):
    # With an oversight unit, a child told the outcome is offered a review.
    oversight = unit_create_with_policy(
        code="ACC0",
        name="Commission nationale des droits de l'enfant",
        sector=Unit.Sector.OVERSIGHT,
        default_language="fr",
        emergency_contacts=CONTACTS,
    )
    return unit_create_with_policy(
        code="ACC1",
        name="Commissariat central de Dakar-Plateau",
        sector=Unit.Sector.SECURITY,
        default_language="fr",
        emergency_contacts=CONTACTS,
        oversight_unit=oversight,
    )


@contextmanager
def browser_page(browser, live_server, language, **options):
    context = browser.new_context(**options)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.route(f"{EXIT_URL}**", lambda route: route.fulfill(status=200, body="weather"))
    try:
        yield page
    finally:
        context.close()


def goto(page, url: str, status: int) -> None:
    response = page.goto(url)
    assert response.status == status, (url, response.status)


def submit(page, form: str, status: int) -> None:
    """Press the form's submit button; the page that comes back has this status."""
    with page.expect_navigation() as navigation:
        page.locator(f"{form} button[type=submit]").first.click()
    assert navigation.value.status == status, (form, navigation.value.status, page.url)


def fill_complaint(page, *, in_danger: str = "yes") -> None:
    page.fill("textarea[name=narrative]", "The officer at the desk took my phone and shouted.")
    page.check("input[name=category][value=physical_violence]")
    page.check(f"input[name=in_danger][value={in_danger}]")
    page.check("input[name=about_staff][value=yes]")
    page.check("input[name=contact_preference][value=follow_up_page]")


def assert_units_numbers_shown(page) -> None:
    """Every error page on the way to filing gives the unit's own emergency numbers."""
    shown = page.locator(".emergency-contacts .number, .emergency-inline .number").all_inner_texts()
    assert shown[: len(CONTACTS)] == [c["number"] for c in CONTACTS], (page.url, shown)


def _decide(reference: str) -> None:
    from complaints.lifecycle import case_transition
    from complaints.models import Case

    case = Case.objects.get(reference=reference.replace("-", ""))
    for status in ("acknowledged", "assessing", "investigating", "unsubstantiated"):
        case_transition(case=case, actor=None, to_status=status, reason="No witness")
        case.refresh_from_db()


def reporter_pages(page, base: str, unit: Unit, language: str, settings):
    """Walks `page` through every reporter page, yielding each one's name once loaded."""
    settings.SUBMISSIONS_PER_CLIENT = 1
    settings.FOLLOWUP_MAX_FAILURES_PER_REFERENCE = 1
    form_url = f"{base}/u/{unit.code}/"
    form = f"form[action='/u/{unit.code}/']"

    goto(page, f"{base}/", 200)
    yield "start"
    goto(page, form_url, 200)
    yield "complaint form"
    submit(page, form, 400)
    assert page.locator("#error-summary").is_visible()
    yield "complaint form with errors"

    fill_complaint(page)
    database_gone = OperationalError("gone")
    with mock.patch("complaints.services.case_copies_issue", side_effect=database_gone):
        submit(page, form, 503)
    assert_units_numbers_shown(page)
    yield "503: the database failed while filing"
    submit(page, form, 200)  # the child's words are still in the form: send again
    reference = page.locator("#case-reference").inner_text().strip()
    code = page.locator("#followup-code").inner_text().strip()
    yield "confirmation"

    goto(page, form_url, 200)
    fill_complaint(page, in_danger="no")  # a child in danger is never checked
    submit(page, form, 429)
    assert_units_numbers_shown(page)
    assert page.locator("input[name=check_answer]").is_visible()
    yield "429: too many complaints from this client: the human check"

    goto(page, form_url, 200)
    page.locator(f"{form} textarea").evaluate("area => { area.value = 'x'.repeat(70000); }")
    submit(page, form, 400)
    assert_units_numbers_shown(page)
    yield "400: a body too large to read"

    goto(page, form_url, 200)
    fill_complaint(page)
    page.locator(f"{form} input[name=csrfmiddlewaretoken]").evaluate("input => input.remove()")
    submit(page, form, 403)
    assert_units_numbers_shown(page)
    yield "403: the form came back without its CSRF token"

    goto(page, f"{base}/follow-up/", 200)
    yield "follow-up"
    page.fill("input[name=reference]", reference)
    page.fill("input[name=code]", code)
    submit(page, "form[action='/follow-up/']", 200)
    assert page.url.endswith("/follow-up/case/")
    yield "follow-up case"
    goto(page, f"{base}/follow-up/withdraw/", 200)
    yield "stop my complaint: asked first"

    # Decided and read: "how did we do?", its errors, and the thanks with the numbers.
    _decide(reference)
    goto(page, f"{base}/follow-up/case/", 200)
    yield "follow-up case: how did we do?"
    page.check("input[name=listened][value='1']")
    page.locator("form[action='/follow-up/rate/'] input[name=felt_safe]").first.evaluate(
        "input => { input.value = '9'; input.checked = true; }"
    )
    submit(page, "form[action='/follow-up/rate/']", 400)
    assert page.locator("#error-summary").is_visible()
    yield "how did we do? with errors"
    page.check("input[name=felt_safe][value='3']")
    submit(page, "form[action='/follow-up/rate/']", 200)
    assert page.locator("#rating-emergency-title").is_visible()
    yield "how did we do? thanks, with the emergency numbers"

    # "Ask for a review": its errors (a reason too long), then the review followed.
    review = "form[action='/follow-up/review/']"
    page.locator(f"{review} textarea").evaluate("area => { area.value = 'x'.repeat(5001); }")
    submit(page, review, 400)
    assert page.locator("#error-summary").is_visible()
    yield "ask for a review with errors"
    page.fill(f"{review} textarea", "Nobody listened to my witness.")
    submit(page, review, 200)
    assert page.locator("#review-status").is_visible()
    yield "the review asked, followed on the same page"
    goto(page, f"{base}/follow-up/withdraw/", 200)
    yield "stop my complaint: already finished"

    goto(page, f"{base}/follow-up/", 200)
    for status in (400, 429):  # a wrong code, then one try too many
        page.fill("input[name=reference]", reference)
        page.fill("input[name=code]", "0000 0000 0000")
        submit(page, "form[action='/follow-up/']", status)
    yield "429: too many wrong codes"

    goto(page, f"{base}/u/{unit.code}/poster/?lang={language}", 200)
    yield "poster"
    goto(page, f"{base}/u/{unit.code}/leaflet/?lang={language}", 200)
    yield "leaflet"
    # With a WhatsApp number, the sheets add its link and a second QR code.
    Unit.objects.filter(pk=unit.pk).update(whatsapp_number="+221770000000")
    goto(page, f"{base}/u/{unit.code}/poster/?lang={language}", 200)
    yield "poster with WhatsApp"
    goto(page, f"{base}/u/{unit.code}/leaflet/?lang={language}", 200)
    yield "leaflet with WhatsApp"
    Unit.objects.filter(pk=unit.pk).update(whatsapp_number="")
    goto(page, f"{base}/u/NOPE9/", 404)
    yield "404"
    with mock.patch("intake.views.units_open_to_reporters", side_effect=RuntimeError("bug")):
        goto(page, f"{base}/", 500)
    yield "500"


@pytest.mark.parametrize("language", LANGUAGES)
def test_axe_finds_no_violation_on_any_reporter_page(
    browser, live_server, unit_for_pages, settings, language
):
    found = {}
    with browser_page(browser, live_server, language, bypass_csp=True) as page:
        for name in reporter_pages(page, live_server.url, unit_for_pages, language, settings):
            # axe checks that lang is valid, not that it is the page's language.
            page_language = "en" if name == "500" else language  # 500: all three, each marked
            assert page.locator("html").get_attribute("lang") == page_language, name
            if violations := axe_violations(page):
                found[name] = describe(violations)
        goto(page, f"{live_server.url}/staff/login/", 200)
        if violations := axe_violations(page):
            found["staff login"] = describe(violations)
    assert not found, "\n\n".join(f"== {name}\n{report}" for name, report in found.items())


# What sticks out past the right edge (elements, and text that overflows its box),
# for the failure message.
OVERFLOWING = """() => {
    const width = document.documentElement.clientWidth;
    const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
        + (typeof el.className === "string" && el.className.trim()
           ? "." + el.className.trim().replace(/ +/g, ".") : "");
    const found = new Set();
    for (const el of document.querySelectorAll("body *")) {
        if (el.getClientRects().length && el.getBoundingClientRect().right > width + 0.5) {
            found.add(name(el));
        }
    }
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    while (walker.nextNode()) {
        range.selectNodeContents(walker.currentNode);
        const right = range.getBoundingClientRect().right;
        if (right > width + 0.5) {
            found.add("text in " + name(walker.currentNode.parentElement) + ": "
                      + walker.currentNode.textContent.trim().slice(0, 40));
        }
    }
    return [...found];
}"""


@pytest.mark.parametrize("language", LANGUAGES)
def test_text_zoomed_to_200_percent_on_a_phone_scrolls_only_vertically(
    browser, live_server, unit_for_pages, settings, language
):
    """WCAG 1.4.10: a 360 px phone with text at 200% lays out like a 180 CSS px wide
    screen; nothing may need a sideways scroll (posters included, as seen on screen)."""
    wide = {}
    zoomed = {"viewport": {"width": 180, "height": 370}}
    with browser_page(browser, live_server, language, **zoomed) as page:
        for name in reporter_pages(page, live_server.url, unit_for_pages, language, settings):
            scroll, client = page.evaluate(
                "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert client == 180, client
            if scroll > client:
                wide[name] = f"{scroll} px wide: " + ", ".join(page.evaluate(OVERFLOWING))
    assert not wide, "\n".join(f"{name}: {why}" for name, why in wide.items())


# Every link, button, radio and checkbox a finger can aim at, with the box it can hit:
# for a radio or checkbox, its row with its label (the label is clickable too). A
# link inside a sentence of other text is excused (WCAG 2.5.8, inline). Something
# kept off screen until focused (the skip link) is measured focused.
SMALL_TARGETS = """(minimum) => {
    const small = [];
    const targets = document.querySelectorAll(
        "a[href], button, input[type=radio], input[type=checkbox], input[type=submit], summary");
    for (const el of targets) {
        if (!el.getClientRects().length || getComputedStyle(el).visibility === "hidden") continue;
        const inSentence = getComputedStyle(el).display === "inline"
            && el.parentElement.textContent.trim().length > el.textContent.trim().length;
        if (inSentence) continue;
        const box = el.matches("input[type=radio], input[type=checkbox]")
            ? (el.closest(".radio, label") || el) : el;
        let rect = box.getBoundingClientRect();
        if (rect.right <= 0 || rect.bottom <= -window.scrollY) {
            el.focus();
            rect = box.getBoundingClientRect();
            el.blur();
        }
        if (rect.width < minimum - 0.01 || rect.height < minimum - 0.01) {
            const size = `${rect.width.toFixed(1)}x${rect.height.toFixed(1)}`;
            small.push(`${el.outerHTML.slice(0, 80)} ${size}`);
        }
    }
    return small;
}"""


def test_every_target_on_a_phone_is_at_least_44_px(browser, live_server, unit_for_pages, settings):
    """Radios, checkboxes, links and buttons: at least 44x44 CSS px (WCAG 2.5.5's size,
    beyond 2.5.8's 24), so a child's finger on a small phone hits what it aims at."""
    small = {}
    phone = {"viewport": {"width": 360, "height": 640}, "is_mobile": True, "has_touch": True}
    with browser_page(browser, live_server, "en", **phone) as page:
        for name in reporter_pages(page, live_server.url, unit_for_pages, "en", settings):
            if found := page.evaluate(SMALL_TARGETS, 44):
                small[name] = found
    assert not small, "\n".join(
        f"{name}:\n    " + "\n    ".join(found) for name, found in small.items()
    )
