"""Issue 14 §3 in a real browser: a focal point of a unit in Dakar signs in (password,
then TOTP) and reads the staff pages in French, with times in Africa/Dakar; the
language choice in the header works without JavaScript."""

import pytest
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django_otp.plugins.otp_totp.models import TOTPDevice

from complaints.services import complaint_receive
from policies.models import Membership, StaffProfile, Unit
from tests.browser.axe import axe_violations, describe
from tests.conftest import PASSWORD, make_staff, make_unit, totp_now

pytestmark = pytest.mark.browser


def test_a_french_focal_point_signs_in_to_french_staff_pages_in_dakar_time(
    browser, live_server, django_user_model
):
    unit = make_unit("DKR5", language="fr")
    Unit.objects.filter(pk=unit.pk).update(time_zone="Africa/Dakar")
    unit.refresh_from_db()
    focal = make_staff(django_user_model, "aminata", unit, Membership.Role.FOCAL_POINT)
    case = complaint_receive(
        unit=unit,
        channel="web",
        language="fr",
        narrative="On m'a frappé",
        category="physical_violence",
        in_danger=False,
        about_staff_answer="yes",
        contact_preference="none",
    ).case

    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/staff/")
    # Nobody is known yet: the browser's language.
    page.get_by_label("Username").fill(focal.username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    # Known after the password: their unit's language from the second step on.
    page.get_by_role("heading", name="Code d'authentification").wait_for()
    page.get_by_label("Code", exact=True).fill(totp_now(TOTPDevice.objects.get(user=focal)))
    page.get_by_role("button", name="Se connecter").click()

    header = page.locator("header.staff-header")
    header.get_by_role("button", name="Se déconnecter").wait_for()
    assert header.get_by_role("link", name="Mot de passe").is_visible()
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("#staff-time-zone").inner_text() == "Heures : fuseau Africa/Dakar"
    received = timezone.localtime(case.received_at, timezone=unit_zone(unit))
    assert date_format(received, "Y-m-d H:i") in page.locator("main").inner_text()

    # The header's choice, a plain form: English for this person from now on.
    page.get_by_label("Langue").select_option("en")
    header.get_by_role("button", name="Enregistrer").click()
    header.get_by_role("button", name="Sign out").wait_for()
    assert page.get_by_text("Language saved.").is_visible()
    assert page.locator("#staff-time-zone").inner_text() == "Times in Africa/Dakar"

    # The header as axe sees it, on a page of this issue's own (the session carried over).
    checked = browser.new_context(bypass_csp=True, storage_state=context.storage_state())
    context.close()
    page = checked.new_page()
    for language in ("fr", "en"):
        StaffProfile.objects.filter(user=focal).update(language=language)
        page.goto(f"{live_server.url}/staff/password/")
        assert page.locator("html").get_attribute("lang") == language
        violations = axe_violations(page)
        assert not violations, describe(violations)
    checked.close()


def unit_zone(unit):
    from policies.selectors import unit_time_zone

    return unit_time_zone(unit)
