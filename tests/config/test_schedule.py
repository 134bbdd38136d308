"""config/schedule.py lists every periodic job; the Schedule rows follow it."""

import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.models import Schedule

from config.schedule import PERIODIC_JOBS, sweep_run


def rows() -> dict:
    return {
        row.name: (row.func, row.schedule_type, row.minutes)
        for row in Schedule.objects.filter(name__startswith="recourse-")
    }


def listed() -> dict:
    return {job.name: (job.func, job.schedule_type, job.minutes) for job in PERIODIC_JOBS}


def test_every_job_is_a_task_function_that_exists():
    for job in PERIODIC_JOBS:
        assert callable(import_string(job.func)), job.name


@pytest.mark.django_db(transaction=True)
def test_after_migrate_the_rows_are_the_list():
    escalation = Schedule.objects.get(name="recourse-escalation")
    later = timezone.now() + timedelta(minutes=30)
    Schedule.objects.filter(pk=escalation.pk).update(next_run=later)
    Schedule.objects.filter(name="recourse-audit-anchor").delete()
    Schedule.objects.filter(name="recourse-delivery-requeue").update(func="gone.task")
    Schedule.objects.create(name="recourse-sweep", func="notifications.tasks.sweep")
    Schedule.objects.create(name="someone-else", func="math.floor")

    call_command("migrate", verbosity=0)

    assert rows() == listed()
    assert Schedule.objects.filter(name="someone-else").exists()  # not ours: left alone
    assert Schedule.objects.get(name="recourse-escalation").next_run == later  # unchanged


def test_a_failing_sweep_is_logged_by_its_error_type_only(caplog):
    def leaky_sweep(*, now):
        raise ValueError("what the child wrote")

    with caplog.at_level(logging.WARNING):
        sweep_run(leaky_sweep)  # does not raise: the next minute tries again
    assert "ValueError" in caplog.text and "what the child wrote" not in caplog.text
