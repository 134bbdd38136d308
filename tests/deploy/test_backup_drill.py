"""Issue 18 §3: the backup and restore drill, run for real on the local PostgreSQL
(whatever database the suite itself uses): a source database with demo staff and
complaints, half of its notices, texts and emails sent and half pending; then
deploy/backup_drill.py dumps it, restores it into a fresh database, starts gunicorn and
a qcluster worker on it under production settings with the key ring, signs the focal
points in over HTTP and opens their cases, and checks what the worker sends. With
another key ring, or one missing the cases' epoch keys, the drill fails."""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
DRILL = ROOT / "deploy" / "backup_drill.py"
PROBE = ROOT / "deploy" / "drill_probe.py"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# The production key model at a test's cost: the costs are stored with each wrapped key.
CHEAP_KDF = {
    "STAFF_KEY_KDF_MEMORY_KIB": "1024",
    "STAFF_KEY_KDF_ITERATIONS": "1",
    "FOLLOWUP_KDF_MEMORY_KIB": "1024",
    "FOLLOWUP_KDF_ITERATIONS": "1",
}


def postgres_required() -> None:
    missing = [tool for tool in ("pg_dump", "pg_restore", "psql") if not shutil.which(tool)]
    if missing:
        pytest.fail(
            f"The backup drill test needs {', '.join(missing)}: apt-get install postgresql-client"
        )
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=2).close()
    except OSError:
        pytest.fail(
            "The backup drill test needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust "
            "auth), whichever database the suite runs on: start it, or install Debian's "
            "postgresql."
        )


