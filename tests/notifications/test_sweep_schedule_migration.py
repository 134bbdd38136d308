"""notifications 0012: the one minute sweep (`notifications.tasks.sweep`) became one job
per domain. A database made before it keeps no row naming the old function."""

import pytest
from django.utils.module_loading import import_string

from tests.migrations import migrate, migrate_to_latest

BEFORE = [("notifications", "0011_notification_routed_to_you")]
AFTER = [("notifications", "0012_sweep_per_domain")]


@pytest.mark.django_db(transaction=True)
def test_the_old_sweep_row_becomes_one_row_per_domain():
    old = migrate(BEFORE)
    try:
        Schedule = old.get_model("django_q", "Schedule")
        Schedule.objects.update_or_create(
            name="recourse-sweep",
            defaults={
                "func": "notifications.tasks.sweep",
                "schedule_type": "I",
                "minutes": 1,
                "repeats": -1,
            },
        )

        new = migrate(AFTER)
        rows = new.get_model("django_q", "Schedule").objects
        assert not rows.filter(func="notifications.tasks.sweep").exists()
        minute_jobs = {
            row.name: row.func for row in rows.filter(schedule_type="I", minutes=1, repeats=-1)
        }
        assert minute_jobs == {
            "recourse-escalation": "complaints.tasks.escalate_overdue_cases",
            "recourse-retraining-overdue": "competencies.tasks.notify_overdue_retraining",
            "recourse-sms-conversations": "intake.tasks.move_on_idle_conversations",
            "recourse-delivery-requeue": "notifications.tasks.requeue_due_deliveries",
            # Added since, by config/schedule.py (the migration syncs with its list).
            "recourse-key-epochs": "vault.tasks.move_copies_to_their_epochs",
            "recourse-media-fetch": "intake.tasks.requeue_due_media",
            "recourse-compliance-summary": "oversight.tasks.sum_changed_days",
        }
        for func in minute_jobs.values():
            assert callable(import_string(func))
    finally:
        migrate_to_latest()
