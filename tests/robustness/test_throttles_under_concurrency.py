"""Issue 13, section 3: reporter limits that hold when the requests arrive all at once.

Each test fires a burst of simultaneous requests from real threads (each with its own
database connection) and counts the expensive checks the server actually ran (the
staff sign-in's are in tests/complaints/test_staff_login_limits.py). Run on
SQLite and, with DATABASE_URL=postgresql://..., on PostgreSQL.
"""

import threading
from collections import Counter

import pytest
from django.test import Client
from django.urls import reverse

from complaints.models import Case
from complaints.services import complaint_receive
from tests.conftest import burst, complaint_data
from vault import crypto

BURST = 40


@pytest.fixture
def argon2_checks(monkeypatch):
    """How many follow-up codes were run through Argon2id, counted across threads."""
    counter = Counter()
    lock = threading.Lock()
    real = crypto.followup_secret_check

    def counting(code, stored):
        with lock:
            counter["checks"] += 1
        return real(code, stored)

    monkeypatch.setattr(crypto, "followup_secret_check", counting)
    return counter


def filed_case(unit):
    receipt = complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative="They hit me.",
        category="neglect",
        in_danger=False,
        about_staff_answer="no",
        contact_preference="none",
    )
    return receipt.case, receipt.followup_code


def wrong_code(right: str) -> str:
    return f"{(int(right) + 1) % 10**12:012d}"


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_wrong_codes_gets_at_most_five_argon2_checks_per_reference(
    unit, settings, argon2_checks
):
    case, code = filed_case(unit)
    url = reverse("intake:followup")
    # A different address each, so that only the per-reference limit applies.
    statuses = burst(
        BURST,
        lambda i: (
            Client(REMOTE_ADDR=f"10.0.{i}.1")
            .post(url, {"reference": case.reference, "code": wrong_code(code)})
            .status_code
        ),
    )
    print(
        f"\nfollow-up, one reference: {BURST} simultaneous wrong codes -> "
        f"{argon2_checks['checks']} Argon2 checks; statuses {sorted(Counter(statuses).items())}"
    )
    assert argon2_checks["checks"] <= settings.FOLLOWUP_MAX_FAILURES_PER_REFERENCE
    assert set(statuses) <= {400, 429}
    assert statuses.count(400) == argon2_checks["checks"]
    # The limit is reached: even the right code waits for the window to pass.
    right = Client().post(url, {"reference": case.reference, "code": code})
    assert right.status_code == 429


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_wrong_codes_from_one_client_gets_at_most_its_limit_of_checks(
    unit, settings, argon2_checks
):
    url = reverse("intake:followup")
    references = [f"ZZZZ{i:04d}" for i in range(BURST)]  # unknown: checked against a dummy
    statuses = burst(
        BURST,
        lambda i: (
            Client(REMOTE_ADDR="10.9.9.9")
            .post(url, {"reference": references[i], "code": "123456789012"})
            .status_code
        ),
    )
    print(
        f"\nfollow-up, one client: {BURST} simultaneous wrong codes -> "
        f"{argon2_checks['checks']} Argon2 checks"
    )
    assert argon2_checks["checks"] <= settings.FOLLOWUP_MAX_FAILURES_PER_CLIENT
    assert statuses.count(400) == argon2_checks["checks"]


@pytest.mark.django_db(transaction=True)
def test_a_right_code_under_the_limit_still_opens_the_case_after_a_burst_of_wrong_ones(
    unit, settings, argon2_checks
):
    settings.FOLLOWUP_MAX_FAILURES_PER_REFERENCE = 10
    case, code = filed_case(unit)
    url = reverse("intake:followup")
    burst(
        4,
        lambda i: (
            Client(REMOTE_ADDR=f"10.1.{i}.1")
            .post(url, {"reference": case.reference, "code": wrong_code(code)})
            .status_code
        ),
    )
    response = Client().post(url, {"reference": case.reference, "code": code})
    assert response.status_code == 302
    assert argon2_checks["checks"] == 5


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_web_complaints_from_one_client_asks_the_question_past_the_limit(unit, settings):
    settings.SUBMISSIONS_PER_CLIENT = 3
    url = reverse("intake:complaint_form", args=[unit.code])
    statuses = burst(
        12,
        lambda i: (
            Client(REMOTE_ADDR="10.7.7.7")
            .post(url, complaint_data(submission_token=f"token-{i}"))
            .status_code
        ),
    )
    print(
        f"\nweb complaints, one client, limit 3: 12 simultaneous -> {Case.objects.count()} filed "
        "without the question"
    )
    assert Case.objects.count() <= 3
    assert statuses.count(200) == Case.objects.count()
    assert set(statuses) <= {200, 429}
