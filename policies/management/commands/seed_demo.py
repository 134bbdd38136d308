from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from policies.demo import seed_demo
from policies.models import Unit


class Command(BaseCommand):
    help = "Create demo units, policies and staff when the database has no unit yet."

    def handle(self, *args, **options):
        # The demo accounts (`admin` among them) have passwords printed in the README.
        if settings.RECOURSE_ENV != "development":
            raise CommandError(
                "seed_demo creates accounts with the public demo passwords: it runs only "
                "with RECOURSE_ENV=development (as `make run` sets), never on a real service."
            )
        if Unit.objects.exists():
            self.stdout.write("Units exist already: demo data not added.")
            return
        users, recovery = seed_demo()
        self.stdout.write(self.style.SUCCESS(f"Demo data created: {len(users)} staff accounts."))
        self.stdout.write(
            "Units' offline recovery keys, shown this once (a real unit prints and "
            "locks them away):"
        )
        for code, private in recovery.items():
            self.stdout.write(f"  {code}: {private}")
