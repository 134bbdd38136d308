from django.core.management.base import BaseCommand, CommandError

from complaints.audit import audit_verify


class Command(BaseCommand):
    help = "Check the audit log's hash chain; exits non-zero if a row was changed or removed."

    def handle(self, *args, **options):
        count, problems = audit_verify()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"Audit chain broken: {len(problems)} problem(s) in {count} events.")
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {count} events."))
