from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from policies.models import Unit
from vault.keys import recovery_key_create


class Command(BaseCommand):
    help = (
        "Create a unit's offline recovery key. The private key is printed once: print it "
        "and keep it in a safe. The server keeps only the public key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--unit", required=True)
        parser.add_argument(
            "--replace",
            action="store_true",
            help="replace an existing recovery key (new cases only)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            unit = Unit.objects.get(code=options["unit"].upper())
        except Unit.DoesNotExist:
            raise CommandError(f"No unit with code {options['unit']!r}.") from None
        if unit.recovery_public_key and not options["replace"]:
            raise CommandError(f"{unit.code} has a recovery key already (use --replace).")
        private = recovery_key_create(unit=unit)
        self.stdout.write(
            f"Recovery key of {unit.code}. Print it, keep it in a safe; it is not stored:"
        )
        self.stdout.write(private)
