import django.db.models.deletion
from django.db import migrations, models

# Every write to a case's figures marks its unit's day of receipt (UTC) for the sweep
# (oversight/summary.py): a trigger, so that no way of writing a case is missed. An
# event from "acknowledged" can make a case assessed late. UPDATE OF the columns the
# figures read.
FIGURE_COLUMNS = (
    "unit_id, received_at, status, outcome, urgency, channel, language, acknowledged_at, "
    "acknowledge_due_at, assess_due_at, resolve_due_at, decided_at, outcome_told_at, "
    "escalation_level, next_due_at"
)
POSTGRESQL = [
    """
    CREATE FUNCTION oversight_case_changed() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (
            OLD.unit_id IS DISTINCT FROM NEW.unit_id
            OR OLD.received_at IS DISTINCT FROM NEW.received_at)) THEN
            INSERT INTO oversight_summarydirty (unit_id, day)
            VALUES (OLD.unit_id, (OLD.received_at AT TIME ZONE 'UTC')::date);
        END IF;
        IF TG_OP <> 'DELETE' THEN
            INSERT INTO oversight_summarydirty (unit_id, day)
            VALUES (NEW.unit_id, (NEW.received_at AT TIME ZONE 'UTC')::date);
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    f"""
    CREATE TRIGGER oversight_case_changed
    AFTER INSERT OR DELETE OR UPDATE OF {FIGURE_COLUMNS} ON complaints_case
    FOR EACH ROW EXECUTE FUNCTION oversight_case_changed()
    """,
    """
    CREATE FUNCTION oversight_event_added() RETURNS trigger AS $$
    BEGIN
        INSERT INTO oversight_summarydirty (unit_id, day)
        SELECT unit_id, (received_at AT TIME ZONE 'UTC')::date
        FROM complaints_case WHERE id = NEW.case_id;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER oversight_event_added AFTER INSERT ON complaints_caseevent
    FOR EACH ROW WHEN (NEW.from_status = 'acknowledged')
    EXECUTE FUNCTION oversight_event_added()
    """,
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS oversight_event_added ON complaints_caseevent",
    "DROP FUNCTION IF EXISTS oversight_event_added()",
    "DROP TRIGGER IF EXISTS oversight_case_changed ON complaints_case",
    "DROP FUNCTION IF EXISTS oversight_case_changed()",
]
SQLITE = [
    """
    CREATE TRIGGER oversight_case_inserted AFTER INSERT ON complaints_case BEGIN
        INSERT INTO oversight_summarydirty (unit_id, day)
        VALUES (NEW.unit_id, date(NEW.received_at));
    END
    """,
    f"""
    CREATE TRIGGER oversight_case_updated AFTER UPDATE OF {FIGURE_COLUMNS}
    ON complaints_case BEGIN
        INSERT INTO oversight_summarydirty (unit_id, day)
        VALUES (OLD.unit_id, date(OLD.received_at));
        INSERT INTO oversight_summarydirty (unit_id, day)
        VALUES (NEW.unit_id, date(NEW.received_at));
    END
    """,
    """
    CREATE TRIGGER oversight_case_deleted AFTER DELETE ON complaints_case BEGIN
        INSERT INTO oversight_summarydirty (unit_id, day)
        VALUES (OLD.unit_id, date(OLD.received_at));
    END
    """,
    """
    CREATE TRIGGER oversight_event_added AFTER INSERT ON complaints_caseevent
    WHEN NEW.from_status = 'acknowledged' BEGIN
        INSERT INTO oversight_summarydirty (unit_id, day)
        SELECT unit_id, date(received_at) FROM complaints_case WHERE id = NEW.case_id;
    END
    """,
]
SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "oversight_case_inserted",
        "oversight_case_updated",
        "oversight_case_deleted",
        "oversight_event_added",
    )
]


def _run(statements):
    def run(apps, schema_editor):
        for sql in statements[schema_editor.connection.vendor]:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("policies", "0010_unit_languages"),
        ("complaints", "0025_language_choices_callable"),
    ]

    operations = [
        migrations.CreateModel(
            name="SummaryDirty",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("unit_id", models.BigIntegerField()),
                ("day", models.DateField()),
            ],
        ),
        migrations.CreateModel(
            name="SummaryState",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("built_at", models.DateTimeField(null=True)),
                ("swept_at", models.DateTimeField(null=True)),
            ],
        ),
        migrations.CreateModel(
            name="CaseDayFigures",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("urgency", models.CharField(max_length=16)),
                ("channel", models.CharField(max_length=8)),
                ("language", models.CharField(max_length=8)),
                ("received", models.PositiveIntegerField(default=0)),
                ("ack_eligible", models.PositiveIntegerField(default=0)),
                ("ack_met", models.PositiveIntegerField(default=0)),
                ("res_eligible", models.PositiveIntegerField(default=0)),
                ("res_met", models.PositiveIntegerField(default=0)),
                ("decided", models.PositiveIntegerField(default=0)),
                ("told", models.PositiveIntegerField(default=0)),
                ("substantiated", models.PositiveIntegerField(default=0)),
                ("unsubstantiated", models.PositiveIntegerField(default=0)),
                ("referred", models.PositiveIntegerField(default=0)),
                ("withdrawn", models.PositiveIntegerField(default=0)),
                ("late", models.PositiveIntegerField(default=0)),
                ("escalated", models.PositiveIntegerField(default=0)),
                (
                    "unit",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="policies.unit",
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["day", "unit"], name="casedayfigures_day_idx")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("unit", "day", "urgency", "channel", "language"),
                        name="casedayfigures_key",
                    )
                ],
            },
        ),
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]
