"""The real provider clients against local stand-ins: twilio's REST client against a
small Messages API on 127.0.0.1, Django's SMTP backend against a small SMTP server."""

import email
import json
import socketserver
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from django.urls import reverse

from complaints.services import complaint_receive
from notifications.backends import PermanentSendError, TransientSendError
from notifications.backends.twilio import TwilioSmsBackend
from notifications.models import Notification
from notifications.services import notification_deliver

ACCOUNT = "AC" + "0" * 32


@contextmanager
def serving(server):
    # shutdown() waits for serve_forever's next poll: every 10 ms, not the default 0.5 s.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


# --- Twilio's Messages API ---------------------------------------------------------------


class MessagesApi(BaseHTTPRequestHandler):
    """POST /2010-04-01/Accounts/{sid}/Messages.json, answering as `server.answer` says."""

    def do_POST(self):  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length", 0))
        self.server.requests.append((self.path, parse_qs(self.rfile.read(length).decode())))
        answer = self.server.answer
        if answer == "timeout":
            time.sleep(1.5)
            return
        status, payload = {
            "created": (201, {"sid": "SM" + "a" * 32, "status": "queued", "account_sid": ACCOUNT}),
            "opted-out": (
                400,
                {
                    "code": 21610,
                    "message": "Attempt to send to unsubscribed recipient",
                    "status": 400,
                },
            ),
            "bad-request": (
                400,
                {"code": 21604, "message": "A 'To' phone number is required.", "status": 400},
            ),
            "rate-limited": (429, {"code": 20429, "message": "Too Many Requests", "status": 429}),
            "server-error": (
                500,
                {"code": 20500, "message": "Internal Server Error", "status": 500},
            ),
        }[answer]
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # the request line holds no number, but keep test output quiet
        pass


@pytest.fixture
def twilio_api(settings):
    settings.TWILIO_ACCOUNT_SID = ACCOUNT
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    server = ThreadingHTTPServer(("127.0.0.1", 0), MessagesApi)
    server.daemon_threads = True
    server.requests, server.answer = [], "created"
    with serving(server):
        yield server


def backend_for(server) -> TwilioSmsBackend:
    host, port = server.server_address
    return TwilioSmsBackend(timeout=0.5, api_base_url=f"http://{host}:{port}")


def test_twilio_created_returns_the_message_sid(twilio_api):
    sid = backend_for(twilio_api).send(
        to="+221770000001", body="Hello", status_callback="https://example.org/sms/twilio/status/"
    )
    assert sid == "SM" + "a" * 32
    path, form = twilio_api.requests[0]
    assert path == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    assert form == {
        "To": ["+221770000001"],
        "Body": ["Hello"],
        "From": ["+15005550006"],
        "StatusCallback": ["https://example.org/sms/twilio/status/"],
    }


