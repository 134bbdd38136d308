from django.conf import settings
from django.core.management.base import BaseCommand

from complaints.audit import audit_anchor


class Command(BaseCommand):
    help = (
        "Record the audit log's head (last id and hash) in the log and in "
        "AUDIT_ANCHOR_FILE, so `verify_audit` can tell if the newest events are removed. "
        "Runs daily by itself; run it on demand too, e.g. before a backup."
    )

    def handle(self, *args, **options):
        head = audit_anchor()
        where = settings.AUDIT_ANCHOR_FILE or "the log only (AUDIT_ANCHOR_FILE is not set)"
        self.stdout.write(
            self.style.SUCCESS(f"Anchored audit head id={head.id} hash={head.hash} in {where}.")
        )
