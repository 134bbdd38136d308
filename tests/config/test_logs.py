"""Issue 18 §2, logs: one line per request and per task, ids only, JSON when asked.
A whole journey (a web complaint with a number to text, a follow-up, an SMS
conversation, a focal point reading and answering both, a real worker sending what
they queued, and a task that fails quoting the child) leaves no canary, phone number,
follow-up code or reference in any line the web or the worker wrote."""

import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.urls import reverse
from django_q.models import Failure
from django_q.tasks import async_task

from complaints.models import Case
from config.logs import (
    DjangoQTaskLinesFilter,
    JsonFormatter,
    PlainFormatter,
    RequestLogMiddleware,
    task_logged,
)
from notifications.models import PENDING, Notification, OutboundSms
from tests.conftest import complaint_data, receipt_from, staff_login
from tests.robustness.test_worker_killed import database_url

ROOT = Path(settings.BASE_DIR)
WEB_CHILD_PHONE = "+221770009876"
SMS_CHILD_PHONE = "+221770004321"


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def raised(message: str) -> tuple:
    try:
        raise ValueError(message)
    except ValueError:
        return sys.exc_info()


def record(message="hello", *, exc_info=None, **extra) -> logging.LogRecord:
    made = logging.LogRecord("recourse.test", logging.ERROR, __file__, 1, message, (), exc_info)
    made.__dict__.update(extra)
    return made


def test_a_json_line_carries_the_allowed_fields_and_an_exception_without_its_message():
    line = json.loads(
        JsonFormatter().format(
            record(
                exc_info=raised("they hit me +221770009876"),
                route="staff/",
                status=200,
                narrative="they hit me",  # not an allowed field: never written
            )
        )
    )
    assert line["message"] == "hello" and line["route"] == "staff/" and line["status"] == 200
    assert "narrative" not in line
    assert line["exception"].startswith("ValueError at ")
    assert "test_logs.py" in line["exception"] and "raised" in line["exception"]
    assert "they hit me" not in json.dumps(line) and "770009876" not in json.dumps(line)
    plain = PlainFormatter("%(message)s").format(record(exc_info=raised("they hit me")))
    assert "ValueError at " in plain and "they hit me" not in plain


def test_the_request_line_names_the_route_never_the_path(db, caplog):
    caplog.set_level(logging.INFO, logger="recourse.request")
    middleware = RequestLogMiddleware(lambda request: __import__("django").http.HttpResponse())
    request = RequestFactory().get("/staff/cases/ABCD-1234/?code=SECRET")
    request.resolver_match = type("Match", (), {"route": "staff/cases/<str:reference>/"})()
    response = middleware(request)
    (line,) = [r for r in caplog.records if r.name == "recourse.request"]
    assert line.getMessage().startswith("GET staff/cases/<str:reference>/ 200 ")
    assert line.route == "staff/cases/<str:reference>/" and line.user_id is None
    assert len(response["X-Request-ID"]) == 32 and line.request_id == response["X-Request-ID"]
    # A proxy's request id is kept; anything that does not look like one is replaced.
    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="0123456789abcdef")
    assert middleware(request)["X-Request-ID"] == "0123456789abcdef"
    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="they hit me")
    assert middleware(request)["X-Request-ID"] != "they hit me"


def test_a_failed_task_is_one_line_with_its_error_type(caplog):
    caplog.set_level(logging.INFO, logger="recourse.task")
    result = 'could not handle +221770009876 : Traceback (most recent call last):\n  File "x.py", line 1\nValueError: could not handle +221770009876'
    task_logged(
        None,
        task={
            "id": "abc",
            "func": "tests.log_tasks.fail_quoting",
            "success": False,
            "result": result,
        },
    )
    (line,) = caplog.records
    assert line.levelno == logging.ERROR and line.error_type == "ValueError"
    assert "770009876" not in line.getMessage()

    # django-q2's own failure line, which quotes the result, is dropped, and its other
    # lines per task; its cluster's lines stay.
    def django_q_line(path, level, message="x"):
        return logging.LogRecord("django-q", level, path, 1, message, (), None)

    keep = DjangoQTaskLinesFilter().filter
    assert keep(django_q_line("/x/monitor.py", logging.ERROR, f"Failed - {result}")) is False
    assert keep(django_q_line("/x/monitor.py", logging.INFO, "Processed")) is False
    assert keep(django_q_line("/x/tasks.py", logging.INFO, "Enqueued")) is False
    assert keep(django_q_line("/x/scheduler.py", logging.INFO, "created task")) is False
    assert keep(django_q_line("/x/worker.py", logging.INFO, "processing")) is False
    assert keep(django_q_line("/x/cluster.py", logging.INFO, "Q Cluster running.")) is True
    assert keep(django_q_line("/x/scheduler.py", logging.ERROR, "failed to create")) is True


