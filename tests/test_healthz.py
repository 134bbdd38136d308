"""Issue 18 §2: /healthz answers without a sign-in, ok or failing per component and
nothing more, 503 when anything fails."""

from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.utils import timezone
from django_q.models import OrmQ, Schedule

from config import health
from config.health import SWEEP_NAME
from vault import crypto


@pytest.fixture
def sweep_on_time(db):
    Schedule.objects.filter(name=SWEEP_NAME).update(next_run=timezone.now() + timedelta(seconds=30))


def lines(response) -> dict[str, str]:
    return dict(line.split(" ") for line in response.content.decode().splitlines())


def test_all_well_is_200_and_says_only_ok_per_component(client, sweep_on_time):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "no-store" in response["Cache-Control"]
    assert lines(response) == {"database": "ok", "keyring": "ok", "queue": "ok", "sweep": "ok"}


def test_a_late_sweep_and_an_old_waiting_task_fail_their_lines(client, sweep_on_time, settings):
    Schedule.objects.filter(name=SWEEP_NAME).update(next_run=timezone.now() - timedelta(minutes=5))
    OrmQ.objects.create(key="recourse", payload="x", lock=timezone.now() - timedelta(minutes=10))
    # A task a worker holds has its lock in the future: not waiting.
    OrmQ.objects.create(key="recourse", payload="y", lock=timezone.now() + timedelta(minutes=1))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert lines(response) == {
        "database": "ok",
        "keyring": "ok",
        "queue": "failing",
        "sweep": "failing",
    }
    settings.HEALTH_QUEUE_MAX_AGE = 3600
    assert lines(client.get("/healthz"))["queue"] == "ok"


def test_a_key_ring_without_this_months_epoch_keys_fails(client, sweep_on_time, settings):
    settings.RECOURSE_KEYRING = crypto.KeyRing.generate("k1").to_json()
    try:
        response = client.get("/healthz")
    finally:
        crypto._load_keyring.cache_clear()
    assert response.status_code == 503 and lines(response)["keyring"] == "failing"


def test_a_database_error_is_a_failing_line_not_an_error_page(client, db, monkeypatch):
    def down():
        raise DatabaseError("connection refused")

    monkeypatch.setitem(health.CHECKS, "database", down)
    response = client.get("/healthz")
    assert response.status_code == 503 and lines(response)["database"] == "failing"


def test_only_get(client, sweep_on_time):
    assert client.post("/healthz").status_code == 405
