"""The ledger backends (`make soak NODES=2` counts sends with them): one line per send,
naming the row delivered, never the address nor the text; a delivery run twice is one
line."""

import os

import pytest
from django.core.exceptions import ImproperlyConfigured

from complaints.models import Case
from complaints.services import case_reply, complaint_receive
from notifications.backends.ledger import LedgerSmsBackend
from notifications.models import Notification, OutboundSms
from notifications.services import notification_deliver
from notifications.sms import sms_deliver
from policies.models import StaffProfile

ALERT_PHONE = "+15005550177"
CHILD_PHONE = "+221770000001"


@pytest.fixture
def ledger(settings, tmp_path):
    path = tmp_path / "ledger"
    settings.DELIVERY_LEDGER_FILE = str(path)
    settings.EMAIL_BACKEND = "notifications.backends.ledger.LedgerEmailBackend"
    settings.SMS_BACKEND = "notifications.backends.ledger.LedgerSmsBackend"
    return path


@pytest.mark.django_db
def test_each_send_is_one_line_of_ids_and_a_second_run_sends_nothing(
    ledger, sms, unit, focal_point
):
    StaffProfile.objects.update_or_create(user=focal_point, defaults={"alert_phone": ALERT_PHONE})
    case = complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative="He hits me now",
        category="physical_violence",
        in_danger=True,
        about_staff_answer="no",
        contact_preference="none",
    ).case
    notices = list(Notification.objects.filter(case=case).order_by("pk"))
    assert {n.channel for n in notices} == {"email", "sms"}  # an emergency: both
    for notice in notices:
        assert notification_deliver(notice.pk) == "sent"
        assert notification_deliver(notice.pk) == "not-claimed"  # a task run twice

    for text in ("TST1 they hit me", "DONE", "2", "2"):
        sms(text, phone=CHILD_PHONE)
    sms_case = Case.objects.get(channel="sms")
    case_reply(case=sms_case, actor=focal_point, body="We will call you.")
    outbound = OutboundSms.objects.get()
    assert sms_deliver(outbound.pk) == "sent"
    assert sms_deliver(outbound.pk) == "not-claimed"
    assert OutboundSms.objects.get().provider_sid.startswith("SMledger")

    expected = [f"{n.channel} notifications.notification:{n.pk}" for n in notices] + [
        f"sms notifications.outboundsms:{outbound.pk}"
    ]
    written = ledger.read_text()
    lines = [line.split(" ", 2) for line in written.splitlines()]
    assert [what for _at, _group, what in lines] == expected
    assert {int(group) for _at, group, _what in lines} == {os.getpgrp()}
    for secret in (ALERT_PHONE, CHILD_PHONE, focal_point.email, "hits", "call you", case.reference):
        assert secret not in written


def test_without_a_file_the_ledger_refuses(settings):
    settings.DELIVERY_LEDGER_FILE = ""
    with pytest.raises(ImproperlyConfigured):
        LedgerSmsBackend().send(to=ALERT_PHONE, body="x")
