from django.db import migrations, models


def refuse_server_copies(apps, schema_editor):
    """This version reads no server copy of a case's key. A database that still holds
    some must move them to per-person copies first (`manage.py case_keys_migrate` of
    commit 3bf1d23, the last release that had it); dropping them silently could leave a
    case nobody can open."""
    CaseKey = apps.get_model("complaints", "CaseKey")
    left = CaseKey.objects.filter(holder_kind="server").count()
    if left:
        raise RuntimeError(
            f"{left} cases still have a server copy of their key. Run `manage.py "
            "case_keys_migrate` with the previous release (commit 3bf1d23), then migrate again."
        )


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0012_audit_anchor_schedule"),
    ]

    operations = [
        migrations.RunPython(refuse_server_copies, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="casekey",
            name="casekey_one_server_copy",
        ),
        migrations.AlterField(
            model_name="casekey",
            name="holder_kind",
            field=models.CharField(
                choices=[
                    ("user", "A staff member's public key"),
                    ("recovery", "The unit's offline recovery key"),
                    ("reporter", "The child's follow-up code"),
                ],
                max_length=16,
            ),
        ),
    ]
