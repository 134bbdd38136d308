from django.core.management.base import BaseCommand

from complaints.keys import server_copies_migrate


class Command(BaseCommand):
    help = (
        "Move existing cases to per-person keys: wrap each data key to the people the case "
        "is routed to and to the unit's recovery key, then delete the server's copy. Run it "
        "once staff have signed in (their key pairs are made from their passwords), then set "
        "RECOURSE_CASE_SERVER_COPY=false. Resumable."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=200)

    def handle(self, *args, **options):
        result = server_copies_migrate(batch_size=options["batch_size"])
        self.stdout.write(self.style.SUCCESS(
            f"{result.migrated} cases now readable only by their people; {result.kept} kept "
            "their server copy (nobody they are routed to has a key pair yet)."))