def clean_env(**extra) -> dict:
    """The suite's settings (config.settings_test) put its own key ring and database in
    os.environ: none of it reaches the drill."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "RECOURSE_", "DATABASE_", "SMS_", "EMAIL_", "DRILL_"))
    }
    return {**env, **CHEAP_KDF, **extra}


def psql(sql: str) -> None:
    subprocess.run(["psql", "-X", "-q", "-d", ADMIN_URL, "-c", sql], check=True, timeout=60)


def database_exists(name: str) -> bool:
    out = subprocess.run(
        [
            "psql",
            "-X",
            "-At",
            "-d",
            ADMIN_URL,
            "-c",
            f"SELECT 1 FROM pg_database WHERE datname = '{name}'",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.strip() == "1"


def run(command: list, env: dict, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *map(str, command)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def probe(env: dict, *args) -> dict:
    result = run([PROBE, *args], env)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.rsplit("\nJSON ", 1)[1])


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A source database as production would hold it, built under development settings
    with the ledger backends (nothing leaves the host)."""
    postgres_required()
    work = tmp_path_factory.mktemp("drill-source")
    name = f"drill_test_source_{secrets.token_hex(4)}"
    psql(f'CREATE DATABASE "{name}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    secret = secrets.token_urlsafe(50)
    env = clean_env(
        RECOURSE_ENV="development",
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY=secret,
        DATABASE_URL=url,
        RECOURSE_KEYRING_FILE=str(work / "ring.json"),
        AUDIT_ANCHOR_FILE=str(work / "anchors.log"),
        SMS_BACKEND="notifications.backends.ledger.LedgerSmsBackend",
        EMAIL_BACKEND="notifications.backends.ledger.LedgerEmailBackend",
        DELIVERY_LEDGER_FILE=str(work / "deliveries.ledger"),
    )
    try:
        for command in (
            ["manage.py", "keyring_add", "--file", work / "ring.json"],
            ["manage.py", "migrate", "--noinput", "-v0"],
        ):
            result = run(command, env)
            assert result.returncode == 0, result.stderr[-2000:]
        filled = probe(env, "demo_fill", work / "staff.json")
        staff = json.loads((work / "staff.json").read_text())
        held = probe(env, "staff_cases", *[p["username"] for p in staff])["staff"]
        yield {
            "url": url,
            "env": env,
            "work": work,
            "secret": secret,
            "filled": filled,
            "staff": staff,
            "held": held,
        }
    finally:
        psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def drill(source, ring: Path, name: str) -> tuple[subprocess.CompletedProcess, dict]:
    report = source["work"] / f"{name}.json"
    result = run(
        [
            DRILL,
            "--database-url",
            source["url"],
            "--keyring",
            ring,
            "--staff-file",
            source["work"] / "staff.json",
            "--cases-per-person",
            "0",
            "--restore-name",
            name,
            "--delivery-timeout",
            "60",
            "--settle",
            "3",
            # The worker runs the backup's queued tasks (same secret key); the sweep's
            # own path, rows found again from the database, is tests/robustness'.
            "--no-sweep",
            "--report-json",
            report,
        ],
        clean_env(DJANGO_SECRET_KEY=source["secret"]),
        timeout=300,
    )
    return result, json.loads(report.read_text())


def test_the_restored_service_opens_cases_with_passwords_and_resumes_sends_once(source):
    sent_in_source = len(source["work"].joinpath("deliveries.ledger").read_text().splitlines())
    pending = source["filled"]["pending"]
    sent = source["filled"]["sent"]
    assert all(pending.values()) and all(sent.values())  # every kind, both states
    name = f"drill_test_restore_{secrets.token_hex(4)}"

    result, report = drill(source, source["work"] / "ring.json", name)

    assert result.returncode == 0, result.stdout
    assert report["ok"] and report["failures"] == []
    facts = report["facts"]
    assert facts["/healthz"] == "database ok keyring ok queue ok sweep ok"
    assert facts["audit events verified"] > 0
    assert facts["epochs the ring cannot open"] == 0
    # Every focal point of the two units signs in and opens every case they hold.
    expected = sum(len(person["cases"]) for person in source["held"].values())
    assert expected >= 8
    assert facts["staff signed in"] == f"{len(source['staff'])} of {len(source['staff'])}"
    assert facts["cases opened by passwords"] == f"{expected} of {expected}"
    assert facts["readings audited"] == expected
    # What was pending in the backup went out once; what was sent did not go again.
    assert facts["deliveries due"] == sum(pending.values())
    assert facts["deliveries resumed"] == sum(pending.values())
    assert facts["deliveries sent before"] == sum(sent.values())
    assert facts["deliveries resent"] == 0
    assert facts["sends recorded"] == sum(pending.values())
    for step in ("dump (pg_dump)", "restore (pg_restore)", "service start (to /healthz ok)"):
        assert report["timings_s"][step] > 0

    # The drill database is gone; the source was only read.
    assert not database_exists(name)
    still = probe(source["env"], "deliveries")["rows"]
    assert sum(r["status"] == "pending" for rows in still.values() for r in rows) == sum(
        pending.values()
    )
    assert (
        len(source["work"].joinpath("deliveries.ledger").read_text().splitlines()) == sent_in_source
    )
    # Counts and ids of steps only: no username, reference, number or address.
    printed = result.stdout + result.stderr + json.dumps(report)
    secrets_of_the_run = [p["username"] for p in source["staff"]] + [
        reference for person in source["held"].values() for reference in person["cases"]
    ]
    for forbidden in [*secrets_of_the_run, "@example.org", "+1500555", "Drill complaint"]:
        assert forbidden not in printed


def other_ring(source, kind: str) -> Path:
    """Another deployment's ring (the same epoch ids, other keys), or the right ring
    without the epoch keys of this month's cases."""
    path = source["work"] / f"{kind}-ring.json"
    if kind == "foreign":
        result = run(["manage.py", "keyring_add", "--file", path], source["env"])
        assert result.returncode == 0, result.stderr
    else:
        ring = json.loads((source["work"] / "ring.json").read_text())
        ring["epochs"] = {k: v for k, v in ring["epochs"].items() if not k.startswith("open-")}
        path.write_text(json.dumps(ring))
    return path


@pytest.mark.parametrize("kind", ["foreign", "without_open_epochs"])
def test_the_drill_fails_with_a_key_ring_that_does_not_fit_the_backup(source, kind):
    name = f"drill_test_restore_{secrets.token_hex(4)}"

    result, report = drill(source, other_ring(source, kind), name)

    assert result.returncode == 1
    assert not report["ok"]
    assert report["facts"]["epochs the ring cannot open"] >= 1
    assert any("key ring" in failure for failure in report["failures"])
    # Nothing was started on it, and nothing is left behind.
    assert "service start (to /healthz ok)" not in report["timings_s"]
    assert not database_exists(name)
    # The failed drill keeps its logs for the operator, never the ring copy.
    work = Path(report["facts"]["work directory (logs)"])
    assert (work / "drill.log").exists() and not (work / "keyring.json").exists()
    logged = (work / "drill.log").read_text() + result.stdout
    for forbidden in [p["username"] for p in source["staff"]] + [
        reference for person in source["held"].values() for reference in person["cases"]
    ]:
        assert forbidden not in logged
    shutil.rmtree(work)
