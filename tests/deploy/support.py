"""What the deployment tests share: the tools they need, a production environment for
Recourse's processes, and the files of deploy/ rendered for this machine."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# Where deploy/ expects the checkout on a server (deploy/README.md).
SERVER_CHECKOUT = "/srv/recourse"


def tool(name: str, how: str) -> str:
    """A system tool's path, or a failure that says how to install it: never a skip."""
    found = shutil.which(name) or next(
        (str(p) for d in ("/usr/sbin", "/sbin") if os.access(p := Path(d) / name, os.X_OK)),
        None,
    )
    if not found:
        pytest.fail(f"{name} is missing: {how}")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}:\n{log.read_text()[-3000:]}")


def production_env(tmp: Path, database_url: str, **extra: str) -> dict[str, str]:
    """What /etc/recourse/recourse.env gives a node, pointing at `tmp`: production
    settings, a key ring file made by keyring_add, nothing from the test settings
    (they put a key ring of their own in the environment)."""
    ring = tmp / "keyring" / "keyring.json"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp),
        "LANG": "C.UTF-8",
        "RECOURSE_ENV": "production",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": "deploy-test-" + "s3cr3t-" * 8,
        "DJANGO_ALLOWED_HOSTS": "recourse.example.org",
        "PUBLIC_BASE_URL": "https://recourse.example.org",
        "RECOURSE_KEYRING_FILE": str(ring),
        "AUDIT_ANCHOR_FILE": str(tmp / "audit-anchors.log"),
        "DATABASE_URL": database_url,
        "CLIENT_IP_HEADER": "HTTP_X_FORWARDED_FOR",
        "TWILIO_AUTH_TOKEN": "deploy-test-twilio-token",
        "SMS_BACKEND": "notifications.backends.console.ConsoleSmsBackend",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "PYTHONDONTWRITEBYTECODE": "1",
        **extra,
    }
    if not ring.exists():
        manage(env, "keyring_add", "--file", str(ring))
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


def unit_file(name: str) -> str:
    """A unit of deploy/systemd/ with its paths moved from the server's checkout to this
    one (whose .venv exists here)."""
    return (DEPLOY / "systemd" / name).read_text().replace(SERVER_CHECKOUT, str(ROOT))


def unit_settings(text: str) -> dict[str, list[str]]:
    """Key -> values, in order, of a unit file (comments and sections dropped)."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def current_user() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


def stop(process: subprocess.Popen, signum: int = signal.SIGTERM, seconds: float = 15) -> None:
    """Signal the main process only, then kill whatever is left of its group."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signum)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=seconds)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
