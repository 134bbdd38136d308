"""Issue 7 (first part): hostile input, throttles and a database that goes away."""

import html
import uuid
from unittest import mock

import pytest
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from complaints.models import Case, CaseEvent
from intake.models import InboundSms
from tests.conftest import complaint_data, sign_twilio
from vault.models import CaseKey

NASTY = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300
) | st.sampled_from(
    [
        "\x00",
        "a\x00b",
        "\u202e\u202dRTL",
        "\ufeff",
        "🙂" * 50,
        "x" * 5001,
        "\r\n" * 10,
        "",
    ]
)


def count():
    return Case.objects.count(), CaseKey.objects.count(), CaseEvent.objects.count()


@pytest.mark.django_db
@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    narrative=NASTY,
    category=NASTY | st.just("neglect"),
    danger=NASTY | st.just("no"),
    contact=NASTY | st.just("none"),
    detail=NASTY,
    repeat=st.booleans(),
)
def test_web_form_never_500_and_never_half_written(
    client, unit, settings, narrative, category, danger, contact, detail, repeat
):
    settings.SUBMISSIONS_PER_CLIENT = 10_000
    before = count()
    data = {
        "narrative": narrative,
        "category": category,
        "in_danger": danger,
        "about_staff": "no",
        "contact_preference": contact,
        "contact_detail": detail,
    }
    if repeat:
        data = {key: [value, value] for key, value in data.items()}
    response = client.post(reverse("intake:complaint_form", args=[unit.code]), data)
    assert response.status_code in (200, 400)
    after = count()
    if response.status_code == 200:
        assert after[0] == before[0] + 1 and after[1] > before[1] and after[2] == before[2] + 1
        assert 'id="followup-code"' in response.content.decode()
    else:
        assert after == before
        assert "Please check your answers" in response.content.decode()


@pytest.mark.django_db
def test_invalid_utf8_and_missing_fields_are_a_clear_error(client, unit):
    response = client.post(
        reverse("intake:complaint_form", args=[unit.code]),
        b"narrative=%ED%A0%80%FF%FE&category=neglect",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert Case.objects.count() == 0


@pytest.mark.django_db
def test_an_oversized_body_is_refused_before_it_is_read(client, unit):
    body = complaint_data(narrative="x" * 100_000)
    response = client.post(reverse("intake:complaint_form", args=[unit.code]), body)
    assert response.status_code == 400
    assert "too long" in response.content.decode()
    assert Case.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "language, text",
    [("en", "Nothing you wrote is lost."), ("es", "No se perdió nada de lo que escribiste.")],
)
def test_submissions_are_throttled_per_client_with_a_readable_page(
    client, unit, settings, language, text
):
    """Past the limit the child is asked a simple question (issue 12), not turned away."""
    settings.SUBMISSIONS_PER_CLIENT = 2
    client.cookies["django_language"] = language
    url = reverse("intake:complaint_form", args=[unit.code])
    assert [client.post(url, complaint_data()).status_code for _ in range(2)] == [200, 200]
    blocked = client.post(url, complaint_data(narrative="Please keep this text."))
    page = html.unescape(blocked.content.decode())
    assert blocked.status_code == 429 and text in page and "Please keep this text." in page
    assert 'name="check_answer"' in page and f'lang="{language}"' in page
    assert Case.objects.count() == 2
    other = client.post(url, complaint_data(), REMOTE_ADDR="198.51.100.4")
    assert other.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("language, text", [("en", "Nothing is lost"), ("fr", "Rien n'est perdu")])
def test_database_gone_during_a_web_submission(client, unit, language, text):
    client.cookies["django_language"] = language
    with mock.patch("complaints.services.case_copies_issue", side_effect=OperationalError("gone")):
        response = client.post(
            reverse("intake:complaint_form", args=[unit.code]),
            complaint_data(narrative="My words must not be lost."),
        )
    page = html.unescape(response.content.decode())
    assert response.status_code == 503 and text in page and "My words must not be lost." in page
    assert count() == (0, 0, 0)


