"""What `make bench` and `make soak` share: a database, Recourse under gunicorn with
production settings and its django-q2 worker, the baseline project, pre-built signed
requests, wrk, and the server processes' CPU time and memory read from /proc.

Everything started here runs in its own process group and is stopped on exit."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
VAR = ROOT / "var" / "bench"
PYTHON = sys.executable
RECOURSE_PORT = int(os.environ.get("BENCH_PORT", "8101"))
BASELINE_PORT = RECOURSE_PORT + 1
TWILIO_TOKEN = "bench-twilio-auth-token"
SMS_NUMBER = "+15005550006"
GUNICORN_WORKERS = os.environ.get("BENCH_WORKERS", "2")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def postgres_answers() -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", 5432), timeout=1):
        return True
    return False


def database_urls(fresh: bool) -> tuple[str, str, str]:
    """(recourse URL, baseline URL, engine): PostgreSQL when one answers, else SQLite
    in WAL mode. A fresh key ring means the old bench data cannot be read: start over."""
    if postgres_answers() and not os.environ.get("BENCH_SQLITE"):
        import psycopg

        # BENCH_DB_PREFIX keeps a second checkout's bench (a clean clone, CI) off the
        # databases another one keeps between runs.
        prefix = os.environ.get("BENCH_DB_PREFIX", "recourse")
        bench, baseline = f"{prefix}_bench", f"{prefix}_baseline"
        with psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True
        ) as db:
            for name in (bench, baseline):
                exists = db.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", [name]
                ).fetchone()
                if exists and (fresh or name == baseline):
                    db.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                    exists = None
                if not exists:
                    db.execute(f'CREATE DATABASE "{name}"')
        base = "postgresql://postgres@127.0.0.1:5432/"
        return base + bench, base + baseline, "PostgreSQL"
    if fresh:
        for path in VAR.glob("recourse.sqlite3*"):
            path.unlink()
    for path in VAR.glob("baseline.sqlite3*"):
        path.unlink()
    return (
        f"sqlite:///{VAR / 'recourse.sqlite3'}",
        f"sqlite:///{VAR / 'baseline.sqlite3'}",
        "SQLite (WAL)",
    )


def recourse_env(database_url: str, *, production: bool = True) -> dict:
    """Production settings served on loopback behind a pretend TLS proxy. Email and SMS
    go to the project's own non-network backends: the network edge is all that is faked."""
    secret = (VAR / "secret_key").read_text()
    return {
        **os.environ,
        "RECOURSE_ENV": "production" if production else "development",
        "DJANGO_SECRET_KEY": secret,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "PUBLIC_BASE_URL": f"https://127.0.0.1:{RECOURSE_PORT}",
        "RECOURSE_KEYRING_FILE": str(VAR / "keyring.json"),
        "DATABASE_URL": database_url,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "SMS_PUBLIC_NUMBER": SMS_NUMBER,
        "SMS_BACKEND": "notifications.backends.console.ConsoleSmsBackend",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "SECURE_SSL_REDIRECT": "false",
        # One load generator on 127.0.0.1 is every "client": the per-client throttles
        # are tested in the suite, not here.
        "SUBMISSIONS_PER_CLIENT": "100000000",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }


def prepare(cases: int) -> tuple[str, str, str]:
    """Key ring, database, migrations, demo data and the seeded volume of cases."""
    VAR.mkdir(parents=True, exist_ok=True)
    fresh = not (VAR / "keyring.json").exists()
    if fresh or not (VAR / "secret_key").exists():
        (VAR / "secret_key").write_text(secrets.token_urlsafe(50))
    recourse_url, baseline_url, engine = database_urls(fresh)
    dev = recourse_env(recourse_url, production=False)
    if fresh:
        run([PYTHON, "manage.py", "keyring_add", "--file", str(VAR / "keyring.json")], env=dev)
    # A ring kept from a run before epoch keys existed gets them (idempotent).
    run([PYTHON, "manage.py", "epoch_keys_add", "--file", str(VAR / "keyring.json")], env=dev)
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], env=dev)
    run([PYTHON, "manage.py", "seed_demo"], env=dev, quiet=True)
    run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], env=recourse_env(recourse_url))
    existing = probe(dev, "counts")["cases"]
    if existing < cases:
        print(f"Seeding {cases - existing:,} cases (once; kept for later runs)...", flush=True)
        started = time.monotonic()
        run(
            [PYTHON, "manage.py", "seed_volume", "--cases", str(cases - existing)],
            env=dev,
            quiet=True,
        )
        print(f"  seeded in {time.monotonic() - started:.0f} s", flush=True)
        if recourse_url.startswith("postgresql"):
            # What autovacuum does after a bulk load in production: statistics for the
            # planner and a visibility map for index-only scans.
            import psycopg

            with psycopg.connect(recourse_url, autocommit=True) as db:
                db.execute("VACUUM ANALYZE")
    probe(dev, "clear_sms")
    run(
        [PYTHON, "-m", "django", "migrate", "--noinput", "-v0"],
        env=baseline_env(baseline_url),
        cwd=BENCH / "baseline",
    )
    return recourse_url, baseline_url, engine


