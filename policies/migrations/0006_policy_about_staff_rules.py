from django.db import migrations, models

CHOICES = [
    ("usual", "Route as usual"),
    ("usual_manager", "Route as usual, and tell the unit's manager"),
    (
        "backups_manager",
        "Backup focal points only (primary focal points never see it), and tell the unit's manager",
    ),
    ("oversight", "Send it to the oversight unit"),
]


def _field(default):
    return models.CharField(choices=CHOICES, default=default, max_length=16)


class Migration(migrations.Migration):
    """Rules for a child's "yes" and "not sure" to "Is this about someone who works
    there?". Versions that exist already (published ones are never edited) routed both
    answers as usual, so they get "usual": that is what they promised. New versions
    default to routing as usual and telling the unit's manager."""

    dependencies = [
        ("policies", "0005_staffprofile_language"),
    ]

    operations = [
        migrations.AddField(
            model_name="childprotectionpolicy", name="about_staff_yes_rule", field=_field("usual")
        ),
        migrations.AddField(
            model_name="childprotectionpolicy",
            name="about_staff_unsure_rule",
            field=_field("usual"),
        ),
        migrations.AlterField(
            model_name="childprotectionpolicy",
            name="about_staff_yes_rule",
            field=_field("usual_manager"),
        ),
        migrations.AlterField(
            model_name="childprotectionpolicy",
            name="about_staff_unsure_rule",
            field=_field("usual_manager"),
        ),
    ]
