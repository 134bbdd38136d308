from django.db import migrations


def drop_held_back_copies(apps, schema_editor):
    """A copy never released was never readable (every read asked for a released one):
    it goes with the field. Its reader gets a fresh copy at a holder's next sign-in, as
    anyone who may read a case and holds no copy does."""
    CaseKey = apps.get_model("complaints", "CaseKey")
    CaseKey.objects.filter(released_at__isnull=True).delete()


class Migration(migrations.Migration):
    """CaseKey.released_at was dead state: every copy has been made released since the
    escalation chain's copies stopped being made at intake (issue 15)."""

    dependencies = [
        ("complaints", "0018_queue_index_until_closed"),
    ]

    operations = [
        migrations.RunPython(drop_held_back_copies, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="casekey",
            name="released_at",
        ),
    ]
