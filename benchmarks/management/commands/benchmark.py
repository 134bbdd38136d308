"""Time the staff pages at volume as a browser would get them (the focal point queue,
a unit's compliance review, the oversight view across all units), one run of each
minute sweep, and the retention purge's throughput."""

import importlib
import secrets
import statistics
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, reset_queries, transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice
from twilio.request_validator import RequestValidator

from complaints.models import Case
from complaints.retention import expired_cases, purge_expired
from config.schedule import MINUTES, NAME_PREFIX, PERIODIC_JOBS
from policies.models import Membership, Unit
from vault import crypto


def signed_in_client(user) -> Client:
    """A client past both login steps (password and second factor)."""
    client = Client()
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = (
        TOTPDevice.objects.filter(user=user, confirmed=True).first().persistent_id
    )
    session.save()
    return client


def _get_ok(client: Client, path: str) -> None:
    response = client.get(path)
    if response.status_code != 200:
        raise CommandError(f"{path} answered {response.status_code}")


def _timed(work, runs: int) -> tuple[list[float], int]:
    """Milliseconds of each run, and the queries of the last (with DEBUG on)."""
    timings, queries = [], 0
    for _ in range(runs):
        reset_queries()
        start = time.perf_counter()
        work()
        timings.append((time.perf_counter() - start) * 1000)
        queries = len(connection.queries)
    return timings, queries


class _RollBack(Exception):
    pass


def _rolled_back(work):
    """What `work()` returns, with everything it wrote undone."""
    result = None
    try:
        with transaction.atomic():
            result = work()
            raise _RollBack
    except _RollBack:
        return result


