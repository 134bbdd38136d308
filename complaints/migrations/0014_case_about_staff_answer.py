from django.db import migrations, models
from django.db.models import Q


def answers_forward(apps, schema_editor):
    """Keep the child's answer where the old yes/no field still tells it.

    Known: about_staff was True and no roster entry was marked: only the web form's
    "yes" set it so (staff marking a subject, or substantiating, set the flag and
    about_staff_member together). Those rows become "yes".
    Not known, left blank ("not recorded"): about_staff False on a web case ("no" and
    "I am not sure" were both stored as False); any SMS case (the SMS conversation
    never asked, and filed False); about_staff True with a marked subject (staff set it,
    whatever the child said)."""
    Case = apps.get_model("complaints", "Case")
    Case.objects.filter(about_staff=True, about_staff_member__isnull=True).update(
        about_staff_answer="yes"
    )


def answers_backward(apps, schema_editor):
    Case = apps.get_model("complaints", "Case")
    Case.objects.filter(Q(about_staff_answer="yes") | Q(about_staff_member__isnull=False)).update(
        about_staff=True
    )


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0013_no_server_copy"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="about_staff_answer",
            field=models.CharField(
                blank=True,
                choices=[("yes", "Yes"), ("no", "No"), ("unsure", "Not sure")],
                max_length=8,
            ),
        ),
        migrations.RunPython(answers_forward, answers_backward),
        migrations.RemoveField(model_name="case", name="about_staff"),
        migrations.AlterField(
            model_name="caseexclusion",
            name="reason",
            field=models.CharField(
                choices=[
                    ("subject", "The complaint is about this person"),
                    ("recused", "Recused"),
                    ("policy", "Kept away by the policy (a complaint about staff)"),
                ],
                max_length=16,
            ),
        ),
    ]
