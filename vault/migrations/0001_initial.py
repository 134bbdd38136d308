import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


KEY_MODELS = ["casekey", "staffkey", "readerapproval"]


def content_types_follow(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Permissions and admin log entries point at content types: the existing ones move
    with the models instead of being left behind under complaints."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="vault", model__in=KEY_MODELS).exists():
        ContentType.objects.filter(app_label="complaints", model__in=KEY_MODELS).update(
            app_label="vault"
        )


def content_types_back(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="complaints", model__in=KEY_MODELS).exists():
        ContentType.objects.filter(app_label="vault", model__in=KEY_MODELS).update(
            app_label="complaints"
        )


class Migration(migrations.Migration):
    """The key models, moved from complaints with their tables (complaints 0020): Django
    records them here, the database is not changed."""

    initial = True

    dependencies = [
        ("complaints", "0020_key_models_to_vault"),
        ("policies", "0006_policy_about_staff_rules"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="StaffKey",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("public_key", models.BinaryField()),
                        ("wrapped_private_key", models.BinaryField()),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "user",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="staff_key",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "complaints_staffkey",
                    },
                ),
                migrations.CreateModel(
                    name="CaseKey",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "holder_kind",
                            models.CharField(
                                choices=[
                                    ("user", "A staff member's public key"),
                                    ("recovery", "The unit's offline recovery key"),
                                    ("reporter", "The child's follow-up code"),
                                ],
                                max_length=16,
                            ),
                        ),
                        ("holder_id", models.CharField(max_length=64)),
                        ("wrapped_key", models.BinaryField()),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "case",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="keys",
                                to="complaints.case",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "complaints_casekey",
                        "indexes": [
                            models.Index(
                                fields=["holder_kind", "holder_id"],
                                name="complaints__holder__ffdf9a_idx",
                            )
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("case", "holder_kind", "holder_id"),
                                name="casekey_one_per_holder",
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="ReaderApproval",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("approved_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "approved_by",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "unit",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="reader_approvals",
                                to="policies.unit",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="reader_approvals",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "complaints_readerapproval",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("unit", "user"), name="reader_approval_unique"
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("user", models.F("approved_by")), _negated=True
                                ),
                                name="reader_approval_not_self",
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_follow, content_types_back),
    ]
