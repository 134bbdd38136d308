"""A child's whole journey in Arabic in Chromium, with JavaScript off: the start page,
the complaint form, the confirmation with its reference and code, and the follow-up with
the code typed in Arabic-Indic digits; then the Arabic poster. Every page is laid out
right to left (the layout mirrored, not only the text), keeps the reference and code
left to right, and passes axe-core.

axe-core needs JavaScript (its run waits on timers), so each page's HTML, as the
JavaScript-free browser got it, is served again at its own address to a second context
with JavaScript on, and axe checks that. Screenshots go to $SCREENSHOT_DIR when set (to
look at them), else to the test's temporary directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.axe import axe_violations, describe

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
TO_ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

# Where things sit on the page: in Arabic the brand is at the right, the emergency
# line's bar on its right edge, the list bullets on the right.
LAYOUT = """() => {
    const box = el => el.getBoundingClientRect();
    const width = document.documentElement.clientWidth;
    const line = document.querySelector(".emergency-line, .emergency");
    return {
        dir: getComputedStyle(document.documentElement).direction,
        brandRight: box(document.querySelector(".brand")).right,
        brandLeft: box(document.querySelector(".brand")).left,
        width: width,
        barRight: line ? getComputedStyle(line).borderRightWidth : null,
        barLeft: line ? getComputedStyle(line).borderLeftWidth : null,
        scrollWidth: document.documentElement.scrollWidth,
    };
}"""


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def axe_page(browser):
    """A context with JavaScript on, to run axe on a page the JavaScript-free one got."""
    context = browser.new_context(bypass_csp=True, **PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def axe_of(axe_page, page) -> list[dict]:
    html, url = page.content(), page.url
    axe_page.unroute("**/*")
    axe_page.route(
        lambda address: address.split("#")[0] == url.split("#")[0],
        lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html),
    )
    axe_page.goto(url)
    return axe_violations(axe_page)


def check_right_to_left(page, name: str) -> None:
    layout = page.evaluate(LAYOUT)
    assert page.locator("html").get_attribute("lang") == "ar", name
    assert page.locator("html").get_attribute("dir") == "rtl", name
    assert layout["dir"] == "rtl", name
    # Mirrored: the brand starts at the right edge, not the left.
    assert layout["brandLeft"] > layout["width"] / 2, (name, layout)
    if layout["barRight"] is not None:
        assert layout["barRight"] == "5px" and layout["barLeft"] == "0px", (name, layout)
    assert layout["scrollWidth"] <= layout["width"], (name, layout)  # nothing off the side


def test_a_child_goes_through_the_whole_journey_in_arabic_without_javascript(
    browser, live_server, unit, focal_point, axe_page, shots
):
    context = browser.new_context(java_script_enabled=False, **PHONE)
    context.add_cookies([{"name": "django_language", "value": "ar", "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    found = {}

    def look(name: str) -> None:
        check_right_to_left(page, name)
        page.screenshot(path=str(shots / f"arabic-{name}.png"), full_page=True)
        if violations := axe_of(axe_page, page):
            found[name] = describe(violations)

    page.goto(f"{live_server.url}/")
    look("start")
    # The language switch names Arabic in Arabic, marked as the current one.
    current = page.locator(".language-switcher button[aria-current=true]")
    assert current.inner_text() == "العربية"

    page.locator(f"a[href='/u/{unit.code}/']").click()
    page.wait_for_url(f"**/u/{unit.code}/")
    look("form")
    page.fill("textarea[name=narrative]", "أخذ الشرطي هاتفي وصرخ في وجهي.")
    page.check("input[name=category][value=physical_violence]")
    page.check("input[name=in_danger][value=no]")
    page.check("input[name=about_staff][value=yes]")
    page.check("input[name=contact_preference][value=follow_up_page]")
    with page.expect_navigation():
        page.locator(f"form[action='/u/{unit.code}/'] button[type=submit]").click()

    reference_cell = page.locator("#case-reference bdi[dir=ltr]")
    reference = reference_cell.inner_text().strip()
    code = page.locator("#followup-code bdi[dir=ltr]").inner_text().strip()
    assert len(reference) == 9 and reference[4] == "-"
    assert len(code.replace(" ", "")) == 12
    # Isolated, the reference reads left to right: its first character is drawn leftmost.
    first, last = page.evaluate(
        """(el) => { const r = document.createRange(); const t = el.firstChild;
        r.setStart(t, 0); r.setEnd(t, 1); const a = r.getBoundingClientRect().left;
        r.setStart(t, t.length - 1); r.setEnd(t, t.length);
        return [a, r.getBoundingClientRect().left]; }""",
        reference_cell.element_handle(),
    )
    assert first < last
    look("received")

    page.goto(f"{live_server.url}/follow-up/")
    look("follow-up")
    page.fill("input[name=reference]", reference)
    page.fill("input[name=code]", code.translate(TO_ARABIC_DIGITS))
    with page.expect_navigation():
        page.locator("form[action='/follow-up/'] button[type=submit]").click()
    assert page.url.endswith("/follow-up/case/"), page.url
    assert page.locator(f"h1 bdi[dir=ltr]:text-is('{reference}')").count() == 1
    look("case")

    page.goto(f"{live_server.url}/u/{unit.code}/poster/?lang=ar")
    look("poster")
    assert page.locator(f".sheet-how strong bdi[dir=ltr]:text-is('{unit.code}')").count() == 1
    context.close()
    assert not found, "\n\n".join(f"== {name}\n{report}" for name, report in found.items())
