"""What the bench and the soak ask the bench database, run in a Django process of their
environment: `python bench/probe.py NAME [ARG...]` prints the answer as JSON."""

import json
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from importlib import import_module

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count, Max  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402
from django_q.models import OrmQ, Schedule, Task  # noqa: E402

from complaints.escalation import OVERSIGHT  # noqa: E402
from complaints.models import AuditEvent, Case, Message  # noqa: E402
from config.schedule import MINUTES, PERIODIC_JOBS  # noqa: E402
from intake.models import InboundSms, SmsConversation  # noqa: E402
from notifications.models import Notification, OutboundEmail, OutboundSms  # noqa: E402
from policies.categories import policy_category_codes  # noqa: E402
from policies.models import Membership, Unit  # noqa: E402
from policies.selectors import unit_current_policy  # noqa: E402
from vault import crypto  # noqa: E402


def facts() -> dict:
    """The unit with the most cases, one of its focal points, its manager, a category."""
    unit = Unit.objects.annotate(n=Count("cases")).order_by("-n").first()
    members = Membership.objects.filter(unit=unit)
    return {
        "unit": unit.code,
        "cases": Case.objects.count(),
        "focal": members.filter(role="focal_point").values_list("user_id", flat=True).first(),
        "manager": members.filter(role="manager").values_list("user_id", flat=True).first(),
        "category": policy_category_codes(unit_current_policy(unit).categories)[0],
    }


def counts() -> dict:
    return {
        "cases": Case.objects.count(),
        "web_cases": Case.objects.filter(channel="web").count(),
        "sms_cases": Case.objects.filter(channel="sms").count(),
        "inbound_sms": InboundSms.objects.count(),
        "reporter_messages": Message.objects.filter(author_kind="reporter").count(),
        "notifications": Notification.objects.count(),
        "last_notification": Notification.objects.order_by("-pk")
        .values_list("pk", flat=True)
        .first()
        or 0,
        "last_audit_event": AuditEvent.objects.aggregate(last=Max("pk"))["last"] or 0,
    }


def backlog(after_notification: str) -> dict:
    """What the worker still has to do for notifications created after the given id."""
    newer = Notification.objects.filter(pk__gt=int(after_notification))
    return {
        "queued_tasks": OrmQ.objects.count(),
        "unsent_notifications": newer.exclude(status__in=["sent", "skipped"]).count(),
        "failed_notifications": newer.filter(status="failed").count(),
        # clear_sms left no text of an earlier run; emails are few and all drain.
        "unsent_texts": OutboundSms.objects.filter(status="pending").count(),
        "unsent_emails": OutboundEmail.objects.filter(status="pending").count(),
    }


