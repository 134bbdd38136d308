"""Backup and restore drill (issue 18 §3): restore a PostgreSQL backup and the key ring
from its own backup, start the service on them, and prove the restore works.

    .venv/bin/python deploy/backup_drill.py --database-url postgresql://.../recourse \\
        --keyring /path/to/keyring-backup.json --staff focal.dkr1
    .venv/bin/python deploy/backup_drill.py --dump recourse.dump --keyring RING \\
        --admin-url postgresql://postgres@127.0.0.1:5432/postgres --staff-file FILE
    .venv/bin/python deploy/backup_drill.py --demo      # make drill: a demo source first

Steps, each timed: `pg_dump --format=custom` of the source (or the dump given), a fresh
database, `pg_restore --no-owner --no-acl` into it; the key ring checked against the
restored database (it loads, opens the epoch layer of the copies and the server-sealed
values); `manage.py migrate` (a backup older than the code) and `manage.py
verify_audit`; gunicorn and `manage.py qcluster` under production settings on loopback
(a pretend TLS proxy); `/healthz` all ok; each focal point given signs in with their
password and TOTP code and opens their cases (every one, or the newest
--cases-per-person), each reading audited; every notice, text and email that was due
and pending in the backup is sent once by the restored worker, and nothing sent before
the backup is sent again. Nothing leaves the host: email and SMS go to the ledger
backends (notifications/backends/ledger.py), which record one line per send naming the
row sent, and each row newly sent must have exactly one line. The drill
database is dropped at the end (--keep keeps it).

The report holds counts, ids of steps and timings: never a reference, a name, a number
or a code. Exit status 0 when every check passed, 1 otherwise.

The restored worker runs the minute sweep like any worker (escalations, retention),
against the drill database only. Export the production DJANGO_SECRET_KEY for the queued
tasks of the backup to run as they are (django-q2 signs them); without it, a random key
is used and the sweep finds their rows again within a minute.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import getpass
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from base64 import b32decode
from collections import Counter
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PROBE = ROOT / "deploy" / "drill_probe.py"
LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
PENDING, SENT = "pending", "sent"


# --- The report -----------------------------------------------------------------------


@dataclass
class Report:
    timings: dict[str, float] = field(default_factory=dict)
    facts: dict[str, object] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @contextlib.contextmanager
    def timed(self, step: str):
        print(f"- {step}...", flush=True)
        started = time.monotonic()
        try:
            yield
        finally:
            self.timings[step] = round(time.monotonic() - started, 2)

    def check(self, ok: bool, failure: str) -> bool:
        if not ok:
            self.failures.append(failure)
            print(f"  FAILED: {failure}", flush=True)
        return ok

    def as_dict(self) -> dict:
        return {
            "ok": not self.failures,
            "failures": self.failures,
            "timings_s": self.timings,
            "facts": self.facts,
        }

    def print(self) -> None:
        print("\nBackup and restore drill")
        for step, seconds in self.timings.items():
            print(f"  {step:<38} {seconds:8.2f} s")
        for name, value in self.facts.items():
            print(f"  {name:<38} {value}")
        if self.failures:
            print(f"FAILED ({len(self.failures)}):")
            for failure in self.failures:
                print(f"  - {failure}")
        else:
            print("PASSED: every check")


class DrillFailed(Exception):
    """A step the later ones depend on failed: the drill stops there."""


# --- Processes ------------------------------------------------------------------------

LOG = None  # the work log: commands' output, kept only when the drill fails or --keep
CREATED: list[tuple[str, str]] = []  # (admin URL, database) the drill made, to drop


def run(
    command: list[str], *, env: dict | None = None, timeout: float = 3600, answer: bool = False
) -> str:
    """Run a command; DrillFailed (with its exit status only) if it fails. Its output
    goes to the work log, not to the report; a probe's answer (`answer`: usernames and
    references in it) goes nowhere but to the drill."""
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if LOG is not None:
        out = "" if answer else result.stdout
        LOG.write(f"$ {' '.join(map(str, command[:3]))} ...\n{out}{result.stderr}\n")
        LOG.flush()
    if result.returncode:
        raise DrillFailed(f"{Path(command[0]).name} {command[1]} exited {result.returncode}")
    return result.stdout


def probe(env: dict, name: str, *args) -> dict:
    out = run([PYTHON, str(PROBE), name, *map(str, args)], env=env, answer=True)
    return json.loads(out.rsplit("\nJSON ", 1)[1])


def database_url(base: str, name: str) -> str:
    parts = urllib.parse.urlsplit(base)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def admin_sql(admin_url: str, *statements: str) -> None:
    # psql, not psycopg: the drill itself needs nothing but the project's venv and the
    # PostgreSQL client tools it already uses for pg_dump and pg_restore.
    for statement in statements:
        run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", admin_url, "-c", statement])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Service:
    name: str
    process: subprocess.Popen

    def stop(self) -> None:
        # SIGTERM to the main process only: gunicorn's master and django-q2's cluster stop
        # their own children (django-q2 1.11 can hang when its whole group gets SIGTERM).
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def start(name: str, command: list[str], env: dict, log: Path) -> Service:
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Service(name, process)


# --- Staff sign-in over HTTP ----------------------------------------------------------


def totp_now(secret_base32: str, *, step: int = 30, digits: int = 6) -> str:
    """RFC 6238, as the demo devices and authenticator apps compute it."""
    key = b32decode(secret_base32.upper() + "=" * (-len(secret_base32) % 8))
    counter = struct.pack(">Q", int(time.time()) // step)
    digest = hmac.new(key, counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 10**digits:0{digits}d}"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Cookies and CSRF tokens over plain HTTP to loopback, as if behind the TLS proxy."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def fetch(self, path: str, form: dict | None = None) -> tuple[int, str, dict]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data)
        request.add_header("X-Forwarded-Proto", "https")
        request.add_header("Referer", f"https://127.0.0.1:{self.port}{path}")
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        try:
            response = urllib.request.build_opener(NoRedirect).open(request, timeout=60)
        except urllib.error.HTTPError as error:
            response = error
        for header in response.headers.get_all("Set-Cookie") or []:
            self.cookies.update({k: m.value for k, m in SimpleCookie(header).items()})
        return response.status, response.read().decode(), dict(response.headers)

    def csrf(self, path: str) -> str:
        status, page, _ = self.fetch(path)
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or not match:
            raise DrillFailed(f"no form at {path} (HTTP {status})")
        return match.group(1)


def sign_in(port: int, person: dict) -> Browser | None:
    """Password, then the TOTP code; None unless the person lands signed in."""
    browser = Browser(port)
    token = browser.csrf("/staff/login/")
    status, _, headers = browser.fetch(
        "/staff/login/",
        {
            "csrfmiddlewaretoken": token,
            "username": person["username"],
            "password": person["password"],
        },
    )
    if status != 302:
        return None
    token = browser.csrf("/staff/verify/")
    code = person.get("code") or totp_now(person["totp_secret"])
    status, _, headers = browser.fetch(
        "/staff/verify/", {"csrfmiddlewaretoken": token, "token": code}
    )
    if status != 302:
        return None
    status, _, _ = browser.fetch("/staff/")
    return browser if status == 200 else None


def case_opens(browser: Browser, reference: str) -> bool:
    """The case page shows the narrative, decrypted with the person's own key (not the
    "waiting for access" page, not an error)."""
    status, page, _ = browser.fetch(f"/staff/cases/{urllib.parse.quote(reference)}/")
    return status == 200 and 'id="narrative"' in page


# --- Deliveries -----------------------------------------------------------------------


def deliveries_compare(before: dict, after: dict, sends: list[str]) -> dict:
    """What the restored worker did with the outbound rows of the backup, row by row:
    - `due`: pending and due at restore; `resumed`: of those, sent (or settled as not to
      be sent: a stopped number, no address) by exactly one more attempt;
    - `resent`: rows sent before the backup whose state changed;
    - `sends`: the rows the ledger backends recorded a send of (one entry per send, as
      "notifications.outboundsms:<id>"): each row newly sent must appear exactly once,
      and no other row at all."""
    facts = {
        "due": 0,
        "resumed": 0,
        "still_pending": 0,
        "not_yet_due": 0,
        "sent_before": 0,
        "resent": 0,
    }
    newly_sent: set[str] = set()
    earlier = {row["id"]: row for rows in before["rows"].values() for row in rows}
    for rows in after["rows"].values():
        for row in rows:
            old = earlier.get(row["id"])
            if old is not None and old["status"] == SENT:
                facts["sent_before"] += 1
                if (row["status"], row["attempts"], row["sent_at"]) != (
                    old["status"],
                    old["attempts"],
                    old["sent_at"],
                ):
                    facts["resent"] += 1
                continue
            if old is not None and old["status"] == PENDING and not old["due"]:
                facts["not_yet_due"] += 1  # backing off after a failure: not this drill's
            if old is not None and old["status"] == PENDING and old["due"]:
                facts["due"] += 1
                if row["status"] == PENDING:
                    facts["still_pending"] += 1
                elif row["attempts"] in (old["attempts"], old["attempts"] + 1):
                    facts["resumed"] += 1
            if row["status"] == SENT and (old is None or old["status"] != SENT):
                newly_sent.add(row["id"])
    counted = Counter(sends)
    facts["sends_recorded"] = len(sends)
    facts["rows_newly_sent"] = len(newly_sent)
    facts["sent_twice"] = sum(1 for row in newly_sent if counted[row] > 1)
    facts["sent_without_send"] = sum(1 for row in newly_sent if counted[row] == 0)
    facts["sends_of_other_rows"] = sum(n for row, n in counted.items() if row not in newly_sent)
    return facts


def deliveries_ok(report: Report, facts: dict) -> None:
    report.check(facts["still_pending"] == 0, f"{facts['still_pending']} due row(s) still pending")
    report.check(
        facts["resumed"] == facts["due"],
        f"{facts['due'] - facts['resumed']} due row(s) not settled by one attempt",
    )
    report.check(facts["resent"] == 0, f"{facts['resent']} row(s) sent before the backup changed")
    report.check(facts["sent_twice"] == 0, f"{facts['sent_twice']} row(s) sent more than once")
    report.check(
        facts["sent_without_send"] == 0,
        f"{facts['sent_without_send']} row(s) marked sent with no send recorded",
    )
    report.check(
        facts["sends_of_other_rows"] == 0,
        f"{facts['sends_of_other_rows']} send(s) of rows not newly sent",
    )


# --- The drill ------------------------------------------------------------------------


def service_env(args, work: Path, restored_url: str, port: int) -> dict:
    """Production settings on loopback behind a pretend TLS proxy; email and SMS to the
    ledger backends, the anchor file and the key ring in the work directory."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "RECOURSE_", "TWILIO_", "EMAIL_", "SMS_", "DATABASE_"))
    }
    env.update(
        {
            "RECOURSE_ENV": "production",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "PUBLIC_BASE_URL": f"https://127.0.0.1:{port}",
            "SECURE_SSL_REDIRECT": "false",
            "RECOURSE_KEYRING_FILE": str(work / "keyring.json"),
            "DATABASE_URL": restored_url,
            "AUDIT_ANCHOR_FILE": str(work / "audit-anchors.log"),
            "SMS_BACKEND": "notifications.backends.ledger.LedgerSmsBackend",
            "EMAIL_BACKEND": "notifications.backends.ledger.LedgerEmailBackend",
            "DELIVERY_LEDGER_FILE": str(work / "deliveries.ledger"),
            "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
            "SMS_PUBLIC_NUMBER": "+15005550006",
            "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
        }
    )
    return env


