import re

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.conf import settings
from django.core import checks
from django.db.models.signals import post_migrate

from config.logs import task_logged
from config.schedule import schedule_rows_sync


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self) -> None:
        # config/ is no app: the rows of its schedule are kept from here (most of the
        # minute sweeps' work is this app's rows), and its task log is connected here.
        post_migrate.connect(schedule_rows_after_migrate, sender=self)
        checks.register(check_whatsapp_sender)
        # Not at the top: django_q.signals loads django_q's models, which cannot be
        # imported before the app registry is ready (a cycle with app loading).
        from django_q.signals import post_execute

        post_execute.connect(task_logged, dispatch_uid="recourse-task-log")


def schedule_rows_after_migrate(apps=global_apps, using="default", **kwargs) -> None:
    """After every `migrate`, the Schedule rows match config/schedule.py."""
    try:
        schedule = apps.get_model("django_q", "Schedule")
    except LookupError:
        return  # django_q's tables are not migrated (yet)
    schedule_rows_sync(schedule.objects.db_manager(using))


def check_whatsapp_sender(app_configs=None, **kwargs):
    """Twilio takes a WhatsApp sender as "whatsapp:+<number>"; a bare number would send
    WhatsApp children's texts as SMS from a number they never wrote to."""
    sender = settings.TWILIO_WHATSAPP_FROM
    if sender and not re.fullmatch(r"whatsapp:\+[1-9][0-9]{6,14}", sender):
        return [
            checks.Warning(
                "TWILIO_WHATSAPP_FROM is not a WhatsApp address.",
                hint='Write it as Twilio does: "whatsapp:+14155238886".',
                id="recourse.W020",
            )
        ]
    return []