def baseline_env(database_url: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "BASELINE_PUBLIC_BASE_URL": f"https://127.0.0.1:{BASELINE_PORT}",
        "DJANGO_SETTINGS_MODULE": "baseline.settings",
        "PYTHONPATH": str(BENCH / "baseline"),
    }


def run(command, *, env, cwd=ROOT, quiet=False) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=3600)
    if result.returncode:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"failed: {' '.join(map(str, command))}")
    if not quiet and result.stdout.strip():
        print(result.stdout.strip())
    return result.stdout


def probe(env: dict, name: str, *args):
    """Ask the bench database a question (bench/probe.py) in a Django process of `env`."""
    out = run([PYTHON, str(BENCH / "probe.py"), name, *map(str, args)], env=env, quiet=True)
    return json.loads(out.rsplit("\nJSON ", 1)[1])


def staff_cookie(env: dict, user_id: int) -> str:
    return probe(env, "staff_session", user_id)


# --- Processes --------------------------------------------------------------------------------


@dataclass
class Service:
    name: str
    process: subprocess.Popen
    log: Path

    def pids(self) -> list[int]:
        """Every live process of the service's process group."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == self.process.pid:  # pgrp
                    found.append(int(stat.parent.name))
        return found

    def cpu_seconds(self) -> float:
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                # utime + stime, and cutime + cstime: the CPU of workers that exited
                # (django-q2 recycles them, gunicorn restarts them) stays counted.
                total += sum(int(f) for f in fields[11:15])
        return total / CLOCK_TICKS

    def rss_mib(self) -> dict[int, float]:
        sizes = {}
        for pid in self.pids():
            with contextlib.suppress(OSError):
                match = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
                if match:
                    sizes[pid] = int(match.group(1)) / 1024
        return sizes


def stop_on_signals():
    """SIGTERM or SIGHUP (a cancelled CI job, a closed terminal) end the run through its
    `finally`, so every server it started is stopped."""

    def leave(signum, _frame):
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, leave)


@dataclass
class Services:
    started: list[Service] = field(default_factory=list)

    def start(self, name: str, command: list[str], *, env: dict, cwd=ROOT, port: int | None = None):
        if port:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", port), timeout=0.5),
            ):
                raise SystemExit(f"port {port} is taken (a server left from an earlier run?)")
        log = VAR / f"{name}.log"
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        service = Service(name, process, log)
        self.started.append(service)
        if port:
            wait_for_port(port, service)
        return service

    def kill(self, service: Service):
        """A crash: SIGKILL to the service's whole process group (the main process and
        its children at once, nothing stopped cleanly)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(service.process.pid, signal.SIGKILL)
        service.process.wait(timeout=15)
        self.started.remove(service)

    def stop(self):
        # SIGTERM to each main process only: gunicorn's master and django-q2's cluster
        # stop their own children, and django-q2 1.11 can hang when the whole group gets
        # SIGTERM. Whatever is left of a group after the deadline is killed.
        for service in reversed(self.started):
            with contextlib.suppress(ProcessLookupError):
                os.kill(service.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for service in self.started:
            with contextlib.suppress(subprocess.TimeoutExpired):
                service.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(service.process.pid, signal.SIGKILL)
        self.started.clear()


def wait_for_port(port: int, service: Service, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise SystemExit(f"{service.name} exited:\n{service.log.read_text()[-3000:]}")
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", port), timeout=0.5),
        ):
            return
        time.sleep(0.2)
    raise SystemExit(f"{service.name} did not listen on {port}")


def gunicorn(
    services: Services, name: str, app: str, port: int, env: dict, cwd=ROOT, python=PYTHON
) -> Service:
    # The access log (status, method, path: no query, no client) is how a run counts the
    # responses the server accepted, including those in flight when wrk stopped.
    command = [
        python,
        "-m",
        "gunicorn",
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        GUNICORN_WORKERS,
        "--worker-class",
        "sync",
        "--backlog",
        "2048",
        "--access-logfile",
        str(access_log(name)),
        "--access-logformat",
        "%(s)s %(m)s %(U)s",
        "--error-logfile",
        "-",
    ]
    return services.start(name, command, env=env, cwd=cwd, port=port)


def access_log(name: str) -> Path:
    return VAR / f"{name}-access.log"


def logged_since(name: str, since: int) -> list[str]:
    """The access log lines ("status method path") written after byte offset `since`."""
    with access_log(name).open("rb") as log:
        log.seek(since)
        return log.read().decode().splitlines()


def log_settled(name: str, seconds: float = 10) -> int:
    """Wait until the access log stops growing (requests in flight when the load stopped
    have finished); return its size."""
    size, deadline = -1, time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = access_log(name).stat().st_size
        if now == size:
            break
        size = now
    return size


def recourse_ports(nodes: int) -> list[int]:
    """The web nodes' ports: RECOURSE_PORT, then those past the baseline's."""
    return [RECOURSE_PORT] + [BASELINE_PORT + n for n in range(1, nodes)]


def node_name(kind: str, n: int) -> str:
    """recourse-web, recourse-web2, ...; recourse-worker, recourse-worker2, ..."""
    return f"recourse-{kind}{n + 1 if n else ''}"


def start_recourse(
    services: Services, database_url: str, *, nodes: int = 1, env: dict | None = None
) -> tuple[list[Service], list[Service]]:
    """`nodes` gunicorn instances (recourse_ports) and as many django-q2 clusters, all
    on the one database."""
    env = env or recourse_env(database_url)
    webs = [
        gunicorn(services, node_name("web", n), "config.wsgi:application", port, env)
        for n, port in enumerate(recourse_ports(nodes))
    ]
    workers = [start_worker(services, node_name("worker", n), env) for n in range(nodes)]
    return webs, workers


def start_worker(services: Services, name: str, env: dict) -> Service:
    return services.start(name, [PYTHON, "manage.py", "qcluster"], env=env)


def start_baseline(services: Services, database_url: str) -> Service:
    return gunicorn(
        services,
        "baseline-web",
        "baseline.wsgi:application",
        BASELINE_PORT,
        baseline_env(database_url),
        cwd=BENCH / "baseline",
    )


# --- Requests ---------------------------------------------------------------------------------


def raw_request(
    method: str, port: int, path: str, *, form: dict | None = None, headers: dict | None = None
) -> bytes:
    body = urllib.parse.urlencode(form or {}, doseq=True).encode() if form is not None else b""
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "X-Forwarded-Proto: https",
        "User-Agent: recourse-bench",
    ]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if form is not None:
        lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    assert b"\0" not in request
    return request


