"""Issue 14 in Chromium, JavaScript off: a focal point of a unit in Dakar triages and
closes a case in French. The queue's filters, the case page's sections, the status
choices and the notices are French; times are Dakar's. Expected words come from the
French catalogue itself, and each must differ from the English, so an untranslated
string fails the test."""

import pytest
from django.utils import translation
from django.utils.translation import gettext

from complaints.models import Case
from complaints.services import complaint_receive
from policies.models import Membership, Unit
from tests.browser.staff import staff_sign_in
from tests.conftest import make_staff, make_unit

pytestmark = pytest.mark.browser


def french(english: str) -> str:
    with translation.override("fr"):
        translated = gettext(english)
    assert translated != english, f"not translated into French: {english!r}"
    return translated


def test_a_focal_point_triages_and_closes_a_case_in_french(browser, live_server, django_user_model):
    unit = make_unit("DKR7", language="fr")
    Unit.objects.filter(pk=unit.pk).update(time_zone="Africa/Dakar")
    focal = make_staff(django_user_model, "awa", unit, Membership.Role.FOCAL_POINT)
    case = complaint_receive(
        unit=unit,
        channel="web",
        language="fr",
        narrative="Le gardien m'a crié dessus.",
        category="neglect",
        in_danger=False,
        about_staff_answer="unsure",
        contact_preference="follow_up_page",
    ).case
    other = complaint_receive(
        unit=unit,
        channel="web",
        language="fr",
        narrative="Autre chose.",
        category="neglect",
        in_danger=False,
        about_staff_answer="no",
        contact_preference="none",
    ).case

    context = browser.new_context(java_script_enabled=False, locale="fr-SN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    staff_sign_in(page, live_server.url, focal)

    # The queue, in French: find the case by its reference, without the dash, lower case.
    page.get_by_role("heading", name=french("Case queue")).wait_for()
    assert page.locator("html").get_attribute("lang") == "fr"
    page.get_by_label(french("Find a case by reference")).fill(case.reference.lower())
    with page.expect_navigation():
        page.locator("form[role=search]").get_by_role("button", name=french("Find")).click()
    rows = page.locator("#queue tbody tr")
    assert rows.count() == 1 and case.display_reference in rows.first.inner_text()
    assert other.display_reference not in page.locator("#queue").inner_text()
    rows.first.get_by_role("link").click()

    # The case page: sections and what the child wrote, in French chrome.
    page.get_by_role("heading", name=french("Handle the case")).wait_for()
    assert "Le gardien m'a crié dessus." in page.locator("#complaint").inner_text()
    assert french("Not sure") in page.locator("#summary").inner_text()

    # Take it, then walk it to a decision and close it.
    page.locator("#assignment select").select_option(str(focal.pk))
    page.locator("#assignment button[type=submit]").click()
    page.wait_for_url("**#assignment")
    assert focal.username in page.locator("#assignment").inner_text()
    for status, reason in [
        ("acknowledged", ""),
        ("assessing", ""),
        ("investigating", ""),
        ("unsubstantiated", "Faits non établis"),
    ]:
        handling = page.locator("#handling")
        handling.locator("#id_to_status").select_option(status)
        handling.locator("#id_reason").fill(reason)
        handling.get_by_role("button", name=french("Save status")).click()
        page.wait_for_url("**#handling")
        case.refresh_from_db()
        assert case.status == status
    notice = page.locator(".notice").first.inner_text()
    assert notice and "Status" not in notice  # the notice is French too

    # The child chose the follow-up page: the outcome is there, so the case may close.
    page.locator("#handling #id_to_status").select_option("closed")
    page.locator("#handling #id_reason").fill("Enfant informé par la page de suivi")
    page.locator("#handling").get_by_role("button", name=french("Save status")).click()
    page.wait_for_url("**#handling")
    assert Case.objects.get(pk=case.pk).status == "closed"
    assert (
        french("This case is closed: nothing more to do.") in page.locator("#handling").inner_text()
    )
    context.close()
