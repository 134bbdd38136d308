"""Time the retention purge (issue 17): seed with `seed_volume --expired` first."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from complaints.retention import DEFAULT_BATCH_SIZE, expired_cases, purge_expired


class Command(BaseCommand):
    help = "Purge every expired case and print cases per second (never in production)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)

    def handle(self, *args, batch_size=DEFAULT_BATCH_SIZE, **options):
        if settings.PRODUCTION:
            raise CommandError("benchmark_purge is for benchmarks, not production.")
        expired = expired_cases().count()
        started = time.perf_counter()
        result = purge_expired(batch_size=batch_size)
        seconds = time.perf_counter() - started
        rate = result.cases / seconds if seconds else 0
        self.stdout.write(
            f"{connection.vendor}: {expired} expired, purged {result.cases} cases in "
            f"{result.batches} batches of up to {batch_size} in {seconds:.1f} s: "
            f"{rate:.0f} cases/second ({result.key_copies} key copies deleted)."
        )
