from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from complaints.crypto import KeyRing, KeyRingError, write_keyring_file


class Command(BaseCommand):
    help = (
        "Create a key ring file, or add a new primary key to one. Then run rotate_keys "
        "to re-wrap existing data keys under it. Old keys stay until no case uses them."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--file", required=True, help="key ring file (created if missing)")
        parser.add_argument("--key-id", help="id of the new key (default: today's date)")

    def handle(self, *args, **options):
        path = Path(options["file"])
        key_id = options["key_id"] or date.today().isoformat()
        try:
            if path.exists():
                ring = KeyRing.from_json(path.read_text()).with_new_primary(key_id)
                action = "added"
            else:
                ring = KeyRing.generate(key_id)
                action = "created with"
        except KeyRingError as exc:
            raise CommandError(str(exc)) from None
        write_keyring_file(ring, path)
        self.stdout.write(self.style.SUCCESS(f"Key ring {path}: {action} primary key {key_id!r}."))
