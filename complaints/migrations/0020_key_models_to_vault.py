from django.db import migrations


class Migration(migrations.Migration):
    """CaseKey, StaffKey and ReaderApproval now belong to the vault app: only Django's
    record of them leaves complaints. Their tables stay as they are (vault's models keep
    db_table), so no row is touched: vault/migrations/0001_initial takes them over."""

    dependencies = [
        ("complaints", "0019_casekey_without_released_at"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="readerapproval",
                    name="approved_by",
                ),
                migrations.RemoveField(
                    model_name="readerapproval",
                    name="unit",
                ),
                migrations.RemoveField(
                    model_name="readerapproval",
                    name="user",
                ),
                migrations.RemoveField(
                    model_name="staffkey",
                    name="user",
                ),
                migrations.DeleteModel(
                    name="CaseKey",
                ),
                migrations.DeleteModel(
                    name="ReaderApproval",
                ),
                migrations.DeleteModel(
                    name="StaffKey",
                ),
            ],
            database_operations=[],
        ),
    ]