def stage_escalations(count: str, seconds: str) -> dict:
    """Cases that fall overdue while the soak runs: `count` open cases at the first step
    get deadlines spread from now to a minute before the end, so the minute sweep
    escalates some every minute, on whichever worker runs it. The seeded year of cases
    has thousands overdue (a backlog no real unit has, which would make every sweep take
    500 steps): those are set as escalated now, so the sweep leaves them for an hour and
    the steps in the run are the staged ones and the run's own."""
    count, seconds = int(count), int(seconds)
    now = timezone.now()
    overdue = Case.objects.filter(
        status__in=Case.OPEN_STATUSES, escalation_level__lt=OVERSIGHT, next_due_at__lt=now
    )
    # Two in three filed by SMS in earlier runs (their reporters are kept): the first
    # step tells the child by text that the unit is late, so texts are sent too.
    first_step = Case.objects.filter(status__in=Case.OPEN_STATUSES, escalation_level=0)
    by_sms = first_step.filter(sms_reporter__isnull=False, sms_reporter__opted_out_at=None)
    staged = list(by_sms.order_by("pk").values_list("pk", flat=True)[: count * 2 // 3])
    staged += list(
        first_step.filter(sms_reporter=None)
        .order_by("pk")
        .values_list("pk", flat=True)[: count - len(staged)]
    )
    staged.sort()  # mixed over the run
    with transaction.atomic():
        settled = overdue.exclude(pk__in=staged).update(escalated_at=now)
        span = max(seconds - 60, 1)
        for i, pk in enumerate(staged):
            Case.objects.filter(pk=pk).update(
                next_due_at=now + timedelta(seconds=span * i / max(count - 1, 1)),
                escalated_at=None,
            )
    return {"settled": settled, "staged": [str(pk) for pk in staged]}


def escalations(after_audit_event: str, *staged: str) -> dict:
    """The steps taken since the given audit event: how many, any taken twice (one
    case, one level), and which staged cases took none."""
    events = AuditEvent.objects.filter(
        action="complaints.case.escalated", pk__gt=int(after_audit_event)
    ).values_list("case_id", "data")
    steps = Counter((str(case_id), data["level"]) for case_id, data in events)
    stepped = {case_id for case_id, _level in steps}
    return {
        "steps": sum(steps.values()),
        "cases": len(stepped),
        "twice": [f"{case_id} level {level}" for (case_id, level), n in steps.items() if n > 1],
        "staged_not_escalated": [pk for pk in staged if pk not in stepped],
    }


def schedule_state() -> dict:
    """For each minute job: its next run and the ids of the tasks its schedule made
    that ran (django_q's Task rows, grouped by schedule name) or wait in the queue. Read
    in one snapshot, so a run of the scheduler cannot fall between the parts."""
    minute_jobs = [job.name for job in PERIODIC_JOBS if job.schedule_type == MINUTES]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            connection.cursor().execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        queued: dict[str, list] = {name: [] for name in minute_jobs}
        for row in OrmQ.objects.all():
            task = row.task
            if isinstance(task, dict) and task.get("group") in queued:
                queued[task["group"]].append(task["id"])
        jobs = {
            name: {
                "next_run": Schedule.objects.get(name=name).next_run.timestamp(),
                "ran": {
                    task_id: [started.timestamp(), attempts]
                    for task_id, started, attempts in Task.objects.filter(group=name).values_list(
                        "id", "started", "attempt_count"
                    )
                },
                "queued": queued[name],
            }
            for name in minute_jobs
        }
        return {"now": timezone.now().timestamp(), "jobs": jobs}


def deliveries(ledger: str, since: str, *held: str) -> dict:
    """What the ledger backends recorded (one line per send, every worker) against the
    rows marked sent since `since` (a Unix time, before the workers started): rows sent
    more than once, rows marked sent with no line, lines whose row is not marked sent (a
    send whose outcome was lost: it would go again), who sent what, and the sends of the
    `held` rows (those a killed worker had claimed)."""
    lines = [line.split() for line in open(ledger).read().splitlines()]
    sends = Counter(what for _at, _group, _channel, what in lines)
    held_sends = {what: [float(at) for at, _g, _c, w in lines if w == what] for what in held}
    by_group = Counter(group for _at, group, _channel, _what in lines)
    first_by_group = {}
    for at, group, _channel, _what in lines:
        first_by_group.setdefault(group, float(at))
    started = datetime.fromtimestamp(float(since), tz=UTC)
    marked_sent = {
        f"{model._meta.label_lower}:{pk}"
        for model in (Notification, OutboundSms, OutboundEmail)
        for pk in model.objects.filter(sent_at__gte=started).values_list("pk", flat=True)
    }
    return {
        "sends": sum(sends.values()),
        "by_channel": Counter(
            f"{channel} {what.split(':')[0].rsplit('.', 1)[-1]}"
            for _at, _group, channel, what in lines
        ),
        "twice": sorted(what for what, n in sends.items() if n > 1),
        "unnamed": sends.get("-", 0),
        "sent_without_line": sorted(marked_sent - set(sends)),
        "line_but_not_sent": sorted(set(sends) - marked_sent - {"-"}),
        "held": held_sends,
        "by_process_group": by_group,
        "first_by_process_group": first_by_group,
    }


def kdf_ms() -> float:
    """Median time of one follow-up code derivation at the configured cost."""
    times = []
    for _ in range(7):
        started = time.perf_counter()
        crypto.followup_secret_new("123456789012")
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)[3]


def staff_session(user_id: str) -> str:
    """A session past both login steps (password and second factor), as a cookie value."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(pk=int(user_id))
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store.update(
        {
            "_auth_user_id": str(user.pk),
            "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
            "_auth_user_hash": user.get_session_auth_hash(),
            "otp_device_id": TOTPDevice.objects.filter(user=user, confirmed=True)
            .first()
            .persistent_id,
        }
    )
    store.create()
    return store.session_key


def clear_sms() -> int:
    """Texts of earlier runs would be prompted by the worker's sweep ten minutes later and
    load this run: every run starts with no SMS conversation."""
    return sum(
        model.objects.all().delete()[0] for model in (OutboundSms, InboundSms, SmsConversation)
    )


if __name__ == "__main__":
    name, *args = sys.argv[1:]
    print("\nJSON", json.dumps(globals()[name](*args), default=str))