def start_json_worker(log) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": database_url(),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_for(predicate, seconds: float, what: str, log_path: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(
        f"timed out waiting for {what}; worker log:\n{log_path.read_text()[-3000:]}"
    )


@pytest.mark.django_db(transaction=True)
def test_a_whole_journey_leaves_no_canary_number_code_or_reference_in_any_log_line(
    client, sms, unit, focal_point, tmp_path
):
    canary = f"canary-{uuid.uuid4().hex}"
    web_log = io.StringIO()
    handler = logging.StreamHandler(web_log)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)  # production's LOG_LEVEL
    try:
        # A web child who asked to be texted, then follows up.
        response = client.post(
            reverse("intake:complaint_form", args=[unit.code]),
            complaint_data(
                narrative=f"He hit me. {canary}",
                contact_preference="sms",
                contact_detail=WEB_CHILD_PHONE,
            ),
        )
        assert response.status_code == 200
        web_reference, web_code = receipt_from(response)
        client.post(reverse("intake:followup"), {"reference": web_reference, "code": web_code})
        client.post(reverse("intake:followup_case"), {"body": f"One more thing. {canary}"})
        client.get(f"/follow-up/?code={web_code}")  # a code typed into the address bar
        # A child who texts.
        sms(f"TST1 they took my phone {canary}", phone=SMS_CHILD_PHONE)
        sms("DONE", phone=SMS_CHILD_PHONE)
        sms("2", phone=SMS_CHILD_PHONE)
        assert "Your complaint is" in sms("2", phone=SMS_CHILD_PHONE)
        sms_code_reply = sms("CODE", phone=SMS_CHILD_PHONE)
        # The focal point reads both and answers both.
        staff = client.__class__()
        staff_login(staff, focal_point)
        staff.get(reverse("staff:queue"))
        references = list(Case.objects.values_list("reference", flat=True))
        assert len(references) == 2
        for reference in references:
            page = staff.get(reverse("staff:case", args=[reference])).content.decode()
            assert canary in page
            staff.post(reverse("staff:case", args=[reference]), {"body": f"We hear you. {canary}"})
        staff.get(reverse("staff:case", args=["ZZZZ-9999"]))  # a 404
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)

    assert OutboundSms.objects.filter(status=PENDING).count() >= 2
    async_task("tests.log_tasks.fail_quoting", f"{canary} {SMS_CHILD_PHONE}", save=True)
    worker_log = tmp_path / "worker.log"
    with worker_log.open("w") as log:
        worker = start_json_worker(log)
        try:
            wait_for(
                lambda: (
                    not Notification.objects.filter(status=PENDING).exists()
                    and not OutboundSms.objects.filter(status=PENDING).exists()
                    and Failure.objects.exists()
                ),
                90,
                "the worker to send everything and run the failing task",
                worker_log,
            )
            time.sleep(1.5)  # the monitor writes the last task lines
        finally:
            os.kill(worker.pid, signal.SIGINT)  # the main process only (docs: DESIGN.md)
            worker.wait(timeout=30)

    web_lines = json_lines(web_log.getvalue())
    worker_lines = json_lines(worker_log.read_text())  # every line is JSON
    requests = [line for line in web_lines if line["logger"] == "recourse.request"]
    assert len(requests) >= 13  # one per request above, the webhook's included
    routes = {line["route"] for line in requests}
    assert {"follow-up/", "sms/twilio/inbound/", "staff/cases/<str:reference>/"} <= routes
    assert any(line["status"] == 404 for line in requests)
    assert all(
        line["user_id"] == focal_point.pk
        for line in requests
        if line["route"].startswith("staff/cases")
    )
    tasks = [line for line in worker_lines if line["logger"] == "recourse.task"]
    assert sum(line["func"] == "notifications.tasks.deliver_sms" for line in tasks) >= 2
    (failed,) = [line for line in tasks if not line["success"]]
    assert failed["func"] == "tests.log_tasks.fail_quoting" and failed["error_type"] == "ValueError"

    sms_code = re.search(r"\d{4}(?: \d{4})+", sms_code_reply)
    assert sms_code, sms_code_reply
    codes = [web_code, sms_code.group(0)]
    secrets = [canary, "770009876", "770004321", *codes, *references]
    secrets += [code.replace(" ", "") for code in codes]
    secrets += [reference.replace("-", "") for reference in references]
    for line in web_lines + worker_lines:
        text = json.dumps(line, ensure_ascii=False)
        assert not [secret for secret in secrets if secret and secret in text], text
