from django.core.management.base import BaseCommand

from competencies.frameworks import frameworks_load
from competencies.models import Competency, CompetencyFramework


class Command(BaseCommand):
    help = "Load the four sector competency frameworks; adds what is missing, keeps local edits."

    def handle(self, *args, **options):
        created = frameworks_load(CompetencyFramework, Competency)
        self.stdout.write(
            self.style.SUCCESS(
                f"{created} competencies added; {Competency.objects.count()} in all."
            )
        )