@pytest.mark.django_db
def test_database_gone_during_an_sms_then_twilio_retries_once(client, unit, settings):
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    client.raise_request_exception = False
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "From": "+221770000009",
        "To": "+15005550000",
        "Body": "TST1 they hit me",
    }
    signature = sign_twilio(settings.PUBLIC_BASE_URL + "/sms/twilio/inbound/", params)
    with mock.patch("intake.sms._respond", side_effect=OperationalError("gone")):
        failed = client.post("/sms/twilio/inbound/", params, HTTP_X_TWILIO_SIGNATURE=signature)
    assert failed.status_code == 500
    assert InboundSms.objects.count() == 0  # rolled back: the retry is not a duplicate
    for _ in range(2):  # Twilio retries, then its fallback URL gets the same message
        assert (
            client.post(
                "/sms/twilio/inbound/", params, HTTP_X_TWILIO_SIGNATURE=signature
            ).status_code
            == 200
        )
    assert InboundSms.objects.count() == 1


@pytest.mark.django_db
@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=NASTY, sender=NASTY | st.just("+221770000001"), extra=NASTY)
def test_signed_webhook_never_500(client, unit, settings, body, sender, extra):
    params = {"MessageSid": "SM" + uuid.uuid4().hex, "From": sender, "Body": body, "Extra": extra}
    signature = sign_twilio(settings.PUBLIC_BASE_URL + "/sms/twilio/inbound/", params)
    response = client.post("/sms/twilio/inbound/", params, HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code in (200, 400)
    assert response.status_code == 400 or "<Response" in response.content.decode()


def test_queue_configuration(settings):
    from config import settings as production

    q = production.Q_CLUSTER
    assert q["orm"] == "default"  # the ORM broker: a task whose worker dies comes back
    assert q["retry"] > q["timeout"] and q["max_attempts"] >= 1
    from notifications.services import enqueue_delivery
    from notifications.sms import enqueue_sms

    with mock.patch("notifications.services.async_task") as task:
        enqueue_delivery(7)
    assert task.call_args.kwargs["save"] is False  # results of sensitive tasks not kept
    with mock.patch("notifications.sms.async_task") as task:
        enqueue_sms("abc")
    assert task.call_args.kwargs["save"] is False


class BrokenEmail:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")

    def open(self):
        pass

    def close(self):
        pass


@pytest.mark.django_db
def test_a_poison_notification_stops_after_bounded_attempts_and_shows_in_the_admin(
    settings, unit, focal_point, client, django_user_model
):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from notifications.models import Notification
    from notifications.services import MAX_ATTEMPTS, notification_deliver
    from tests.conftest import PASSWORD, staff_login

    settings.EMAIL_BACKEND = f"{__name__}.BrokenEmail"
    complaint_receive_for(unit)
    notification = Notification.objects.get()
    for _attempt in range(MAX_ATTEMPTS + 2):
        try:
            notification_deliver(notification.pk)
        except ConnectionRefusedError:
            pass
        # As the sweep finds it once its backoff has passed.
        Notification.objects.filter(pk=notification.pk).update(next_attempt_at=timezone.now())
    notification.refresh_from_db()
    assert notification.status == "failed" and notification.attempts == MAX_ATTEMPTS
    root = django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    TOTPDevice.objects.create(user=root, name="phone", confirmed=True)
    staff_login(client, root)
    page = client.get("/admin/notifications/notification/?status__exact=failed").content.decode()
    assert "failed" in page.lower() and "1 notification" in page


def complaint_receive_for(unit):
    from complaints.services import complaint_receive

    return complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative="x",
        category="neglect",
        in_danger=False,
        about_staff_answer="no",
        contact_preference="none",
    ).case


@pytest.mark.django_db
def test_a_wrong_follow_up_code_does_not_reset_the_submission_limit(client, unit, settings):
    from datetime import timedelta

    from django.utils import timezone

    from complaints.models import ThrottleEvent

    settings.SUBMISSIONS_PER_CLIENT = 2
    url = reverse("intake:complaint_form", args=[unit.code])
    assert [client.post(url, complaint_data()).status_code for _ in range(2)] == [200, 200]
    # Older than the follow-up window (15 min), inside the submission window (60 min).
    ThrottleEvent.objects.filter(scope="submit").update(at=timezone.now() - timedelta(minutes=20))
    client.post(reverse("intake:followup"), {"reference": "AAAA-AAAA", "code": "1" * 12})
    assert client.post(url, complaint_data()).status_code == 429