def write_requests(name: str, requests: list[bytes]) -> Path:
    path = VAR / f"{name}.requests"
    path.write_bytes(b"\0".join(requests))
    return path


def twilio_sms(port: int, path: str, *, sid: str, sender: str, body: str) -> bytes:
    from twilio.request_validator import RequestValidator

    params = {
        "MessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": SMS_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(
        f"https://127.0.0.1:{port}{path}", params
    )
    return raw_request("POST", port, path, form=params, headers={"X-Twilio-Signature": signature})


class Browser:
    """A tiny cookie-keeping HTTP client for preparing sessions and CSRF tokens."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def fetch(self, path: str, form: dict | None = None) -> tuple[int, str, dict]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data)
        request.add_header("X-Forwarded-Proto", "https")
        request.add_header("Referer", f"https://127.0.0.1:{self.port}{path}")
        if self.cookies:
            request.add_header("Cookie", self.cookie_header())
        opener = urllib.request.build_opener(NoRedirect)
        try:
            response = opener.open(request, timeout=30)
        except urllib.error.HTTPError as error:
            response = error
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(header)
            self.cookies.update({key: morsel.value for key, morsel in cookie.items()})
        return response.status, response.read().decode(), dict(response.headers)

    def cookie_header(self) -> str:
        return "; ".join(f"{key}={value}" for key, value in self.cookies.items())

    def csrf(self, path: str) -> str:
        status, page, _ = self.fetch(path)
        assert status == 200, (path, status)
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


# --- wrk --------------------------------------------------------------------------------------


def wrk(port: int, requests: Path, *, seconds: int, connections: int, threads: int = 2) -> dict:
    """Run wrk (bounded: a hard timeout past its duration) and return its RESULT line."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")
    threads = min(threads, connections)
    command = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(BENCH / "wrk" / "replay.lua"),
        f"http://127.0.0.1:{port}",
        "--",
        str(requests),
        str(threads),
    ]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    line = next((line for line in out.splitlines() if line.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no result:\n{out}")
    result = json.loads(line[len("RESULT ") :])
    result["rate"] = result["requests"] / (result["duration_us"] / 1e6)
    return result
