from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vault.crypto import KeyRing, KeyRingError, keyring_file_locked, write_keyring_file
from vault.epoch_calendar import epoch_ids_for_months
from vault.management.commands.epoch_keys_add import DEFAULT_MONTHS_AHEAD


class Command(BaseCommand):
    help = (
        "Create a key ring file (with epoch keys for the next 24 months), or add a new "
        "primary key to one. Then run rotate_keys to re-seal server-sealed values under "
        "it. Old keys stay until nothing sealed under them is left."
    )
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", required=True, help="key ring file (created if missing)")
        parser.add_argument(
            "--key-id",
            help="id of the new key (default: today's date, then -2, -3... "
            "for further keys added the same day)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        # Read, change and write under one lock: two runs at once take turns.
        with keyring_file_locked(path):
            try:
                if path.exists():
                    ring = KeyRing.from_json(path.read_text())
                    key_id = options["key_id"] or default_key_id(ring, date.today())
                    ring = ring.with_new_primary(key_id)
                    action = "added"
                else:
                    key_id = options["key_id"] or date.today().isoformat()
                    ring = KeyRing.generate(key_id).with_epochs(
                        epoch_ids_for_months(date.today(), DEFAULT_MONTHS_AHEAD)
                    )
                    action = "created with"
            except KeyRingError as exc:
                raise CommandError(str(exc)) from None
            write_keyring_file(ring, path)
        self.stdout.write(self.style.SUCCESS(f"Key ring {path}: {action} primary key {key_id!r}."))


def default_key_id(ring: KeyRing, day: date) -> str:
    """Today's date; a second key the same day (a key added by mistake, or replaced at
    once because it leaked) gets -2, then -3, so ids stay readable and in order."""
    base = day.isoformat()
    if base not in ring.keys:
        return base
    n = 2
    while f"{base}-{n}" in ring.keys:
        n += 1
    return f"{base}-{n}"