def test_twilio_whatsapp_text_goes_from_the_whatsapp_sender(twilio_api, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "1" * 32  # SMS only: not for WhatsApp
    sid = backend_for(twilio_api).send(
        to="whatsapp:+221770000001",
        body="Ta plainte a été lue.",
        sender="whatsapp:+14155238886",
        status_callback="https://example.org/sms/twilio/status/",
    )
    assert sid == "SM" + "a" * 32
    _path, form = twilio_api.requests[0]
    assert form == {
        "To": ["whatsapp:+221770000001"],
        "Body": ["Ta plainte a été lue."],
        "From": ["whatsapp:+14155238886"],
        "StatusCallback": ["https://example.org/sms/twilio/status/"],
    }


def test_twilio_whatsapp_template_posts_its_content_sid_and_variables(twilio_api):
    sid = backend_for(twilio_api).send_template(
        to="whatsapp:+221770000001",
        content_sid="HX" + "b" * 32,
        variables={"1": "7NJT-PWVT"},
        sender="whatsapp:+14155238886",
        status_callback="https://example.org/sms/twilio/status/",
    )
    assert sid == "SM" + "a" * 32
    path, form = twilio_api.requests[0]
    assert path == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    assert form == {
        "To": ["whatsapp:+221770000001"],
        "From": ["whatsapp:+14155238886"],
        "ContentSid": ["HX" + "b" * 32],
        "ContentVariables": ['{"1": "7NJT-PWVT"}'],
        "StatusCallback": ["https://example.org/sms/twilio/status/"],
    }


def test_twilio_refused_template_is_permanent_and_says_nothing(twilio_api):
    twilio_api.answer = "bad-request"
    with pytest.raises(PermanentSendError) as raised:
        backend_for(twilio_api).send_template(
            to="whatsapp:+221770000001",
            content_sid="HX" + "b" * 32,
            variables={"1": "7NJT-PWVT"},
            sender="whatsapp:+14155238886",
        )
    assert raised.value.code == "21604" and "+221770000001" not in str(raised.value)


@pytest.mark.parametrize(
    "answer, error, code",
    [
        ("opted-out", PermanentSendError, "21610"),
        ("bad-request", PermanentSendError, "21604"),
        ("rate-limited", TransientSendError, "20429"),
        ("server-error", TransientSendError, "20500"),
        ("timeout", TransientSendError, "ReadTimeout"),
    ],
)
def test_twilio_errors_map_to_permanent_or_transient(twilio_api, answer, error, code):
    twilio_api.answer = answer
    with pytest.raises(error) as raised:
        backend_for(twilio_api).send(to="+221770000001", body="Hello")
    assert raised.value.code == code
    # What reaches logs and task records: the code only, never the number or the text.
    assert "+221770000001" not in str(raised.value) and "Hello" not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


# --- SMTP -------------------------------------------------------------------------------


class SmtpSession(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: greeting, EHLO, MAIL, RCPT, DATA, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        server = self.server
        if server.behaviour == "unavailable":
            self.reply("421 mail.example.org Service not available")
            return
        self.reply("220 mail.example.org ESMTP")
        recipients = []
        while line := self.rfile.readline():
            command = line.decode().strip()
            verb = command[:4].upper()
            if verb == "EHLO":
                self.reply("250-mail.example.org")
                self.reply("250 8BITMIME")
            elif verb == "HELO":
                self.reply("250 mail.example.org")
            elif verb == "RCPT":
                if server.behaviour == "no-such-user":
                    self.reply("550 5.1.1 No such user")
                    continue
                recipients.append(command.split(":", 1)[1].strip(" <>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                server.received.append((recipients, b"".join(data)))
                self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:  # MAIL, RSET, NOOP
                self.reply("250 OK")


@pytest.fixture
def smtp_server(settings):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SmtpSession)
    server.daemon_threads = True
    server.received, server.behaviour = [], "ok"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = server.server_address
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    with serving(server):
        yield server


CANARY = "the cook locked me in the pantry"


def new_case_notice(unit):
    case = complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative=CANARY,
        category="neglect",
        in_danger=False,
        about_staff_answer="yes",
        contact_preference="none",
    ).case
    return case, Notification.objects.get(case=case, channel="email")


@pytest.mark.django_db
def test_staff_email_over_smtp_has_the_reference_and_link_and_no_complaint_text(
    smtp_server, settings, unit, focal_point
):
    case, notice = new_case_notice(unit)
    assert notification_deliver(notice.pk) == "sent"
    [(recipients, raw)] = smtp_server.received
    assert recipients == [focal_point.email]
    message = email.message_from_bytes(raw)
    body = message.get_payload(decode=True).decode()
    assert case.display_reference in message["Subject"]
    assert settings.PUBLIC_BASE_URL + reverse("staff:case", args=[case.reference]) in body
    assert CANARY not in raw.decode("latin-1") and "pantry" not in body


@pytest.mark.django_db
def test_smtp_unavailable_is_retried_and_an_unknown_address_is_not(smtp_server, unit, focal_point):
    _case, notice = new_case_notice(unit)
    smtp_server.behaviour = "unavailable"
    assert notification_deliver(notice.pk) == "retry"
    notice.refresh_from_db()
    assert notice.status == Notification.Status.PENDING and notice.error_code == "SMTPConnectError"

    smtp_server.behaviour = "no-such-user"
    Notification.objects.filter(pk=notice.pk).update(next_attempt_at=notice.created_at)
    assert notification_deliver(notice.pk) == "failed"
    notice.refresh_from_db()
    assert notice.status == Notification.Status.FAILED and notice.error_code == "smtp-550"
    assert smtp_server.received == []
