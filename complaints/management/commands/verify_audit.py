from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from complaints.audit import audit_check


class Command(BaseCommand):
    help = (
        "Check the audit log's hash chain, and that it still holds every anchored head "
        "(AUDIT_ANCHOR_FILE); exits non-zero if a row was changed or removed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--anchor-file",
            help="anchor file to check against, e.g. the copy shipped off this host "
            "[AUDIT_ANCHOR_FILE]",
        )

    def handle(self, *args, **options):
        report = audit_check(anchor_file=options["anchor_file"] or settings.AUDIT_ANCHOR_FILE)
        for warning in report.warnings:
            self.stderr.write(self.style.WARNING(warning))
        for problem in report.problems:
            self.stderr.write(problem)
        if report.problems:
            raise CommandError(
                f"Audit chain broken: {len(report.problems)} problem(s) in {report.count} events."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.count} events."))
