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
import re
import secrets
import shutil
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))

from harness import (  # noqa: E402
    BENCH,
    PYTHON,
    RECOURSE_PORT,
    VAR,
    Browser,
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


def pinned(package: str, requirements: Path = REQUIREMENTS) -> str:
    """The exact version the requirements file pins `package` to."""
    for line in requirements.read_text().splitlines():
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^]]*\])?==(\S+)", line.strip())
        if match and match.group(1).lower() == package.lower():
            return match.group(3)
    raise SystemExit(f"{requirements} pins no exact {package}")


PEER_VERSION = f"django-helpdesk {pinned('django-helpdesk')}"


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


def prepare(recourse_url: str) -> dict:
    """Its virtual environment, database and migrations, and the public queue the
    submissions go to; returns its environment."""
    ensure_venv()
    env = helpdesk_env(database_url(recourse_url))
    run([str(venv_python()), "-m", "django", "migrate", "--noinput", "-v0"], env=env, cwd=PEER)
    probe(env, "queue")
    return env


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


def multipart(fields: dict, boundary: str) -> bytes:
    """The body a browser sends for its form (enctype multipart/form-data), the file
    input left empty as a browser sends it."""
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="attachment"; filename=""\r\n'
        "Content-Type: application/octet-stream\r\n\r\n\r\n"
    )
    return ("".join(parts) + f"--{boundary}--\r\n").encode()


def ticket_requests(
    queue: int, token: str, cookie: str, descriptions: list[str], count: int
) -> list[bytes]:
    """`count` submissions, each its own ticket, carrying the CSRF cookie and token a
    browser got with the form."""
    boundary = "----RecourseBench" + secrets.token_hex(8)
    requests = []
    for i in range(count):
        body = multipart(
            ticket_form(queue, token, i, descriptions[i % len(descriptions)]), boundary
        )
        head = raw_request(
            "POST",
            HELPDESK_PORT,
            SUBMIT_PATH,
            headers={
                "Cookie": cookie,
                # gunicorn trusts X-Forwarded-Proto from loopback: the request is
                # HTTPS to Django, whose CSRF check then wants an HTTPS Referer.
                "Referer": f"https://127.0.0.1:{HELPDESK_PORT}{SUBMIT_PATH}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(len(body)),
            },
        )
        requests.append(head + body)
    return requests


def public_form(page: str) -> tuple[str, int]:
    """The CSRF token and the public queue's id, read from the form as a browser has it."""
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    select = re.search(r'<select name="queue".*?</select>', page, re.S)
    queues = re.findall(r'<option value="(\d+)"', select.group(0)) if select else []
    if not token or len(queues) != 1:
        raise SystemExit("helpdesk's public form has no CSRF token or not one public queue")
    return token.group(1), int(queues[0])


def submissions(count: int, descriptions: list[str]) -> list[bytes]:
    """GET the public form once (its CSRF cookie and token, the queue offered), then
    `count` submissions of it."""
    browser = Browser(HELPDESK_PORT)
    status, page, _ = browser.fetch(SUBMIT_PATH)
    if status != 200:
        raise SystemExit(f"helpdesk's public form answered {status}")
    token, queue = public_form(page)
    return ticket_requests(queue, token, browser.cookie_header(), descriptions, count)
