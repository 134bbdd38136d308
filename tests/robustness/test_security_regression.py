"""Every URL pattern, walked as an anonymous visitor, a password-only session, a focal
point of another unit and a unit manager."""

import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from complaints.services import complaint_receive
from policies.models import Membership
from tests.conftest import PASSWORD, make_staff, staff_login, totp_now

SKIP_NAMESPACES = {"admin"}
PUBLIC = {
    "intake:start",
    "intake:complaint_form",
    "intake:poster",
    "intake:leaflet",
    "intake:followup",
    "intake:followup_case",
    "intake:followup_leave",
    "intake:exit",
    "intake:safety",
    "intake:followup_danger",
    "intake:followup_withdraw",
    "intake:followup_rate",
    "intake:followup_review",
    "set_language",
    "healthz",  # ok or failing per component, nothing else (config/health.py)
    "metrics",  # its own bearer token, not a staff sign-in (tests/test_metrics.py)
    "staff:login",
    "staff:verify",
    "staff:enroll",
    "staff:logout",
}


def named_patterns(resolver=None, namespace=""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            if ns in SKIP_NAMESPACES:
                continue
            yield from named_patterns(entry, f"{namespace}{ns}:" if ns else namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", entry


def url_for(name, pattern, case, unit):
    kwargs = {}
    for key in pattern.pattern.converters:
        kwargs[key] = {
            "reference": case.reference,
            "code": unit.code,
            "pk": 1,
            "kind": "overdue",
            "media_id": uuid.uuid4(),
        }[key]
    return reverse(name, kwargs=kwargs)


@pytest.fixture
def case(unit):
    return complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative="secret words",
        category="neglect",
        in_danger=False,
        about_staff_answer="no",
        contact_preference="none",
    ).case


def expected(name, role, has_pk=False):
    """The status each role must get (GET and POST alike)."""
    if name.startswith("intake:twilio"):
        return {403}  # unsigned
    if name == "intake:sms_simulator":
        return {404}  # DEBUG is off
    if role == "anonymous":
        return {302}
    if role == "password_only":
        return {302}
    if name in {"staff:queue", "staff:password_change", "staff:language"}:  # one's own
        return {200, 302, 405}
    if name == "staff:legal_hold_find":  # GET only; a manager is sent on, others 404
        return {302, 405} if role == "manager" else {404, 405}
    if role == "manager" and name == "staff:case_legal_hold":
        # The unit's managers set legal holds (metadata only); an empty POST is bad input.
        return {200, 302}
    if role == "manager" and (name.startswith(("policies:", "competencies:", "oversight:"))):
        # An empty POST may be refused as bad input (400); pk 1 may not exist (404).
        return {200, 302, 400, 404, 405} if has_pk else {200, 302, 400, 405}
    return {404}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["anonymous", "password_only", "outsider", "manager"])
def test_every_url_answers_each_role_as_expected(client, unit, case, outsider, manager, role):
    if role == "password_only":
        client.post(reverse("staff:login"), {"username": "outsider", "password": PASSWORD})
    elif role == "outsider":
        staff_login(client, outsider)
    elif role == "manager":
        staff_login(client, manager)
    checked = 0
    for name, pattern in named_patterns():
        if name in PUBLIC:
            continue
        url = url_for(name, pattern, case, unit)
        for method in ("get", "post"):
            status = getattr(client, method)(url).status_code
            allowed = expected(name, role, has_pk="pk" in pattern.pattern.converters)
            if method == "get" and 405 not in allowed and status == 405:
                continue  # a POST-only view refuses GET before anything else
            assert status in allowed, f"{role} {method.upper()} {url} -> {status}"
        checked += 1
    assert checked >= 20


@pytest.mark.django_db
def test_session_id_rotates_at_login_and_a_totp_code_cannot_be_reused(client, focal_point):
    client.get(reverse("staff:login"))
    client.post(reverse("staff:login"), {"username": "focal", "password": "wrong"})
    before = client.cookies.get("sessionid").value if client.cookies.get("sessionid") else None
    client.post(reverse("staff:login"), {"username": "focal", "password": PASSWORD})
    after_password = client.cookies["sessionid"].value
    assert after_password != before
    device = TOTPDevice.objects.get(user=focal_point)
    token = totp_now(device)
    client.post(reverse("staff:verify"), {"token": token})
    assert (
        client.cookies["sessionid"].value != after_password
    )  # rotated again with the second factor
    assert client.session.get("otp_device_id")
    client.post(reverse("staff:logout"))
    client.post(reverse("staff:login"), {"username": "focal", "password": PASSWORD})
    client.post(reverse("staff:verify"), {"token": token})
    assert not client.session.get("otp_device_id")  # the same code twice: refused


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/", "/u/TST1/", "/u/TST1/poster/", "/u/TST1/leaflet/", "/follow-up/", "/follow-up/withdraw/"],
)
def test_reporter_pages_carry_the_protective_headers(client, unit, path):
    response = client.get(path)
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Frame-Options"] == "DENY"
    csp = response["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp


def test_a_manager_membership_is_not_a_focal_point(db, django_user_model, unit):
    manager = make_staff(django_user_model, "m2", unit, Membership.Role.MANAGER)
    assert not Membership.objects.filter(user=manager, role=Membership.Role.FOCAL_POINT).exists()
