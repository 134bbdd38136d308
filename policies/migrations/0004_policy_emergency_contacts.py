# The emergency numbers move from the unit to its versioned policy (the policy's
# emergency protocol): every version of a unit's policy takes the unit's numbers.
# Units get a time zone, policies their limits of confidentiality.

from django.db import migrations, models

import policies.models


def contacts_to_policies(apps, schema_editor):
    Unit = apps.get_model("policies", "Unit")
    ChildProtectionPolicy = apps.get_model("policies", "ChildProtectionPolicy")
    for unit in Unit.objects.exclude(emergency_contacts=[]):
        # update(), not save(): a published version is otherwise never edited.
        ChildProtectionPolicy.objects.filter(unit=unit).update(
            emergency_contacts=unit.emergency_contacts
        )


class Migration(migrations.Migration):
    dependencies = [
        ("policies", "0003_poster_print"),
    ]

    operations = [
        migrations.AddField(
            model_name="childprotectionpolicy",
            name="emergency_contacts",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.RunPython(contacts_to_policies, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="unit",
            name="emergency_contacts",
        ),
        migrations.AddField(
            model_name="childprotectionpolicy",
            name="confidentiality_limits",
            field=models.JSONField(
                blank=True, default=policies.models.default_confidentiality_limits
            ),
        ),
        migrations.AddField(
            model_name="unit",
            name="time_zone",
            field=models.CharField(
                default="UTC",
                help_text="IANA name, e.g. Africa/Dakar, America/Guatemala.",
                max_length=64,
                validators=[policies.models.validate_time_zone],
            ),
        ),
    ]
