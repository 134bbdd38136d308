from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate

from config.schedule import schedule_rows_sync


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self) -> None:
        # config/ is no app: the rows of its schedule are kept from here (most of the
        # minute sweeps' work is this app's rows).
        post_migrate.connect(schedule_rows_after_migrate, sender=self)


def schedule_rows_after_migrate(apps=global_apps, using="default", **kwargs) -> None:
    """After every `migrate`, the Schedule rows match config/schedule.py."""
    try:
        schedule = apps.get_model("django_q", "Schedule")
    except LookupError:
        return  # django_q's tables are not migrated (yet)
    schedule_rows_sync(schedule.objects.db_manager(using))
