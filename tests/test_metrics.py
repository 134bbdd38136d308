"""Issue 18 §2: /metrics gives the operator counts in Prometheus's text format, behind a
token: queue depth, the oldest pending notice and text, failures by provider code,
overdue and escalated cases, cases waiting for a key grant. No reference, no content."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_q.models import OrmQ
from prometheus_client.parser import text_string_to_metric_families

from complaints.apps import check_metrics_token
from complaints.models import Case
from intake.models import SmsReporter
from notifications.models import Notification, OutboundEmail, OutboundSms
from policies.models import Membership
from tests.conftest import PASSWORD, complaint_filed, make_staff
from vault import crypto
from vault.keys import grants_fulfil, reader_approve
from vault.models import StaffKey

TOKEN = "metrics-token-for-the-tests-0123456789"


@pytest.fixture
def scrape(client, settings):
    settings.METRICS_TOKEN = TOKEN

    def get() -> dict[tuple[str, tuple], float]:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain; version=")
        get.body = response.content.decode()
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(get.body)
            for sample in family.samples
        }

    return get


def test_without_a_token_configured_there_is_no_metrics_page(client, settings, db):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_a_missing_or_wrong_token_is_refused_without_a_count(client, settings, db):
    settings.METRICS_TOKEN = TOKEN
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer nope"}, {"HTTP_AUTHORIZATION": TOKEN}):
        response = client.get("/metrics", **headers)
        assert response.status_code == 401
        assert "recourse_" not in response.content.decode()
        assert response["WWW-Authenticate"].startswith("Bearer")


def notice(recipient, case, **fields):
    return Notification.objects.create(
        recipient=recipient, case=case, kind=Notification.Kind.CASE_UPDATED, **fields
    )


@pytest.mark.django_db
def test_counts_what_waits_what_failed_and_which_cases_are_late(
    scrape, unit, focal_point, django_user_model
):
    cases = [complaint_filed(unit, narrative=f"canary {i} they hit me").case for i in range(3)]
    now = timezone.now()
    Notification.objects.all().delete()
    notice(focal_point, cases[0], created_at=now - timedelta(minutes=7))
    notice(focal_point, cases[1], created_at=now - timedelta(minutes=2))
    notice(focal_point, cases[1], status="failed", attempts=5, error_code="SMTPDataError")
    notice(focal_point, cases[2], attempts=1, error_code="SMTPDataError")  # retrying
    notice(focal_point, cases[2], status="sent", sent_at=now)
    reporter = SmsReporter.objects.create(phone_index="i" * 64, phone=b"sealed")
    OutboundSms.objects.create(reporter=reporter, body=b"x", created_at=now - timedelta(hours=1))
    for code in ("30003", "30003", "30005"):
        OutboundSms.objects.create(
            reporter=reporter, body=b"x", status="undelivered", error_code=code
        )
    for age in (3, 1):  # WhatsApp texts waiting for the child to write again
        OutboundSms.objects.create(
            reporter=reporter, body=b"x", status="waiting", created_at=now - timedelta(hours=age)
        )
    OutboundEmail.objects.create(case=cases[0], status="sent")
    Case.objects.filter(pk=cases[0].pk).update(next_due_at=now - timedelta(hours=1))
    Case.objects.filter(pk=cases[1].pk).update(
        escalation_level=2, next_due_at=now - timedelta(minutes=1)
    )

    OrmQ.objects.all().delete()
    OrmQ.objects.create(key="recourse", payload="a", lock=now - timedelta(minutes=10))
    OrmQ.objects.create(key="recourse", payload="b", lock=now - timedelta(seconds=5))
    OrmQ.objects.create(key="recourse", payload="c", lock=now + timedelta(seconds=50))  # held

    samples = scrape()

    assert samples[("recourse_queue_tasks", (("state", "waiting"),))] == 2
    assert samples[("recourse_queue_tasks", (("state", "running"),))] == 1
    assert 600 <= samples[("recourse_queue_oldest_waiting_seconds", ())] < 660
    assert samples[("recourse_health_ok", (("component", "database"),))] == 1
    assert samples[("recourse_deliveries_pending", (("kind", "staff_notice"),))] == 3
    assert samples[("recourse_deliveries_pending", (("kind", "text"),))] == 1
    assert samples[("recourse_deliveries_pending", (("kind", "email"),))] == 0
    assert samples[("recourse_texts_held", ())] == 2
    assert 3 * 3600 <= samples[("recourse_texts_held_oldest_seconds", ())] < 3 * 3600 + 100
    oldest_notice = samples[
        ("recourse_deliveries_oldest_pending_seconds", (("kind", "staff_notice"),))
    ]
    assert 7 * 60 <= oldest_notice < 8 * 60
    assert (
        3600 <= samples[("recourse_deliveries_oldest_pending_seconds", (("kind", "text"),))] < 3700
    )
    assert samples[("recourse_deliveries_oldest_pending_seconds", (("kind", "email"),))] == 0
    failures = {
        labels: value
        for (name, labels), value in samples.items()
        if name == "recourse_delivery_failures"
    }
    assert failures == {
        (("code", "SMTPDataError"), ("kind", "staff_notice"), ("state", "final")): 1,
        (("code", "SMTPDataError"), ("kind", "staff_notice"), ("state", "retrying")): 1,
        (("code", "30003"), ("kind", "text"), ("state", "final")): 2,
        (("code", "30005"), ("kind", "text"), ("state", "final")): 1,
    }
    assert samples[("recourse_cases_open", ())] == 3
    assert samples[("recourse_cases_overdue", ())] == 2
    assert samples[("recourse_cases_escalated", (("step", "manager"),))] == 1
    assert samples[("recourse_cases_escalated", (("step", "backup"),))] == 0
    assert samples[("recourse_cases_waiting_for_key_grant", ())] == 0
    # Counts only: nothing that names a case, a person or what a child wrote.
    for case in cases:
        assert case.reference not in scrape.body and str(case.pk) not in scrape.body
    assert "canary" not in scrape.body and focal_point.username not in scrape.body


@pytest.mark.django_db
def test_a_reader_without_a_copy_is_counted_until_granted(
    scrape, unit, focal_point, manager, django_user_model
):
    for _ in range(2):
        complaint_filed(unit)
    assert scrape()[("recourse_cases_waiting_for_key_grant", ())] == 0

    # A focal point who joined after the cases were filed waits for a manager's approval,
    # then for a holder's sign-in to grant the copies.
    late = make_staff(django_user_model, "late", unit, Membership.Role.FOCAL_POINT)
    Membership.objects.filter(user=late).update(created_at=timezone.now() + timedelta(seconds=1))
    assert scrape()[("recourse_cases_waiting_for_key_grant", ())] == 2
    # One without a key pair yet cannot be granted anything: not a grant waiting.
    make_staff(django_user_model, "nokey", unit, Membership.Role.FOCAL_POINT, with_key=False)
    assert scrape()[("recourse_cases_waiting_for_key_grant", ())] == 2

    reader_approve(unit=unit, reader=late, approver=manager)
    assert scrape()[("recourse_cases_waiting_for_key_grant", ())] == 2
    private = crypto.unwrap_private_key(
        StaffKey.objects.get(user=focal_point).wrapped_private_key, PASSWORD
    )
    assert grants_fulfil(granter=focal_point, private_key=private) == 2
    assert scrape()[("recourse_cases_waiting_for_key_grant", ())] == 0


@pytest.mark.django_db
def test_a_scrape_takes_the_same_queries_at_any_volume(scrape, unit, focal_point):
    complaint_filed(unit)
    scrape()
    with CaptureQueriesContext(connection) as few:
        scrape()
    for _ in range(15):
        complaint_filed(unit)
    with CaptureQueriesContext(connection) as many:
        scrape()
    assert len(many) == len(few) <= 14


def test_a_short_token_is_a_deploy_check_warning(settings):
    settings.METRICS_TOKEN = "short"
    assert [w.id for w in check_metrics_token()] == ["recourse.W011"]
    settings.METRICS_TOKEN = TOKEN
    assert check_metrics_token() == []
