from django.core.management.base import BaseCommand

from policies.demo import seed_demo
from policies.models import Unit


class Command(BaseCommand):
    help = "Create demo units, policies and staff when the database has no unit yet."

    def handle(self, *args, **options):
        if Unit.objects.exists():
            self.stdout.write("Units exist already: demo data not added.")
            return
        users = seed_demo()
        self.stdout.write(self.style.SUCCESS(f"Demo data created: {len(users)} staff accounts."))
