"""A local stand-in of Twilio's Media API, for the real client (notifications/backends/
twilio.py TwilioMedia) and the webhook's media parameters; shared by the media tests
and the browser test of the case page."""

import base64
import re
import struct
import uuid
import zlib
from contextlib import contextmanager
from html import unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.conf import settings as django_settings

from tests.conftest import sign_twilio
from tests.notifications.test_providers import serving

ACCOUNT = "AC" + "1" * 32
TOKEN = "test-twilio-auth-token"  # config/settings_test.py: signs webhooks, and fetches


def png(text: str = "") -> bytes:
    """A real 2x2 PNG (browsers draw it), carrying `text` in a tEXt chunk: a canary that
    is searched for in the database."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xc0\x20\x20" * 2 for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"tEXt", b"Comment\x00" + text.encode())
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


class MediaApi(BaseHTTPRequestHandler):
    """GET .../Messages/{MM}/Media/{ME}: basic auth checked, then a redirect to the file
    on the file host (as Twilio's answer is); DELETE: recorded, 204. `server.files`
    maps a media id to (content type, bytes); `server.fail_next` holds statuses to
    answer the next requests with, `server.fail_next_delete` the next DELETEs."""

    def _authorised(self) -> bool:
        expected = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
        return self.headers.get("Authorization") == expected

    def _answer(self, status: int, body: bytes = b"", content_type: str = "application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 - http.server's naming
        server = self.server
        server.requests.append(("GET", self.path, self._authorised()))
        if not self._authorised():
            return self._answer(401)
        if server.fail_next:
            return self._answer(server.fail_next.pop(0))
        media_sid = self.path.rstrip("/").rsplit("/", 1)[-1]
        if media_sid not in server.files:
            return self._answer(404)
        self.send_response(307)
        self.send_header("Location", f"{server.file_host}/files/{media_sid}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_DELETE(self):  # noqa: N802
        server = self.server
        server.requests.append(("DELETE", self.path, self._authorised()))
        if not self._authorised():
            return self._answer(401)
        if server.fail_next or server.fail_next_delete:
            return self._answer((server.fail_next or server.fail_next_delete).pop(0))
        server.deleted.append(self.path.rstrip("/").rsplit("/", 1)[-1])
        self._answer(204)

    def log_message(self, *args):
        pass


class FileHost(BaseHTTPRequestHandler):
    """Where Twilio's redirect leads (a storage host): serves the bytes, and records
    whether credentials were sent to it (they must not be)."""

    def do_GET(self):  # noqa: N802
        api = self.server.api
        media_sid = self.path.rsplit("/", 1)[-1]
        api.file_requests.append(("Authorization" in self.headers, media_sid))
        content_type, data = api.files[media_sid]
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@contextmanager
def twilio_media_standin(settings):
    """Both hosts on 127.0.0.1, the settings pointing the client at the API one."""
    api = ThreadingHTTPServer(("127.0.0.1", 0), MediaApi)
    files = ThreadingHTTPServer(("127.0.0.1", 0), FileHost)
    for server in (api, files):
        server.daemon_threads = True
    api.requests, api.deleted, api.file_requests = [], [], []
    api.fail_next, api.fail_next_delete = [], []
    api.files = {}
    files.api = api
    api.file_host = f"http://127.0.0.1:{files.server_address[1]}"
    settings.TWILIO_ACCOUNT_SID = ACCOUNT
    settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{api.server_address[1]}"
    with serving(api), serving(files):
        yield api


def media_url(message_sid: str, media_sid: str) -> str:
    """The MediaUrlN Twilio puts in the webhook (always api.twilio.com: the client
    fetches from TWILIO_API_BASE_URL, never from a URL it was given)."""
    return (
        f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/{message_sid}"
        f"/Media/{media_sid}"
    )


def inbound(client, api, body="", *, media=(), phone="+221770000001", sid=None):
    """A signed inbound message as Twilio posts it (SMS/MMS, or WhatsApp for a
    "whatsapp:" number), with `media` as (type, bytes) pairs put on the stand-in `api`;
    returns (the reply's text, how many <Message>s it has)."""
    sid = sid or f"MM{uuid.uuid4().hex}"
    params = {
        "MessageSid": sid,
        "AccountSid": ACCOUNT,
        "From": phone,
        "To": "whatsapp:+15005550000" if phone.startswith("whatsapp:") else "+15005550000",
        "Body": body,
        "NumMedia": str(len(media)),
    }
    for index, (content_type, data) in enumerate(media):
        media_sid = f"ME{uuid.uuid4().hex}"
        api.files[media_sid] = (content_type, data)
        params[f"MediaUrl{index}"] = media_url(sid, media_sid)
        params[f"MediaContentType{index}"] = content_type
    path = "/sms/twilio/inbound/"
    signature = sign_twilio(django_settings.PUBLIC_BASE_URL + path, params)
    response = client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 200, response.content
    messages = re.findall(r"<Message>(.*?)</Message>", response.content.decode(), re.S)
    return unescape("\n".join(messages)), len(messages)
