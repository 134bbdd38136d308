from django.db import migrations

ANCHOR = "complaints.tasks.anchor_audit_head"


def add_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    # Once a day: anchor the audit chain's head outside the table (complaints/audit.py).
    Schedule.objects.update_or_create(
        name="recourse-audit-anchor",
        defaults={"func": ANCHOR, "schedule_type": "D", "repeats": -1},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="recourse-audit-anchor").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0011_reader_approval"),
        ("django_q", "0018_task_success_index"),
    ]

    operations = [migrations.RunPython(add_schedule, remove_schedule)]
