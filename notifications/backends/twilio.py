"""The only module that imports twilio's REST client."""

import json

from django.conf import settings
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from notifications.backends.base import PermanentSendError, SmsBackend, TransientSendError

# Twilio errors that retrying cannot fix: opted out (21610), invalid or unreachable
# number (21211, 21214, 21614), region not enabled (21408), blocked (30004, 30005,
# 30006, 30007 carrier filtering).
PERMANENT_ERRORS = {21211, 21214, 21408, 21610, 21612, 21614, 30004, 30005, 30006, 30007}


class TwilioSmsBackend(SmsBackend):
    def __init__(self, *, timeout: float = 10, api_base_url: str | None = None):
        """`api_base_url` points the client at another Messages API (the tests' local
        stand-in), as Django's SMTP backend takes a host and port."""
        self.client = Client(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            http_client=TwilioHttpClient(timeout=timeout),
        )
        if api_base_url:
            self.client.api.base_url = api_base_url

    def send(
        self, *, to: str, body: str, status_callback: str | None = None, sender: str | None = None
    ) -> str:
        params = {"to": to, "body": body}
        if sender:  # a WhatsApp text: from that WhatsApp address, not the SMS service
            params["from_"] = sender
        elif settings.TWILIO_MESSAGING_SERVICE_SID:
            params["messaging_service_sid"] = settings.TWILIO_MESSAGING_SERVICE_SID
        else:
            params["from_"] = settings.TWILIO_FROM_NUMBER
        return self._create(params, status_callback)

    def send_template(self, *, to, content_sid, variables, sender, status_callback=None) -> str:
        params = {
            "to": to,
            "from_": sender,
            "content_sid": content_sid,
            "content_variables": json.dumps(variables),
        }
        return self._create(params, status_callback)

    def _create(self, params: dict, status_callback: str | None) -> str:
        if status_callback:
            params["status_callback"] = status_callback
        try:
            message = self.client.messages.create(**params)
        except TwilioRestException as exc:
            code = exc.code or 0
            if code in PERMANENT_ERRORS or (400 <= (exc.status or 0) < 500 and exc.status != 429):
                raise PermanentSendError(str(code)) from None
            raise TransientSendError(str(code)) from None
        except Exception as exc:  # network errors: try again later
            raise TransientSendError(type(exc).__name__) from None
        return message.sid
