"""Operator metrics (issue 18 §2), in Prometheus's text format, behind a token.

Counts and ages only: no reference, no unit, no person, nothing a child wrote. A
label is a kind of delivery, a provider's error code, an escalation step or a health
component, so the number of series stays small at any volume. One scrape runs a
constant number of queries, whatever the number of rows.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Min, Q
from django.utils import timezone
from django_q.models import OrmQ, Schedule
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

from access.cases import OVERSIGHT_LEVEL
from complaints.escalation import BACKUP, MANAGER
from complaints.models import Case
from config.health import SWEEP_NAME, health_report
from notifications.models import PENDING, Notification, OutboundEmail, OutboundSms
from vault.keys import cases_waiting_for_a_grant

# What each kind of delivery is called in the labels, and its statuses that are a
# final failure (a pending row with an error code is a failure being retried).
DELIVERIES = {
    "staff_notice": (Notification, (Notification.Status.FAILED,)),
    "text": (OutboundSms, (OutboundSms.Status.FAILED, OutboundSms.Status.UNDELIVERED)),
    "email": (OutboundEmail, (OutboundEmail.Status.FAILED,)),
}
ESCALATION_STEPS = {BACKUP: "backup", MANAGER: "manager", OVERSIGHT_LEVEL: "oversight"}


def _age_seconds(since, now) -> float:
    return max((now - since).total_seconds(), 0.0) if since is not None else 0.0


def _health() -> Iterator[Metric]:
    gauge = GaugeMetricFamily(
        "recourse_health_ok", "1 when the component's /healthz line is ok", labels=["component"]
    )
    for component, ok in health_report().items():
        gauge.add_metric([component], 1 if ok else 0)
    yield gauge


def _queue(now) -> Iterator[Metric]:
    """django-q2's ORM broker: a waiting row carries its enqueue time in `lock`, a row
    a worker holds carries a time in the future (config/health.py)."""
    rows = OrmQ.objects.aggregate(
        waiting=Count("id", filter=Q(lock__lte=now)),
        running=Count("id", filter=Q(lock__gt=now)),
        oldest=Min("lock", filter=Q(lock__lte=now)),
    )
    depth = GaugeMetricFamily(
        "recourse_queue_tasks", "Tasks in the queue, waiting or held by a worker", labels=["state"]
    )
    depth.add_metric(["waiting"], rows["waiting"])
    depth.add_metric(["running"], rows["running"])
    yield depth
    yield GaugeMetricFamily(
        "recourse_queue_oldest_waiting_seconds",
        "Age of the oldest task waiting for a worker (0 when none)",
        value=_age_seconds(rows["oldest"], now),
    )
    next_run = Schedule.objects.filter(name=SWEEP_NAME).values_list("next_run", flat=True).first()
    yield GaugeMetricFamily(
        "recourse_minute_sweep_late_seconds",
        "How far past its next run the minute sweep is (0 when on time)",
        value=_age_seconds(next_run, now),
    )


def _deliveries(now) -> Iterator[Metric]:
    pending = GaugeMetricFamily(
        "recourse_deliveries_pending", "Notices, texts and emails not sent yet", labels=["kind"]
    )
    oldest = GaugeMetricFamily(
        "recourse_deliveries_oldest_pending_seconds",
        "Age of the oldest delivery not sent yet (0 when none)",
        labels=["kind"],
    )
    failures = GaugeMetricFamily(
        "recourse_delivery_failures",
        "Deliveries whose last attempt failed, by the provider's error code (or the "
        "error's type): 'final' gave up, 'retrying' waits for its next attempt",
        labels=["kind", "code", "state"],
    )
    for kind, (model, failed) in DELIVERIES.items():
        waiting = model.objects.filter(status=PENDING).aggregate(
            count=Count("pk"), oldest=Min("created_at")
        )
        pending.add_metric([kind], waiting["count"])
        oldest.add_metric([kind], _age_seconds(waiting["oldest"], now))
        by_code = (
            model.objects.filter(Q(status__in=failed) | Q(status=PENDING, attempts__gt=0))
            .exclude(error_code="")
            .values("error_code", "status")
            .annotate(count=Count("pk"))
            .order_by()
        )
        totals: dict[tuple[str, str], int] = {}
        for row in by_code:
            state = "retrying" if row["status"] == PENDING else "final"
            key = (row["error_code"], state)
            totals[key] = totals.get(key, 0) + row["count"]
        for (code, state), count in sorted(totals.items()):
            failures.add_metric([kind, code, state], count)
    held = OutboundSms.objects.filter(status=OutboundSms.Status.WAITING).aggregate(
        count=Count("pk"), oldest=Min("created_at")
    )
    yield from (pending, oldest, failures)
    yield GaugeMetricFamily(
        "recourse_texts_held",
        "WhatsApp texts held outside the 24-hour window until the child writes again",
        value=held["count"],
    )
    yield GaugeMetricFamily(
        "recourse_texts_held_oldest_seconds",
        "Age of the oldest held WhatsApp text (0 when none)",
        value=_age_seconds(held["oldest"], now),
    )


def _cases(now) -> Iterator[Metric]:
    live = Case.objects.filter(status__in=Case.OPEN_STATUSES, purged_at__isnull=True)
    counts = live.aggregate(
        open=Count("pk"),
        overdue=Count("pk", filter=Q(next_due_at__lt=now)),
        **{
            f"level_{level}": Count("pk", filter=Q(escalation_level=level))
            for level in ESCALATION_STEPS
        },
    )
    yield GaugeMetricFamily("recourse_cases_open", "Open cases", value=counts["open"])
    yield GaugeMetricFamily(
        "recourse_cases_overdue",
        "Open cases past the deadline of the step they are at",
        value=counts["overdue"],
    )
    escalated = GaugeMetricFamily(
        "recourse_cases_escalated",
        "Open cases by the escalation step they reached",
        labels=["step"],
    )
    for level, step in ESCALATION_STEPS.items():
        escalated.add_metric([step], counts[f"level_{level}"])
    yield escalated
    yield GaugeMetricFamily(
        "recourse_cases_waiting_for_key_grant",
        "Open cases that someone who may read them cannot open yet (a holder must sign "
        "in, or a manager approve a late-joining reader)",
        value=cases_waiting_for_a_grant().count(),
    )


class RecourseCollector:
    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        yield from _health()
        yield from _queue(now)
        yield from _deliveries(now)
        yield from _cases(now)


def metrics_text() -> bytes:
    """One scrape, read from the database now (no state kept between scrapes, so any
    web process answers the same)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RecourseCollector())
    return generate_latest(registry)