def staff_list(args) -> list[dict]:
    staff = []
    if args.staff_file:
        staff += json.loads(Path(args.staff_file).read_text())
    for username in args.staff or []:
        password = getpass.getpass(f"Password of {username}: ")
        code = input(f"Current authenticator code of {username}: ").strip()
        staff.append({"username": username, "password": password, "code": code})
    return staff


def wait_until(predicate, seconds: float, every: float = 1.0) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(every)


def healthz(port: int) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return 0, ""


def tools_present() -> None:
    missing = [tool for tool in ("pg_dump", "pg_restore", "psql") if not shutil.which(tool)]
    if missing:
        raise DrillFailed(
            f"{', '.join(missing)} missing: install the PostgreSQL client tools of the "
            "server's version (Debian: postgresql-client)"
        )


def drill(args, report: Report, work: Path) -> None:
    tools_present()
    for option, path in (("--keyring", args.keyring), ("--dump", args.dump)):
        if path and not Path(path).is_file():
            raise DrillFailed(f"the file given as {option} is not there")
    admin_url = args.admin_url
    source = args.database_url
    if not admin_url:
        admin_url = database_url(source, "postgres") if source else LOCAL_POSTGRES
    restored_name = args.restore_name or "drill_restore_" + dt.datetime.now(dt.UTC).strftime(
        "%Y%m%d%H%M%S"
    )
    restored_url = database_url(admin_url, restored_name)
    port = args.port or free_port()
    env = service_env(args, work, restored_url, port)

    dump = Path(args.dump) if args.dump else work / "recourse.dump"
    if not args.dump:
        with report.timed("dump (pg_dump)"):
            run(["pg_dump", "--format=custom", "--file", str(dump), "--dbname", source])
    report.facts["dump size (MiB)"] = round(dump.stat().st_size / 2**20, 1)

    # The ring backup is copied in place as the service user would have it (0600).
    ring = work / "keyring.json"
    shutil.copyfile(args.keyring, ring)
    ring.chmod(0o600)

    with report.timed("restore (pg_restore)"):
        admin_sql(admin_url, f'CREATE DATABASE "{restored_name}"')
        CREATED.append((admin_url, restored_name))
        run(
            [
                "pg_restore",
                "--no-owner",
                "--no-acl",
                "--exit-on-error",
                f"--jobs={args.jobs}",
                "--dbname",
                restored_url,
                str(dump),
            ]
        )

    with report.timed("key ring check"):
        fit = probe(env, "ring")
    report.facts["epochs the ring cannot open"] = len(fit["epochs_unopenable"])
    report.facts["server-sealed fields it cannot open"] = len(fit["fields_unopenable"])
    ring_fits = all(
        [
            report.check(
                fit["loads_with_this_month"],
                "the key ring does not load with this month's epoch keys",
            ),
            report.check(
                not fit["epochs_unopenable"],
                "the key ring cannot open the copies of epochs "
                + ", ".join(fit["epochs_unopenable"]),
            ),
            report.check(
                not fit["fields_unopenable"],
                "the key ring cannot open server-sealed " + ", ".join(fit["fields_unopenable"]),
            ),
            report.check(fit["index_fits"], "the key ring's index key does not match the database"),
        ]
    )
    if not ring_fits:
        raise DrillFailed("the key ring does not fit this backup: nothing more to prove")

    with report.timed("migrate"):
        out = run([PYTHON, "manage.py", "migrate", "--noinput"], env=env)
    report.facts["migrations applied"] = out.count("Applying ")

    with report.timed("verify_audit"):
        try:
            out = run(
                [PYTHON, "manage.py", "verify_audit"]
                + (["--anchor-file", args.anchor_file] if args.anchor_file else []),
                env=env,
            )
            match = re.search(r"intact: (\d+) events", out)
            report.facts["audit events verified"] = int(match.group(1)) if match else 0
        except DrillFailed:
            report.check(False, "verify_audit: the audit chain is broken")

    staff = staff_list(args)
    usernames = [person["username"] for person in staff]
    before = probe(env, "deliveries")
    held = probe(env, "staff_cases", *usernames) if usernames else {"staff": {}, "audit_head": 0}

    with report.timed("collectstatic"):
        run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], env=env)

    services: list[Service] = []
    try:
        with report.timed("service start (to /healthz ok)"):
            services.append(
                start(
                    "web",
                    [
                        PYTHON,
                        "-m",
                        "gunicorn",
                        "config.wsgi:application",
                        "--bind",
                        f"127.0.0.1:{port}",
                        "--workers",
                        "2",
                        "--error-logfile",
                        "-",
                    ],
                    env,
                    work / "web.log",
                )
            )
            services.append(
                start("worker", [PYTHON, "manage.py", "qcluster"], env, work / "worker.log")
            )
            healthy = wait_until(lambda: healthz(port)[0] == 200, args.start_timeout)
        status, body = healthz(port)
        report.facts["/healthz"] = " ".join(body.split()) or f"no answer (HTTP {status})"
        report.check(healthy, "/healthz did not answer ok")

        opened_total = expected_total = signed_in = 0
        with report.timed("staff sign-in and cases opened"):
            for person in staff:
                name = person["username"]
                facts = held["staff"].get(name, {"known": False, "cases": []})
                cases = facts["cases"][: args.cases_per_person or None]
                expected_total += len(cases)
                browser = sign_in(port, person) if facts["known"] else None
                if not report.check(
                    browser is not None, f"staff #{usernames.index(name) + 1} could not sign in"
                ):
                    continue
                signed_in += 1
                opened = sum(case_opens(browser, reference) for reference in cases)
                opened_total += opened
                report.check(
                    opened == len(cases),
                    f"staff #{usernames.index(name) + 1} opened {opened} of {len(cases)} cases",
                )
            reads = probe(env, "reads_since", held["audit_head"], *usernames) if usernames else {}
        report.facts["staff signed in"] = f"{signed_in} of {len(staff)}"
        report.facts["cases opened by passwords"] = f"{opened_total} of {expected_total}"
        report.facts["readings audited"] = sum(reads.values())
        report.check(sum(reads.values()) == opened_total, "not every reading was audited")
        report.check(
            expected_total > 0, "no case to open: give focal points who hold cases (--staff)"
        )

        with report.timed("pending deliveries resumed"):
            latest = {}

            def settled() -> bool:
                latest.update(probe(env, "deliveries"))
                facts = deliveries_compare(before, latest, [])
                swept = latest["requeue_next_run"] != before["requeue_next_run"]
                return (
                    facts["still_pending"] == 0
                    and latest["queued_tasks"] == 0
                    and (swept or not args.sweep)
                )

            wait_until(settled, args.delivery_timeout, every=2)
            time.sleep(args.settle)  # a second send of anything would land now
        report.facts["requeue sweep ran"] = latest["requeue_next_run"] != before["requeue_next_run"]
        if args.sweep:
            report.check(report.facts["requeue sweep ran"], "the minute sweep did not run")
    finally:
        for service in reversed(services):
            service.stop()
    # Counted once the service has stopped: a send between reading the rows and reading
    # the file would look like a send too many.
    after = probe(env, "deliveries")
    facts = deliveries_compare(before, after, ledger_sends(work / "deliveries.ledger"))
    for name in ("due", "resumed", "not_yet_due", "sent_before", "resent"):
        report.facts[f"deliveries {name.replace('_', ' ')}"] = facts[name]
    report.facts["sends recorded"] = facts["sends_recorded"]
    deliveries_ok(report, facts)


