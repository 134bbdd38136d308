from django.core.management.base import BaseCommand

from complaints.retention import DEFAULT_BATCH_SIZE, purge_expired
from vault.epochs import epochs_destroyable_now


class Command(BaseCommand):
    help = (
        "Remove the content of closed cases past their policy version's retention period "
        "(cases on legal hold are kept), and SMS reporter records past theirs. Runs daily "
        "by itself. --dry-run prints the counts and changes nothing. Prints counts only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count only; change nothing.")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)

    def handle(self, *args, dry_run=False, batch_size=DEFAULT_BATCH_SIZE, **options):
        result = purge_expired(dry_run=dry_run, batch_size=batch_size)
        if dry_run:
            self.stdout.write(
                f"Dry run: {result.cases} expired case(s) would be purged "
                f"({result.messages} message(s)), {result.held} kept by a legal hold, "
                f"{result.sms_reporters} SMS reporter record(s) would be removed. "
                "Nothing was changed."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Purged {result.cases} case(s) in {result.batches} batch(es): "
                f"{result.key_copies} key copies and {result.messages} message(s) deleted; "
                f"{result.held} kept by a legal hold; "
                f"{result.sms_reporters} SMS reporter record(s) removed."
            )
        )
        destroyable = epochs_destroyable_now()
        if destroyable:
            self.stdout.write(
                f"{len(destroyable)} epoch key(s) no kept case needs: run "
                "`manage.py epoch_keys_destroy --file PATH` so what expired opens in no backup."
            )
