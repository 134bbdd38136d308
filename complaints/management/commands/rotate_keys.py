from django.core.management.base import BaseCommand

from complaints.keys import data_keys_rewrap


class Command(BaseCommand):
    help = (
        "Re-wrap every case's data key under the key ring's primary key. Resumable: each "
        "batch commits, and a second run continues where the first stopped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, **options):
        result = data_keys_rewrap(batch_size=options["batch_size"])
        self.stdout.write(self.style.SUCCESS(
            f"Re-wrapped {result.rewrapped} data keys under {result.primary_id!r}; "
            f"{result.remaining} still under older keys."
        ))
