"""The drill's file backends (notifications/backends/file.py): each send through the
project's delivery path is one line in DRILL_OUTBOX_FILE, holding no number, address or
text, and a row delivered twice is recorded once."""

import pytest

from complaints.services import complaint_receive
from intake.models import SmsReporter
from notifications.backends.file import outbox_read
from notifications.models import Notification, OutboundSms
from notifications.services import notification_deliver
from notifications.sms import sms_deliver, sms_queue

PHONE = "+15005550177"
TEXT = "We read your message about the canary-7731."


@pytest.fixture
def outbox(settings, tmp_path):
    settings.DRILL_OUTBOX_FILE = str(tmp_path / "outbox.jsonl")
    settings.SMS_BACKEND = "notifications.backends.file.FileSmsBackend"
    settings.EMAIL_BACKEND = "notifications.backends.file.FileEmailBackend"
    return tmp_path / "outbox.jsonl"


def test_a_text_is_one_line_with_its_provider_id_and_nothing_else(outbox, unit):
    reporter, _ = SmsReporter.for_phone(PHONE)
    outbound = sms_queue(reporter=reporter, body=TEXT)

    assert sms_deliver(outbound.pk) == OutboundSms.Status.SENT
    assert sms_deliver(outbound.pk) == "not-claimed"  # sent once, even asked twice

    outbound.refresh_from_db()
    assert outbox_read(str(outbox)) == [{"kind": "sms", "sid": outbound.provider_sid}]
    raw = outbox.read_text()
    assert PHONE not in raw and "canary" not in raw and "5550177" not in raw
    assert outbox.stat().st_mode & 0o777 == 0o600


def test_a_staff_notice_by_email_is_one_line_without_its_address(outbox, unit, focal_point):
    case = complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative="the canary-7731 shouted at me",
        category="neglect",
        in_danger=False,
        about_staff_answer="no",
        contact_preference="none",
    ).case
    notice = Notification.objects.get(case=case, recipient=focal_point)

    assert notification_deliver(notice.pk) == Notification.Status.SENT
    assert notification_deliver(notice.pk) == "not-claimed"

    assert outbox_read(str(outbox)) == [{"kind": "email"}]
    raw = outbox.read_text()
    assert focal_point.email not in raw and case.reference not in raw and "canary" not in raw


def test_without_a_file_the_backend_refuses_rather_than_sending_nowhere(outbox, settings, unit):
    settings.DRILL_OUTBOX_FILE = ""
    reporter, _ = SmsReporter.for_phone(PHONE)
    outbound = sms_queue(reporter=reporter, body=TEXT)

    assert sms_deliver(outbound.pk) == "retry"  # kept pending, not lost
    assert OutboundSms.objects.get(pk=outbound.pk).status == OutboundSms.Status.PENDING
    assert outbox_read(str(outbox)) == []
