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
from vault.epochs import epochs_destroyable, epochs_destroyed_record


class Command(BaseCommand):
    help = (
        "Destroy the epoch keys no kept case needs any more (every case ever sealed under "
        "them was purged, and their month ended over a week ago). What they sealed then "
        "opens nowhere, old database backups included. Run after purge_expired; then "
        "replace the key ring on every node, and let key ring backups older than this "
        "run expire (README, 'Key ring')."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", required=True, help="the key ring file")
        parser.add_argument(
            "--dry-run", action="store_true", help="list what would be destroyed; change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        with keyring_file_locked(path):
            try:
                ring = keyring_file_read(path)
            except KeyRingError as exc:
                raise CommandError(str(exc)) from None
            doomed = epochs_destroyable(sorted(ring.epochs), today=date.today())
            if doomed and not options["dry_run"]:
                write_keyring_file(ring.without_epochs(doomed), path)
                epochs_destroyed_record(doomed)
        verb = "Would destroy" if options["dry_run"] else "Destroyed"
        listed = ", ".join(doomed) if doomed else "none"
        self.stdout.write(self.style.SUCCESS(f"{verb} {len(doomed)} epoch keys: {listed}."))
