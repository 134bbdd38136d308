"""Twilio's webhooks take the short way through the middleware
(config.middleware.ProviderWebhookMiddleware): no session, page language, CSRF,
signed-in user or messages, which they do not use. What must hold all the same: the
signature check, the privacy headers, the request log naming the route, an error in
the view answered and logged as any view's, and every other URL through the whole
stack."""

import logging

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from intake import sms_views
from tests.conftest import sign_twilio

pytestmark = pytest.mark.django_db

INBOUND = "/sms/twilio/inbound/"
STATUS = "/sms/twilio/status/"


def text(body: str, sid: str = "SM" + "1" * 32) -> dict:
    return {"MessageSid": sid, "From": "+221770000001", "To": "+15005550000", "Body": body}


def signed_post(client, path: str, params: dict, **extra):
    signature = sign_twilio(settings.PUBLIC_BASE_URL + path, params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature, **extra)


def test_a_webhook_skips_the_page_middleware_and_keeps_the_privacy_headers(unit):
    response = signed_post(Client(), INBOUND, text("TST1 the guard took my phone"))
    assert response.status_code == 200 and b"<Message>" in response.content
    # What the page middleware would have added: frame options, the page's language.
    assert "X-Frame-Options" not in response and "Content-Language" not in response
    assert "Cookie" not in response.get("Vary", "")
    assert response.cookies == {}
    # What comes before it still applies.
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert len(response["X-Request-ID"]) == 32


def test_a_webhook_runs_in_the_default_language_whatever_ran_before_it(unit, monkeypatch):
    """LocaleMiddleware, skipped, would have chosen the default for Twilio's request
    (it names no language); a page before it may have left another one active."""
    seen = []

    def receive(**kwargs):
        seen.append(translation.get_language())
        return ""

    monkeypatch.setattr(sms_views, "sms_receive", receive)
    translation.activate("ar")
    try:
        response = signed_post(Client(), INBOUND, text("TST1 hello"))
    finally:
        translation.deactivate()
    assert response.status_code == 200 and seen == [settings.LANGUAGE_CODE]
    assert response["Content-Length"] == str(len(response.content))


def test_a_page_still_goes_through_the_whole_stack(unit):
    response = Client().get("/")
    assert response["X-Frame-Options"] == "DENY" and response["Content-Language"] == "en"


def test_an_unsigned_or_forged_webhook_is_still_refused(unit):
    assert Client().post(INBOUND, text("TST1 hello")).status_code == 403
    forged = Client().post(INBOUND, text("TST1 hello"), HTTP_X_TWILIO_SIGNATURE="bm90IGl0")
    assert forged.status_code == 403
    assert Client().get(INBOUND).status_code in (403, 405)


def test_a_post_elsewhere_without_its_csrf_token_is_still_refused(unit):
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/u/{unit.code}/", {"narrative": "they hit me"})
    assert response.status_code == 403


def test_the_request_log_names_the_webhooks_route(unit, caplog):
    caplog.set_level(logging.INFO, logger="recourse.request")
    signed_post(Client(), INBOUND, text("TST1 the guard took my phone"))
    (line,) = [r for r in caplog.records if r.name == "recourse.request"]
    assert line.route == "sms/twilio/inbound/" and line.status == 200


def test_an_error_in_the_view_is_a_500_logged_without_the_childs_words(unit, monkeypatch, caplog):
    def fails(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(sms_views, "sms_receive", fails)
    client = Client(raise_request_exception=False)
    response = signed_post(client, INBOUND, text("TST1 he hit me at the desk"))
    assert response.status_code == 500
    logged = "\n".join(r.getMessage() + str(r.exc_info) for r in caplog.records)
    assert "RuntimeError" in logged
    assert "he hit me" not in logged and "770000001" not in logged


def test_the_delivery_status_webhook_takes_the_short_way_too(unit):
    params = {"MessageSid": "SM" + "2" * 32, "MessageStatus": "delivered"}
    response = signed_post(Client(), STATUS, params)
    assert response.status_code in (200, 204)
    assert "X-Frame-Options" not in response
