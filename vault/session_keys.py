"""A private key kept for one visit: the key that opens it in a Strict, HttpOnly cookie,
the sealed key in the server-side session. Neither half alone opens it, and signing
out or closing the browser loses one of them."""

import base64
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from vault import crypto


@dataclass(frozen=True)
class Slot:
    session_key: str
    cookie: str


STAFF = Slot(session_key="private_key_blob", cookie="recourse_rk")
REPORTER = Slot(session_key="followup_key_blob", cookie="recourse_fk")


def store(request: HttpRequest, response: HttpResponse, slot: Slot, private_key: bytes) -> None:
    cookie_key, blob = crypto.session_wrap_private_key(private_key)
    request.session[slot.session_key] = base64.b64encode(blob).decode()
    response.set_cookie(
        slot.cookie,
        base64.urlsafe_b64encode(cookie_key).decode(),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )


def load(request: HttpRequest, slot: Slot) -> bytes | None:
    blob, cookie = request.session.get(slot.session_key), request.COOKIES.get(slot.cookie)
    if not blob or not cookie:
        return None
    try:
        return crypto.session_unwrap_private_key(
            base64.b64decode(blob), base64.urlsafe_b64decode(cookie)
        )
    except (crypto.DecryptionError, ValueError):
        return None


def forget(response: HttpResponse, slot: Slot) -> None:
    response.delete_cookie(slot.cookie, samesite="Strict")


def staff_private_key(request: HttpRequest) -> bytes | None:
    """The person's private key, if this browser and this session both hold their half."""
    return load(request, STAFF)
