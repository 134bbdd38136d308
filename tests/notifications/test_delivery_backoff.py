"""Notices wait out a failure (backoff) instead of being retried every minute until
their attempts run out: an SMTP outage delays an emergency notice, it does not fail it."""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone

from complaints.services import complaint_receive
from notifications import tasks
from notifications.models import Notification
from notifications.services import notification_deliver

clock = {}


class OutageEmail(EmailBackend):
    """An SMTP server that refuses connections until clock["back_at"]."""

    def send_messages(self, messages):
        if timezone.now() < clock["back_at"]:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.mark.django_db
def test_a_ten_minute_smtp_outage_delays_an_emergency_notice_but_does_not_fail_it(
    settings, monkeypatch, unit, focal_point
):
    settings.EMAIL_BACKEND = f"{__name__}.OutageEmail"
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
    assert case.urgency == "emergency"
    start = timezone.now()  # from here on the test moves the clock
    clock.update(now=start, back_at=start + timedelta(minutes=10))
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])
    enqueued = []
    monkeypatch.setattr(tasks, "enqueue_delivery", enqueued.append)
    notice = Notification.objects.get(case=case, channel="email")
    assert notification_deliver(notice.pk) == "retry"  # its own task, at once: the outage

    early = []  # enqueued by the sweep before the notice's next attempt was due
    for minute in range(30):  # the minute sweep, half a minute off the notice's clock
        clock["now"] = start + timedelta(minutes=minute, seconds=30)
        enqueued.clear()
        tasks.requeue_due(now=clock["now"])
        for pk in enqueued:
            if Notification.objects.get(pk=pk).next_attempt_at > clock["now"]:
                early.append((minute, pk))
            notification_deliver(pk)

    notice.refresh_from_db()
    assert notice.status == Notification.Status.SENT
    assert early == []
    # Backed off (30 s, 1, 2, 4, 5 minutes...) rather than tried every minute of the outage.
    assert notice.attempts <= 6
    assert notice.sent_at - clock["back_at"] <= timedelta(minutes=5)  # soon after it ended
    assert [m.to for m in mail.outbox if case.display_reference in m.subject] == [
        [focal_point.email]
    ]
    assert "hits" not in mail.outbox[0].body


@pytest.mark.django_db
def test_the_sweep_leaves_a_notice_alone_until_its_next_attempt(
    settings, unit, focal_point, monkeypatch
):
    settings.EMAIL_BACKEND = f"{__name__}.OutageEmail"
    now = timezone.now()
    clock.update(now=now, back_at=now + timedelta(days=1))
    complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative="x",
        category="neglect",
        in_danger=False,
        about_staff_answer="no",
        contact_preference="none",
    )
    notice = Notification.objects.get()
    assert notification_deliver(notice.pk) == "retry"
    notice.refresh_from_db()
    assert notice.next_attempt_at > now and notice.error_code == "SMTPServerDisconnected"
    assert notification_deliver(notice.pk) == "not-claimed"  # a duplicate task: too early

    enqueued = []
    monkeypatch.setattr(tasks, "enqueue_delivery", enqueued.append)
    tasks.requeue_due(now=notice.next_attempt_at - timedelta(seconds=1))
    assert enqueued == []
    tasks.requeue_due(now=notice.next_attempt_at)
    assert enqueued == [notice.pk]