def ledger_sends(path: Path) -> list[str]:
    """The row of each send the ledger backends recorded (a line is "time process-group
    channel row"; notifications/backends/ledger.py)."""
    if not path.exists():
        return []
    return [line.split()[3] for line in path.read_text().splitlines() if line.strip()]


def demo_source(args, work: Path) -> None:
    """`make drill` without a backup: a demonstration source database (demo units,
    staff, complaints, half of their notices and texts sent) and its key ring, built
    under development settings with the same ledger backends."""
    name = args.demo_database
    # One secret for the demo source and the restored service: its queued tasks run.
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    admin_url = args.admin_url or LOCAL_POSTGRES
    url = database_url(admin_url, name)
    admin_sql(
        admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
    )
    ring = work / "source-keyring.json"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "RECOURSE_"))},
        "RECOURSE_ENV": "development",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": url,
        "RECOURSE_KEYRING_FILE": str(ring),
        "AUDIT_ANCHOR_FILE": str(work / "source-anchors.log"),
        "SMS_BACKEND": "notifications.backends.ledger.LedgerSmsBackend",
        "EMAIL_BACKEND": "notifications.backends.ledger.LedgerEmailBackend",
        "DELIVERY_LEDGER_FILE": str(work / "source-deliveries.ledger"),
        "DJANGO_SECRET_KEY": os.environ["DJANGO_SECRET_KEY"],
    }
    run([PYTHON, "manage.py", "keyring_add", "--file", str(ring)], env=env)
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], env=env)
    filled = probe(env, "demo_fill", work / "demo-staff.json")
    print(
        f"Demo source {name}: {filled['cases']} cases, pending {filled['pending']}, "
        f"sent {filled['sent']}",
        flush=True,
    )
    args.database_url = url
    args.keyring = str(ring)
    args.staff_file = str(work / "demo-staff.json")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--database-url", help="the database to dump (postgresql://...)")
    source.add_argument("--dump", help="an existing dump (pg_dump --format=custom)")
    source.add_argument("--demo", action="store_true", help="build a demo source first")
    parser.add_argument("--keyring", help="the key ring file, restored from its own backup")
    parser.add_argument(
        "--admin-url",
        help="where to create the drill database [the source's server, database postgres; "
        "with --dump: the local PostgreSQL]",
    )
    parser.add_argument("--restore-name", help="[drill_restore_<UTC time>]")
    parser.add_argument("--staff", action="append", help="a focal point who signs in (asked)")
    parser.add_argument(
        "--staff-file", help='JSON: [{"username", "password", "totp_secret"}] (demo, tests)'
    )
    parser.add_argument(
        "--cases-per-person", type=int, default=25, help="newest cases opened each; 0: all [25]"
    )
    parser.add_argument("--anchor-file", help="audit anchor file copy for verify_audit")
    parser.add_argument("--port", type=int, help="loopback port of the restored service [free]")
    parser.add_argument("--jobs", type=int, default=2, help="pg_restore --jobs [2]")
    parser.add_argument("--start-timeout", type=float, default=120)
    parser.add_argument("--delivery-timeout", type=float, default=150)
    parser.add_argument("--settle", type=float, default=5)
    parser.add_argument(
        "--no-sweep",
        dest="sweep",
        action="store_false",
        help="do not wait for the minute sweep (its first run comes about 30 s after the "
        "worker starts) to find due rows from the database alone, as it must when the "
        "backup's queued tasks are lost or signed with another secret key",
    )
    parser.add_argument("--demo-database", default="drill_demo_source")
    parser.add_argument("--report-json", help="also write the report here")
    parser.add_argument("--keep", action="store_true", help="keep the drill database and work dir")
    args = parser.parse_args(argv)
    if not args.demo and not args.keyring:
        parser.error("--keyring is required (the key ring file restored from its backup)")
    return args


def stop_on_signals() -> None:
    """SIGTERM or SIGHUP (a cancelled job, a closed terminal) end the drill through its
    `finally` blocks: the service stopped, the drill database dropped, the ring copy gone."""

    def leave(signum, _frame):
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, leave)


