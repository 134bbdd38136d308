"""Staff sign-in: the limits on the password step and the check of the one-time code.

Wrong passwords are counted per account (the username as typed, whether or not the
account exists, so that probing names gains nothing) and per client address, before
the password is checked (complaints/throttles.py): a burst cannot get more checks
than the limit. Both keys are blind indexes; the audit log names an account by its
user id when it exists, otherwise by the blind index, never by the typed name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from complaints.audit import audit_record
from complaints.models import ThrottleEvent
from complaints.throttles import Claim, Limit, throttle_claim, throttle_prune, throttle_release
from vault import server_sealed

ACCOUNT_SCOPE = "login-account"
CLIENT_SCOPE = "login-client"


@dataclass(frozen=True)
class SigninAttempt:
    claim: Claim
    account_key: str
    client_key: str

    @property
    def allowed(self) -> bool:
        return self.claim.granted

    @property
    def refusal(self) -> str:
        """What the login page says once a limit is reached."""
        until = timezone.localtime(self.claim.retry_at)
        return gettext(
            "Too many sign-in attempts, so signing in is paused to protect the account. "
            "Please try again after %(time)s (%(zone)s). If you cannot wait, your manager or "
            "an administrator can help."
        ) % {"time": time_format(until, "TIME_FORMAT"), "zone": until.tzname()}

    @property
    def retry_after_seconds(self) -> int:
        return max(1, int((self.claim.retry_at - timezone.now()).total_seconds()) + 1)


def signin_attempt_start(*, username: str, address: str) -> SigninAttempt:
    """Count a password attempt before the password is checked, or refuse it when the
    account or the client address has reached its limit."""
    account_key = server_sealed.blind_index(
        username.strip().casefold(), purpose="staff-login-account"
    )
    # Its own purpose: a staff address must not match a child's follow-up key.
    client_key = server_sealed.blind_index(address, purpose="staff-login-client")
    claim = throttle_claim(
        limits=[
            Limit(
                scope=ACCOUNT_SCOPE,
                key=account_key,
                maximum=settings.STAFF_LOGIN_MAX_FAILURES_PER_ACCOUNT,
            ),
            Limit(
                scope=CLIENT_SCOPE,
                key=client_key,
                maximum=settings.STAFF_LOGIN_MAX_FAILURES_PER_CLIENT,
            ),
        ],
        window=_window(),
    )
    return SigninAttempt(claim=claim, account_key=account_key, client_key=client_key)


def signin_attempt_succeeded(*, attempt: SigninAttempt) -> None:
    """The password was right: this attempt stops counting. Earlier failures, this
    client's or anyone else's, stay until they leave the window."""
    throttle_release(attempt.claim)


def signin_attempt_failed(*, attempt: SigninAttempt, username: str) -> None:
    """Audit the failure, and the lockout when this failure reaches a limit."""
    who = _account_label(username=username, account_key=attempt.account_key)
    counts = attempt.claim.counts
    audit_record(
        action="staff.login.failed",
        data={
            **who,
            "client": attempt.client_key,
            "account_failures": counts[ACCOUNT_SCOPE],
            "client_failures": counts[CLIENT_SCOPE],
        },
    )
    limits = {
        ACCOUNT_SCOPE: settings.STAFF_LOGIN_MAX_FAILURES_PER_ACCOUNT,
        CLIENT_SCOPE: settings.STAFF_LOGIN_MAX_FAILURES_PER_CLIENT,
    }
    for scope, maximum in limits.items():
        if counts[scope] == maximum:
            audit_record(
                action="staff.login.locked",
                data={
                    **who,
                    "client": attempt.client_key,
                    "limit": scope.removeprefix("login-"),
                    "until": _locked_until(scope, attempt).isoformat(),
                },
            )
    throttle_prune(scopes=(ACCOUNT_SCOPE, CLIENT_SCOPE), window=_window())


def _account_label(*, username: str, account_key: str) -> dict:
    user_model = get_user_model()
    user_id = (
        user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username})
        .values_list("pk", flat=True)
        .first()
    )
    return {"user_id": user_id} if user_id is not None else {"account": account_key}


def _locked_until(scope: str, attempt: SigninAttempt):
    key = attempt.account_key if scope == ACCOUNT_SCOPE else attempt.client_key
    since = timezone.now() - _window()
    oldest = (
        ThrottleEvent.objects.filter(scope=scope, key=key, at__gte=since)
        .order_by("at")
        .values_list("at", flat=True)
        .first()
    )
    return (oldest or timezone.now()) + _window()


def _window() -> timedelta:
    return timedelta(minutes=settings.STAFF_LOGIN_THROTTLE_WINDOW_MINUTES)


class TokenCheck(Enum):
    VERIFIED = "verified"
    WRONG = "wrong"
    THROTTLED = "throttled"


def totp_verify(*, device: TOTPDevice, token: str) -> TokenCheck:
    """Check a code from the person's authenticator, honouring django-otp's throttle
    on repeated failures. The device row is locked while the code is checked and its
    last used time step saved (as django_otp.verify_token does), so a code sent twice
    at once is accepted once: the second request waits, then sees the step used."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        allowed, _extra = device.verify_is_allowed()
        if not allowed:
            return TokenCheck.THROTTLED
        return TokenCheck.VERIFIED if device.verify_token(token) else TokenCheck.WRONG
