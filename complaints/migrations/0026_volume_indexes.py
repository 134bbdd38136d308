from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL, where complaints_case holds a
    deployment's cases and must take writes while it builds (deploy/README.md,
    "Indexes on large tables"); a plain CREATE INDEX elsewhere (SQLite has no other)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_forwards(
                self, app_label, schema_editor, from_state, to_state
            )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_backwards(
                self, app_label, schema_editor, from_state, to_state
            )


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("competencies", "0005_training_records_and_evaluations"),
        ("complaints", "0025_language_choices_callable"),
        ("intake", "0007_inbound_media"),
        ("policies", "0010_unit_languages"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="case",
            index=models.Index(
                condition=models.Q(
                    ("escalation_level__lt", 3),
                    ("status__in", ["received", "acknowledged", "assessing", "investigating"]),
                ),
                fields=["next_due_at"],
                name="case_escalation_due_idx",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="case",
            index=models.Index(
                condition=models.Q(("decided_at__isnull", True)),
                fields=["acknowledge_due_at"],
                name="case_undecided_ack_due_idx",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="case",
            index=models.Index(
                condition=models.Q(("decided_at__isnull", True)),
                fields=["resolve_due_at"],
                name="case_undecided_resolve_due_idx",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="case",
            index=models.Index(
                condition=models.Q(
                    ("status__in", ["received", "acknowledged", "assessing", "investigating"])
                ),
                fields=["next_due_at"],
                name="case_open_next_due_idx",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="case",
            index=models.Index(
                condition=models.Q(
                    (
                        "status__in",
                        [
                            "received",
                            "acknowledged",
                            "assessing",
                            "investigating",
                            "substantiated",
                            "unsubstantiated",
                            "referred",
                            "withdrawn",
                            "upheld",
                            "changed",
                        ],
                    )
                ),
                fields=["handling_unit", "id"],
                name="case_to_handle_count_idx",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="case",
            index=models.Index(
                condition=models.Q(("acknowledged_at__isnull", False)),
                fields=["unit", "received_at"],
                include=("acknowledged_at",),
                name="case_acknowledged_received_idx",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="case",
            index=models.Index(
                condition=models.Q(("closed_at__isnull", False)),
                fields=["id"],
                include=("closed_at",),
                name="case_closed_id_idx",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="case",
            index=models.Index(
                condition=models.Q(("review_of__isnull", False)),
                fields=["received_at"],
                name="case_review_received_idx",
            ),
        ),
    ]
