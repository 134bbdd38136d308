from django.db import migrations


def load(apps, schema_editor):
    from competencies.frameworks import frameworks_load

    frameworks_load(
        apps.get_model("competencies", "CompetencyFramework"),
        apps.get_model("competencies", "Competency"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("competencies", "0002_competencyframework_competency_retrainingassignment_and_more")
    ]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
