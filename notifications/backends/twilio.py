"""The only module that talks to Twilio's API: twilio's REST client for texts, its
Media API (with requests, which the twilio library is built on) for what children send."""

import json
from dataclasses import dataclass, field

import requests
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


class MediaTooLarge(PermanentSendError):
    """The file is larger than the caller accepts: not read any further."""


@dataclass(frozen=True)
class FetchedMedia:
    content_type: str
    data: bytes = field(repr=False)


class TwilioMedia:
    """Photos and voice messages a child sent, on Twilio's Media API: fetched with the
    account's credentials (Twilio answers with a redirect to the file, which is
    followed; the credentials are not sent to the other host), then deleted, so they do
    not stay readable at Twilio. Errors carry an HTTP status or an exception's type
    name, never the URL."""

    def __init__(self, *, timeout: float = 20, api_base_url: str | None = None):
        self.base_url = (api_base_url or settings.TWILIO_API_BASE_URL).rstrip("/")
        self.auth = (settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)
        self.timeout = timeout

    def _url(self, message_sid: str, media_sid: str) -> str:
        account = settings.TWILIO_ACCOUNT_SID
        return f"{self.base_url}/2010-04-01/Accounts/{account}/Messages/{message_sid}/Media/{media_sid}"

    def fetch(self, *, message_sid: str, media_sid: str, max_bytes: int) -> FetchedMedia:
        """The file's bytes and type. MediaTooLarge past `max_bytes` (read no further)."""
        try:
            with requests.get(
                self._url(message_sid, media_sid),
                auth=self.auth,
                timeout=self.timeout,
                stream=True,
                allow_redirects=True,
            ) as response:
                _raise_for(response.status_code)
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise MediaTooLarge("size")
                data = bytearray()
                for chunk in response.iter_content(chunk_size=64 * 1024):
                    data += chunk
                    if len(data) > max_bytes:
                        raise MediaTooLarge("size")
                content_type = response.headers.get("Content-Type", "")
        except requests.RequestException as exc:
            raise TransientSendError(type(exc).__name__) from None
        return FetchedMedia(
            content_type=content_type.split(";")[0].strip().lower(), data=bytes(data)
        )

    def delete(self, *, message_sid: str, media_sid: str) -> None:
        """Delete the file at Twilio; one already gone counts as deleted."""
        try:
            response = requests.delete(
                self._url(message_sid, media_sid), auth=self.auth, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise TransientSendError(type(exc).__name__) from None
        if response.status_code != 404:
            _raise_for(response.status_code)


def _raise_for(status: int) -> None:
    if status < 400:
        return
    if 400 <= status < 500 and status != 429:
        raise PermanentSendError(f"http-{status}")
    raise TransientSendError(f"http-{status}")