class Command(BaseCommand):
    help = (
        "Print the time and query count of the staff pages, the minute sweeps and the "
        "retention purge's throughput (never in production)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--unit", help="unit code (default: the one with the most cases)")
        parser.add_argument("--runs", type=int, default=15)
        parser.add_argument(
            "--purge-seconds",
            type=float,
            default=5,
            help="How long the retention purge runs (in a transaction rolled back after).",
        )

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("Run the benchmark with RECOURSE_ENV=development.")
        unit = (
            Unit.objects.get(code=options["unit"].upper())
            if options["unit"]
            else Unit.objects.annotate(n=Count("cases")).order_by("-n").first()
        )
        focal = Membership.objects.filter(unit=unit, role="focal_point", is_active=True).first()
        manager = Membership.objects.filter(unit=unit, role="manager", is_active=True).first()
        if not focal or not manager:
            raise CommandError(f"{unit.code} needs a focal point and a manager with TOTP devices.")
        self.stdout.write(
            f"{connection.vendor}: {Case.objects.filter(unit=unit).count()} cases in "
            f"{unit.code}, {Case.objects.count()} in all; {options['runs']} runs each"
        )
        oversight = Membership.objects.filter(
            unit__sector=Unit.Sector.OVERSIGHT, role="focal_point", is_active=True
        ).first()
        self.stdout.write(f"{'page':<34} {'median ms':>10} {'p90 ms':>8} {'queries':>8}")
        pages = [
            ("focal point queue, first page", focal.user, "/staff/"),
            ("compliance review, 90 days", manager.user, "/staff/compliance/?period=90"),
            ("compliance review, 365 days", manager.user, "/staff/compliance/?period=365"),
        ]
        if oversight:
            pages.append(("oversight view, all units", oversight.user, "/staff/compliance/"))
        for label, user, path in pages:
            client = signed_in_client(user)
            with override_settings(
                DEBUG=True, ALLOWED_HOSTS=["testserver", *settings.ALLOWED_HOSTS]
            ):
                timings, queries = _timed(
                    lambda client=client, path=path: _get_ok(client, path), options["runs"] + 1
                )
            self._row(label, timings[1:], queries)  # the first run warms caches
        self._sweeps(max(options["runs"] // 3, 3))
        self._purge(options["purge_seconds"])
        self._key_derivation(options["runs"])
        self._sms_while_logins(unit, options["runs"])

    def _row(self, label: str, timings: list[float], queries) -> None:
        p90 = statistics.quantiles(timings, n=10)[-1] if len(timings) > 1 else timings[0]
        self.stdout.write(
            f"{label:<34} {statistics.median(timings):>10.1f} {p90:>8.1f} {queries:>8}"
        )

    def _sweeps(self, runs: int) -> None:
        """Each minute job once per run, at the database's current state, in a
        transaction rolled back after: the seeded volume stays as it is (no step taken,
        nothing enqueued: on_commit callbacks are dropped with the rollback)."""
        total = []
        for job in PERIODIC_JOBS:
            if job.schedule_type != MINUTES:
                continue
            module, name = job.func.rsplit(".", 1)
            task = getattr(importlib.import_module(module), name)
            with override_settings(DEBUG=True):
                timings, queries = _timed(lambda task=task: _rolled_back(task), runs)
            self._row(f"sweep {job.name.removeprefix(NAME_PREFIX)}", timings, queries)
            total.append(statistics.median(timings))
        self.stdout.write(f"{'minute sweeps, total of medians':<34} {sum(total):>10.1f}")

    def _purge(self, seconds: float) -> None:
        """The retention purge's throughput, for `seconds`, rolled back after."""
        expired = expired_cases().count()
        started = time.perf_counter()
        result = _rolled_back(lambda: purge_expired(max_seconds=seconds))
        elapsed = time.perf_counter() - started
        rate = result.cases / elapsed if elapsed else 0
        self.stdout.write(
            f"retention purge: {expired} expired, {result.cases} purged in {elapsed:.1f} s: "
            f"{rate:.0f} cases/second"
        )

    def _sms_while_logins(self, unit, runs: int) -> None:
        """SMS intake latency alone, then while two threads derive login keys."""
        _public, private = crypto.generate_keypair()
        blob = crypto.wrap_private_key(private, "benchmark password")
        client = Client()
        path = "/sms/twilio/inbound/"
        validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)

        def one_sms() -> float:
            params = {
                "MessageSid": "SM" + secrets.token_hex(16),
                "From": "+1500555" + secrets.token_hex(2),
                "Body": f"{unit.code} benchmark message",
            }
            signature = validator.compute_signature(settings.PUBLIC_BASE_URL + path, params)
            start = time.perf_counter()
            response = client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)
            elapsed = (time.perf_counter() - start) * 1000
            if response.status_code != 200:
                raise CommandError(f"SMS webhook answered {response.status_code}")
            return elapsed

        with override_settings(ALLOWED_HOSTS=["testserver", *settings.ALLOWED_HOSTS]):
            alone = [one_sms() for _ in range(runs)]
            stop = threading.Event()

            def logins():
                while not stop.is_set():
                    crypto.unwrap_private_key(blob, "benchmark password")

            threads = [threading.Thread(target=logins) for _ in range(2)]
            for thread in threads:
                thread.start()
            try:
                busy = [one_sms() for _ in range(runs)]
            finally:
                stop.set()
                for thread in threads:
                    thread.join()
        self.stdout.write(
            f"{'SMS webhook, alone':<34} {statistics.median(alone):>10.1f} {max(alone):>8.1f} {'-':>8}"
        )
        self.stdout.write(
            f"{'SMS webhook, 2 logins running':<34} {statistics.median(busy):>10.1f} {max(busy):>8.1f} {'-':>8}"
        )

    def _key_derivation(self, runs: int) -> None:
        """The deliberate costs: per staff login and per complaint filed."""
        _public, private = crypto.generate_keypair()
        blob = crypto.wrap_private_key(private, "benchmark password")
        for label, work in (
            (
                "staff login: private key unwrap",
                lambda: crypto.unwrap_private_key(blob, "benchmark password"),
            ),
            ("complaint: follow-up code hash", lambda: crypto.followup_secret_new("123456789012")),
        ):
            timings = []
            for _ in range(max(runs // 3, 3)):
                start = time.perf_counter()
                work()
                timings.append((time.perf_counter() - start) * 1000)
            self.stdout.write(
                f"{label:<34} {statistics.median(timings):>10.1f} {max(timings):>8.1f} {'-':>8}"
            )
