"""A real django-q2 worker is SIGKILLed in the middle of sending a routing notice;
after a restart the notice is sent exactly once."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from complaints.models import CaseEvent
from complaints.services import complaint_receive
from notifications.models import Notification
from policies.models import Membership
from tests.conftest import make_staff

ROOT = Path(settings.BASE_DIR)


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return (
        f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


def start_worker(mail_dir: Path, log) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.robustness.worker_settings",
        "DATABASE_URL": database_url(),
        "HOLDABLE_EMAIL_DIR": str(mail_dir),
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def kill_worker(worker: subprocess.Popen) -> None:
    """SIGKILL the whole cluster (sentinel, pusher, workers, monitor): nothing cleans up."""
    try:
        os.killpg(worker.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    worker.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the workers die a moment after their parent
        try:
            os.killpg(worker.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError("the worker's processes outlived SIGKILL")


def wait_for(predicate, seconds: float, what: str, log_path: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    state = list(Notification.objects.values_list("pk", "status", "attempts", "claimed_at"))
    files = sorted(p.name for p in log_path.parent.iterdir())
    raise AssertionError(
        f"timed out waiting for {what}; notifications {state}; files {files}; "
        f"worker log:\n{log_path.read_text()[-3000:]}"
    )


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_notification_sends_it_exactly_once_after_restart(
    unit, django_user_model, tmp_path
):
    focal = make_staff(django_user_model, "focal", unit, Membership.Role.FOCAL_POINT)
    (tmp_path / "hold").touch()
    case = complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative="they shouted at me",
        category="neglect",
        in_danger=False,
        about_staff_answer="no",
        contact_preference="none",
    ).case  # commits: the task is on the ORM queue
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        worker = start_worker(tmp_path, log)
        try:
            wait_for(lambda: (tmp_path / "started").exists(), 60, "the send to start", log_path)
            kill_worker(worker)  # mid-send: claimed, not sent
            assert Notification.objects.get(case=case).status == Notification.Status.PENDING
            assert list(tmp_path.glob("*.eml")) == []

            (tmp_path / "hold").unlink()
            worker = start_worker(tmp_path, log)
            wait_for(
                lambda: Notification.objects.get(case=case).status == Notification.Status.SENT,
                90,
                "the notice to be sent after restart",
                log_path,
            )
            time.sleep(2)  # any duplicate delivery would land now
        finally:
            kill_worker(worker)

    assert len(list(tmp_path.glob("*.eml"))) == 1
    notification = Notification.objects.get(case=case)
    assert notification.recipient == focal and notification.attempts == 1
    case.refresh_from_db()
    assert case.assignee == focal
    assert CaseEvent.objects.filter(case=case).count() == 1  # routed once, not again by the retry