def main(argv: list[str] | None = None) -> int:
    global LOG
    args = parse(sys.argv[1:] if argv is None else argv)
    stop_on_signals()
    report = Report()
    work = Path(tempfile.mkdtemp(prefix="recourse-drill-"))
    work.chmod(0o700)
    LOG = (work / "drill.log").open("w")
    started = time.monotonic()
    try:
        if args.demo:
            tools_present()
            with report.timed("demo source built"):
                demo_source(args, work)
        drill(args, report, work)
    except DrillFailed as exc:
        report.check(False, str(exc))
    except Exception as exc:  # noqa: BLE001 - reported as a failure, never a traceback with data
        report.check(False, f"the drill itself failed: {type(exc).__name__}")
    finally:
        report.timings["whole drill"] = round(time.monotonic() - started, 2)
        if not args.keep:
            for admin_url, name in CREATED:
                with contextlib.suppress(DrillFailed):
                    admin_sql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if args.demo:
                with contextlib.suppress(DrillFailed):
                    admin_sql(
                        args.admin_url or LOCAL_POSTGRES,
                        f'DROP DATABASE IF EXISTS "{args.demo_database}" WITH (FORCE)',
                    )
        LOG.close()
        # The ring copy and the dump made here go in every case; the logs stay for a
        # failed drill (or --keep), for whoever runs it to read.
        for secret in ("keyring.json", "source-keyring.json", "recourse.dump", "demo-staff.json"):
            with contextlib.suppress(FileNotFoundError):
                (work / secret).unlink()
        if args.keep or report.failures:
            report.facts["work directory (logs)"] = str(work)
        else:
            shutil.rmtree(work, ignore_errors=True)
        if args.keep and CREATED:
            report.facts["drill database kept"] = CREATED[0][1]
    report.print()
    if args.report_json:
        Path(args.report_json).write_text(json.dumps(report.as_dict(), indent=2))
    return 0 if not report.failures else 1


if __name__ == "__main__":
    sys.exit(main())
