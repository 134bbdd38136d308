"""Signing a staff member in, as a person does: password, then the authenticator's
code. Selectors by id, so it works in any staff language."""

from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import PASSWORD, totp_now


def staff_sign_in(page, base_url: str, user) -> None:
    """Leaves the page on where sign-in lands (the queue, or a manager's review)."""
    page.goto(f"{base_url}/staff/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():  # the password form's button, not the language form's
        page.click("form:has(#id_password) button[type=submit]")
    page.fill("input[name=token]", totp_now(TOTPDevice.objects.get(user=user, confirmed=True)))
    with page.expect_navigation():  # not the header's "Sign out", also a submit button
        page.click("form:has(input[name=token]) button[type=submit]")
