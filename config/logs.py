"""Logs (issue 18 §2): one line per request and one per task, carrying ids, routes,
statuses and durations only; JSON lines when LOG_FORMAT=json.

What is never written: a request's path or query (a path may carry a case reference,
a query anything), a task's arguments or result, an exception's message (a message can
quote what was typed, or a provider's error can name a phone number). An exception is
written as its type and the frames it passed through.
"""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
import uuid
from datetime import UTC, datetime

from django.conf import settings
from django.utils.functional import empty

request_logger = logging.getLogger("recourse.request")
task_logger = logging.getLogger("recourse.task")

# The fields a line may carry besides its message: ids, names of code, counts, times.
FIELDS = (
    "request_id",
    "method",
    "route",
    "status",
    "duration_ms",
    "user_id",
    "task_id",
    "func",
    "success",
    "error_type",
    "since_enqueued_ms",
)
# A request id set by the proxy (nginx's $request_id) is kept if it looks like one.
REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
# The last line of a formatted traceback: "module.ErrorType: message" or "ErrorType".
ERROR_TYPE = re.compile(r"^([A-Za-z_][\w.]*)(?::|$)")
FRAMES_SHOWN = 8


def exception_outline(exc_info) -> str:
    """The exception's type and where it was raised, innermost frame first, without
    its message."""
    error_type, _value, trace = exc_info
    frames = traceback.extract_tb(trace)[-FRAMES_SHOWN:]
    where = " < ".join(f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in frames[::-1])
    return f"{error_type.__name__} at {where}" if where else error_type.__name__


class PlainFormatter(logging.Formatter):
    def formatException(self, ei) -> str:  # noqa: N802 (logging's name)
        return exception_outline(ei)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the allowed fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({name: getattr(record, name) for name in FIELDS if hasattr(record, name)})
        if record.exc_info:
            line["exception"] = exception_outline(record.exc_info)
        return json.dumps(line, default=str)


class DjangoQTaskLinesFilter(logging.Filter):
    """django-q2 writes lines of its own per task: enqueued, created from a schedule,
    processing, processed, and failed with the task's result (the exception's message
    and traceback). task_logged writes one line per task instead, so those are dropped;
    the cluster's own lines (starting, running, a worker reincarnated, stopped) stay."""

    PER_TASK_MODULES = ("tasks", "scheduler", "worker")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            return True
        if record.module == "monitor":
            return False
        return not (record.module in self.PER_TASK_MODULES and record.levelno < logging.WARNING)


def _request_id(request) -> str:
    given = request.headers.get("X-Request-ID", "")
    return given if REQUEST_ID.match(given) else uuid.uuid4().hex


def _user_id(request) -> int | None:
    """The signed-in staff member's id, if this request already looked them up (asking
    here would cost a reporter page a session read it did not need)."""
    user = getattr(request, "user", None)
    wrapped = getattr(user, "_wrapped", empty)
    if wrapped is empty or wrapped is None:
        return None
    return wrapped.pk


class RequestLogMiddleware:
    """The outermost middleware: one line per request, with the URL pattern the request
    matched (never the path itself), and the request id in an X-Request-ID header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        request_id = _request_id(request)
        response = self.get_response(request)
        duration_ms = round((time.monotonic() - started) * 1000, 1)
        match = getattr(request, "resolver_match", None)
        if match is not None:
            route = match.route
        elif request.path.startswith(settings.STATIC_URL):
            route = "static"
        else:
            route = "unmatched"
        request_logger.info(
            "%s %s %s %sms",
            request.method,
            route,
            response.status_code,
            duration_ms,
            extra={
                "request_id": request_id,
                "method": request.method,
                "route": route,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "user_id": _user_id(request),
            },
        )
        response["X-Request-ID"] = request_id
        return response


def _error_type(result) -> str:
    """A failed task's result is "message : traceback"; its last line names the type."""
    lines = [line for line in str(result).strip().splitlines() if line.strip()]
    found = ERROR_TYPE.match(lines[-1]) if lines else None
    return found.group(1) if found else "unknown"


def _func_name(func) -> str:
    if callable(func):
        return f"{func.__module__}.{func.__qualname__}"
    return str(func)


def task_logged(sender, task: dict, **kwargs) -> None:
    """django-q2's post_execute, in the cluster's monitor: one line per task run."""
    success = bool(task.get("success"))
    started, stopped = task.get("started"), task.get("stopped")
    since_enqueued_ms = (
        round((stopped - started).total_seconds() * 1000, 1) if started and stopped else None
    )
    fields = {
        "task_id": task.get("id"),
        "func": _func_name(task.get("func")),
        "success": success,
        "since_enqueued_ms": since_enqueued_ms,
    }
    if not success:
        fields["error_type"] = _error_type(task.get("result"))
    task_logger.log(
        logging.INFO if success else logging.ERROR,
        "task %s %s %s",
        fields["func"],
        "ok" if success else f"failed ({fields['error_type']})",
        fields["task_id"],
        extra=fields,
    )
