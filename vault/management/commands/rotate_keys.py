from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from vault.keys import keys_rotate


class Command(BaseCommand):
    help = (
        "Re-seal every value sealed under the server key ring (SMS phone numbers, drafts, "
        "waiting texts, codes) under its primary key. Resumable: each batch commits, and a "
        "second run continues where the first stopped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        result = keys_rotate(batch_size=options["batch_size"])
        self.stdout.write(
            self.style.SUCCESS(f"Re-sealed {result.resealed} values under {result.primary_id!r}.")
        )
