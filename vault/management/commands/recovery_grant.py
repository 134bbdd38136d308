import base64
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from policies.models import Unit
from vault.crypto import DecryptionError
from vault.keys import recovery_grant


class Command(BaseCommand):
    help = (
        "With a unit's offline recovery key (read from standard input, never an argument), "
        "give every person the unit's cases are routed to a copy they lack."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--unit", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            unit = Unit.objects.get(code=options["unit"].upper())
            private = base64.b64decode(sys.stdin.readline().strip(), validate=True)
            granted = recovery_grant(unit=unit, recovery_private_key=private)
        except Unit.DoesNotExist:
            raise CommandError("No such unit.") from None
        except (ValueError, DecryptionError):
            raise CommandError("That is not this unit's recovery key.") from None
        self.stdout.write(self.style.SUCCESS(f"{granted} copies granted for {unit.code}."))
