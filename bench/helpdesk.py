"""The benchmark's peer: django-helpdesk's public ticket submission, served beside
Recourse so `make bench` shows what a unit's web and SMS intake cost against a ticket
form it might run instead.

Its code is installed from PyPI (bench/peer/requirements.txt, exact pins) into its own
virtual environment, var/bench/helpdesk-venv, made again whenever that file changes;
only the project hosting it (bench/peer/) is in this repository. It runs on the same
database server as Recourse's run (its own database, made afresh each run) under the
same gunicorn settings, on RECOURSE_PORT + 3 (past the baseline and soak's second
node)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from harness import (
    BENCH,
    PYTHON,
    RECOURSE_PORT,
    VAR,
    Services,
    gunicorn,
    raw_request,
    run,
)

HELPDESK_PORT = RECOURSE_PORT + 3
PEER = BENCH / "peer"
REQUIREMENTS = PEER / "requirements.txt"
VENV = VAR / "helpdesk-venv"
# The public "submit a ticket" page: GET renders the form, a valid POST stores the
# ticket and answers 302 to the ticket's public page.
SUBMIT_PATH = "/tickets/submit/"
SUBMITTED_STATUS = 302


def requirements_digest(requirements: Path = REQUIREMENTS) -> str:
    return hashlib.sha256(requirements.read_bytes()).hexdigest()


def venv_python(venv: Path = VENV) -> Path:
    return venv / "bin" / "python"


def stamp(venv: Path = VENV) -> Path:
    """Written after a complete install: the digest of the requirements it installed."""
    return venv / "requirements.sha256"


def venv_stale(venv: Path = VENV, requirements: Path = REQUIREMENTS) -> bool:
    """Missing, half-installed (no stamp) or installed from other pins."""
    if not venv_python(venv).exists() or not stamp(venv).exists():
        return True
    return stamp(venv).read_text().strip() != requirements_digest(requirements)


def ensure_venv(venv: Path = VENV, requirements: Path = REQUIREMENTS):
    if not venv_stale(venv, requirements):
        return
    print(f"Installing django-helpdesk into {venv} (its own virtual environment)", flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    run([PYTHON, "-m", "venv", str(venv)], env=dict(os.environ), quiet=True)
    run(
        [str(venv_python(venv)), "-m", "pip", "install", "-q", "-r", str(requirements)],
        env=dict(os.environ),
        quiet=True,
    )
    stamp(venv).write_text(requirements_digest(requirements) + "\n")


def database_url(recourse_url: str) -> str:
    """The server Recourse's run uses: on PostgreSQL, `<prefix>_helpdesk` (made afresh,
    like the baseline's); else a SQLite file in WAL mode beside the others."""
    if recourse_url.startswith("postgresql"):
        import psycopg  # only when PostgreSQL is in use, as in harness.database_urls

        name = f"{os.environ.get('BENCH_DB_PREFIX', 'recourse')}_helpdesk"
        with psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True
        ) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            db.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://postgres@127.0.0.1:5432/{name}"
    for path in VAR.glob("helpdesk.sqlite3*"):
        path.unlink()
    return f"sqlite:///{VAR / 'helpdesk.sqlite3'}"


def helpdesk_env(url: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "peer.settings",
        "PYTHONPATH": str(PEER),
    }


def probe(env: dict, name: str):
    out = run([str(venv_python()), str(PEER / "probe.py"), name], env=env, cwd=PEER, quiet=True)
    return json.loads(out.rsplit("JSON ", 1)[1])


def prepare(recourse_url: str) -> tuple[dict, int]:
    """Its environment, database and migrations, and the public queue tickets go to."""
    ensure_venv()
    env = helpdesk_env(database_url(recourse_url))
    run([str(venv_python()), "-m", "django", "migrate", "--noinput", "-v0"], env=env, cwd=PEER)
    return env, probe(env, "queue")


def start(services: Services, env: dict):
    return gunicorn(
        services,
        "helpdesk-web",
        "peer.wsgi:application",
        HELPDESK_PORT,
        env,
        cwd=PEER,
        python=str(venv_python()),
    )


def ticket_form(queue: int, token: str, i: int, description: str) -> dict:
    """What a member of the public fills in on its form (the attachment and due date
    are optional and left empty)."""
    return {
        "csrfmiddlewaretoken": token,
        "queue": str(queue),
        "title": f"Complaint {i}",
        "body": description,
        "priority": "3",
        "due_date": "",
        "submitter_email": f"reporter{i}@example.org",
    }


def ticket_requests(
    queue: int, token: str, cookie: str, descriptions: list[str], count: int
) -> list[bytes]:
    """`count` submissions, each its own ticket, carrying the CSRF cookie and token a
    browser got with the form."""
    headers = {"Cookie": cookie, "Referer": f"http://127.0.0.1:{HELPDESK_PORT}{SUBMIT_PATH}"}
    return [
        raw_request(
            "POST",
            HELPDESK_PORT,
            SUBMIT_PATH,
            form=ticket_form(queue, token, i, descriptions[i % len(descriptions)]),
            headers=headers,
        )
        for i in range(count)
    ]
