from django.db import migrations

OLD_SWEEP = "notifications.tasks.sweep"
# The one minute sweep became one job per domain, each next to the rows it works on.
# As config/schedule.py listed them on the day (a migration keeps its day's values;
# later changes to the list reach the rows after `migrate`, notifications/apps.py).
MINUTE_JOBS = (
    ("recourse-escalation", "complaints.tasks.escalate_overdue_cases"),
    ("recourse-retraining-overdue", "competencies.tasks.notify_overdue_retraining"),
    ("recourse-sms-conversations", "intake.tasks.move_on_idle_conversations"),
    ("recourse-delivery-requeue", "notifications.tasks.requeue_due_deliveries"),
)
EVERY_MINUTE = {"schedule_type": "I", "minutes": 1, "repeats": -1}


def split_sweep(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    # No row may name the old function: a worker would fail on it every minute.
    Schedule.objects.filter(func=OLD_SWEEP).delete()
    for name, func in MINUTE_JOBS:
        Schedule.objects.update_or_create(name=name, defaults={"func": func, **EVERY_MINUTE})


def join_sweep(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name__in=[name for name, _func in MINUTE_JOBS]).delete()
    Schedule.objects.update_or_create(
        name="recourse-sweep", defaults={"func": OLD_SWEEP, **EVERY_MINUTE}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0011_notification_routed_to_you"),
        ("django_q", "0018_task_success_index"),
    ]

    operations = [migrations.RunPython(split_sweep, join_sweep)]
