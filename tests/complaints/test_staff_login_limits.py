"""Issue 13, section 3: the staff password step is limited per account and per client
address, holds under a burst, and every failure and lockout is audited; one TOTP
code signs in once."""

import json
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.auth.backends import ModelBackend
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from complaints.models import AuditEvent, ThrottleEvent
from policies.models import Membership
from tests.conftest import PASSWORD, burst, make_staff, totp_now

LOGIN = reverse("staff:login")


@pytest.fixture
def password_checks(monkeypatch):
    """How many passwords the server actually checked, counted across threads."""
    counter = Counter()
    lock = threading.Lock()
    real = ModelBackend.authenticate

    def counting(self, request, username=None, password=None, **kwargs):
        with lock:
            counter["checks"] += 1
        return real(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", counting)
    return counter


def sign_in(username: str, password: str, address: str = "10.0.0.1"):
    return Client(REMOTE_ADDR=address).post(LOGIN, {"username": username, "password": password})


@pytest.mark.django_db
def test_five_wrong_passwords_lock_the_account_and_the_right_one_is_then_not_checked(
    focal_point, password_checks
):
    for i in range(5):
        assert sign_in("focal", f"guess {i}").status_code == 200
    assert password_checks["checks"] == 5
    response = sign_in("focal", PASSWORD)
    assert response.status_code == 429
    assert password_checks["checks"] == 5  # refused without checking the password
    page = response.content.decode()
    assert "Please try again after" in page
    assert "your manager or an administrator can help" in page
    assert 0 < int(response["Retry-After"]) <= 15 * 60 + 1
    assert "_auth_user_id" not in response.wsgi_request.session


@pytest.mark.django_db
def test_an_unknown_username_is_limited_like_a_real_one(db, password_checks):
    for i in range(5):
        assert sign_in("nobody", f"guess {i}").status_code == 200
    assert sign_in("nobody", "guess 6").status_code == 429
    assert sign_in("Nobody ", "guess 7").status_code == 429  # same name, other spelling
    assert password_checks["checks"] == 5


@pytest.mark.django_db
def test_twenty_failures_from_one_address_lock_that_address_for_every_account(focal_point):
    for i in range(20):
        assert sign_in(f"name{i}", "guess", address="10.0.0.9").status_code == 200
    assert sign_in("focal", PASSWORD, address="10.0.0.9").status_code == 429
    assert sign_in("focal", PASSWORD, address="10.0.0.10").status_code == 302


@pytest.mark.django_db
def test_a_successful_login_does_not_clear_anyone_elses_failures(
    focal_point, django_user_model, unit
):
    make_staff(django_user_model, "other", unit, Membership.Role.FOCAL_POINT)
    for i in range(4):
        sign_in("focal", f"guess {i}", address="10.6.6.6")
    for i in range(16):
        sign_in(f"name{i}", "guess", address="10.6.6.6")
    assert sign_in("focal", PASSWORD, address="10.0.0.2").status_code == 302
    assert sign_in("other", PASSWORD, address="10.6.6.6").status_code == 429  # client: 20
    assert sign_in("focal", "guess 5", address="10.0.0.3").status_code == 200  # the fifth
    assert sign_in("focal", PASSWORD, address="10.0.0.2").status_code == 429


@pytest.mark.django_db
def test_a_right_password_does_not_count_as_a_failure(focal_point):
    for _ in range(8):
        assert sign_in("focal", PASSWORD).status_code == 302
    assert not ThrottleEvent.objects.exists()


@pytest.mark.django_db
def test_the_lock_lifts_when_the_window_passes(focal_point, settings):
    for i in range(5):
        sign_in("focal", f"guess {i}")
    assert sign_in("focal", PASSWORD).status_code == 429
    ThrottleEvent.objects.update(
        at=timezone.now()
        - timedelta(minutes=settings.STAFF_LOGIN_THROTTLE_WINDOW_MINUTES, seconds=1)
    )
    assert sign_in("focal", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_the_limits_come_from_settings(focal_point, settings):
    settings.STAFF_LOGIN_MAX_FAILURES_PER_ACCOUNT = 2
    sign_in("focal", "guess 1")
    sign_in("focal", "guess 2")
    assert sign_in("focal", PASSWORD).status_code == 429


@pytest.mark.django_db
def test_every_failure_and_the_lockout_are_audited_without_password_or_username(focal_point):
    for i in range(5):
        sign_in("focal", f"secret guess {i}")
    sign_in("focal", "secret guess 6")  # refused: not a new failure
    for i in range(2):
        sign_in("nobody", f"secret guess {i}")
    failed = AuditEvent.objects.filter(action="staff.login.failed")
    assert failed.count() == 7
    assert [e.data["user_id"] for e in failed[:5]] == [focal_point.pk] * 5
    assert [e.data["account_failures"] for e in failed[:5]] == [1, 2, 3, 4, 5]
    assert "user_id" not in failed[5].data and len(failed[5].data["account"]) == 64
    locked = AuditEvent.objects.get(action="staff.login.locked")
    assert locked.data["user_id"] == focal_point.pk and locked.data["limit"] == "account"
    assert locked.data["until"]
    stored = json.dumps([e.data for e in AuditEvent.objects.all()]) + "".join(
        e.actor_label for e in AuditEvent.objects.all()
    )
    for secret in ("secret guess", "focal", "nobody", "10.0.0.1"):
        assert secret not in stored


@pytest.mark.django_db
def test_an_empty_form_is_not_counted(focal_point):
    response = Client().post(LOGIN, {"username": "focal", "password": ""})
    assert response.status_code == 200
    assert not ThrottleEvent.objects.exists()
    assert not AuditEvent.objects.filter(action="staff.login.failed").exists()


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_wrong_passwords_gets_at_most_five_checks(
    unit, django_user_model, password_checks
):
    make_staff(django_user_model, "focal", unit, Membership.Role.FOCAL_POINT)
    statuses = burst(
        40, lambda i: sign_in("focal", f"guess {i}", address=f"10.2.{i}.1").status_code
    )
    print(
        f"\nstaff password, one account: 40 simultaneous wrong passwords -> "
        f"{password_checks['checks']} password checks; statuses {sorted(Counter(statuses).items())}"
    )
    assert password_checks["checks"] <= 5
    assert statuses.count(200) == password_checks["checks"]
    assert statuses.count(429) == 40 - password_checks["checks"]


@pytest.mark.django_db(transaction=True)
def test_one_totp_code_sent_by_several_sessions_at_once_signs_in_at_most_once(
    unit, django_user_model
):
    """The race shows on PostgreSQL (before the fix, 3 of 6 sessions signed in with one
    code); on SQLite every transaction takes the one write lock at BEGIN, so the test
    guards there only against the check leaving its transaction."""
    user = make_staff(django_user_model, "focal", unit, Membership.Role.FOCAL_POINT)
    sessions = [Client(REMOTE_ADDR=f"10.3.{i}.1") for i in range(6)]
    for client in sessions:
        assert client.post(LOGIN, {"username": "focal", "password": PASSWORD}).status_code == 302
    token = totp_now(TOTPDevice.objects.get(user=user))

    def verify(i):
        sessions[i].post(reverse("staff:verify"), {"token": token})
        return bool(sessions[i].session.get("otp_device_id"))

    verified = burst(len(sessions), verify)
    print(f"\nTOTP: one code sent by {len(sessions)} sessions at once -> {sum(verified)} signed in")
    assert sum(verified) == 1


@pytest.mark.django_db
def test_the_admin_login_form_checks_no_password_and_sends_to_the_staff_login(
    focal_point, password_checks
):
    response = Client().post(
        "/admin/login/?next=/admin/", {"username": "focal", "password": "guess"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert password_checks["checks"] == 0


@pytest.mark.django_db
def test_the_admin_is_reached_through_both_staff_steps(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    response = client.get("/admin/", follow=True)
    assert response.request["PATH_INFO"] == LOGIN
    response = client.post(
        f"{LOGIN}?next=/admin/",
        {"username": "root", "password": PASSWORD, "next": "/admin/"},
        follow=True,
    )
    assert response.request["PATH_INFO"] == reverse("staff:verify")
    token = totp_now(TOTPDevice.objects.get(user=admin))
    response = client.post(
        f"{reverse('staff:verify')}?next=/admin/", {"token": token, "next": "/admin/"}
    )
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
