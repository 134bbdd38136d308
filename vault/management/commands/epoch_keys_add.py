from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vault.crypto import (
    KeyRingError,
    keyring_file_locked,
    keyring_file_read,
    write_keyring_file,
)
from vault.epoch_calendar import epoch_ids_for_months

DEFAULT_MONTHS_AHEAD = 24


class Command(BaseCommand):
    help = (
        "Add epoch keys (vault/epochs.py) to a key ring file for this month and the months "
        "ahead, open and closed. Keys already there are kept. The running service never "
        "writes the key ring: add keys well before they are needed, and copy the file to "
        "every node."
    )
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", required=True, help="the key ring file")
        parser.add_argument(
            "--months",
            type=int,
            default=DEFAULT_MONTHS_AHEAD,
            help=f"months from this one on (default {DEFAULT_MONTHS_AHEAD})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if options["months"] < 1:
            raise CommandError("--months must be at least 1.")
        wanted = epoch_ids_for_months(date.today(), options["months"])
        with keyring_file_locked(path):
            try:
                ring = keyring_file_read(path)
            except KeyRingError as exc:
                raise CommandError(str(exc)) from None
            added = [e for e in wanted if e not in ring.epochs]
            if added:
                write_keyring_file(ring.with_epochs(added), path)
        self.stdout.write(
            self.style.SUCCESS(
                f"Key ring {path}: {len(added)} epoch keys added; it holds keys up to "
                f"{wanted[-1].split('-', 1)[1]}."
            )
        )
