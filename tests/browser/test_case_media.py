"""Issue 19 §1 in a real browser: a photo a child sent by MMS is shown on the staff case
page (fetched through the audited media view, under the page's strict CSP), the voice
message has its player, and the page passes axe-core."""

import pytest

from complaints.models import AuditEvent, Case
from intake.media import media_fetch
from intake.models import InboundMedia
from tests.browser.axe import axe_violations, describe
from tests.browser.staff import staff_sign_in
from tests.intake.media_standin import inbound, png, twilio_media_standin

pytestmark = pytest.mark.browser


@pytest.fixture
def case_with_media(client, settings, unit, focal_point):
    with twilio_media_standin(settings) as api:
        for text in ("TST1 the guard hit me", "DONE", "2", "2"):
            inbound(client, api, text)
        inbound(client, api, media=[("image/png", png("browser"))])
        inbound(client, api, media=[("audio/ogg", b"OggS\x00\x02 voice")])
        for pk in InboundMedia.objects.values_list("pk", flat=True):
            assert media_fetch(pk) == "sent"
    return Case.objects.get()


def open_case_page(browser, live_server, case, user):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    staff_sign_in(page, live_server.url, user)
    page.goto(f"{live_server.url}/staff/cases/{case.reference}/")
    return context, page


def test_a_focal_point_sees_the_childs_photo_on_the_case_page(
    browser, live_server, case_with_media, focal_point
):
    case = case_with_media
    # Under the pages' own CSP: the photo loads from the media view.
    context, page = open_case_page(browser, live_server, case, focal_point)
    section = page.get_by_role("region", name="Photos and voice messages from the child")
    photo = section.get_by_role("img", name="Photo the child sent on")
    photo.wait_for()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=photo.element_handle()
    )
    assert photo.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [2, 2]
    assert section.get_by_role("link", name="Open the photo on its own").count() == 1
    assert section.locator("audio[controls]").count() == 1
    opened = AuditEvent.objects.filter(action="complaints.media.opened", case=case)
    assert opened.filter(data__kind="photo", actor=focal_point).exists()

    # axe-core is injected, so a context of the same session lets inline scripts run
    # (tests/browser/axe.py); a second sign-in would reuse the authenticator's code.
    signed_in = context.storage_state()
    context.close()
    context = browser.new_context(bypass_csp=True, storage_state=signed_in)
    page = context.new_page()
    page.goto(f"{live_server.url}/staff/cases/{case.reference}/")
    page.get_by_role("region", name="Photos and voice messages from the child").wait_for()
    violations = axe_violations(page)
    assert not violations, describe(violations)
    context.close()
