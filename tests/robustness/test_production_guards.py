"""Issue 13, section 2: what production refuses, and what only development offers."""

import base64
import json
import os
import stat
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from policies.demo import seed_demo
from policies.models import Unit

ROOT = Path(django_settings.BASE_DIR)
KEYRING = json.dumps({"primary": "t", "keys": {"t": base64.b64encode(b"k" * 32).decode()}})


def production_env(tmp_path, **extra) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "RECOURSE_", "DATABASE_"))
    }
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "RECOURSE_ENV": "production",
        "DJANGO_SECRET_KEY": "s" * 60,
        "PUBLIC_BASE_URL": "https://recourse.example",
        "DJANGO_ALLOWED_HOSTS": "recourse.example",
        "RECOURSE_KEYRING": KEYRING,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **extra,
    }


def run(command: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


# --- DEBUG in production ------------------------------------------------------------------


def test_debug_in_production_is_a_check_error(settings):
    from complaints.apps import check_no_debug_in_production

    settings.RECOURSE_ENV, settings.DEBUG = "production", True
    assert [e.id for e in check_no_debug_in_production()] == ["recourse.E002"]
    settings.DEBUG = False
    assert check_no_debug_in_production() == []
    settings.RECOURSE_ENV, settings.DEBUG = "development", True
    assert check_no_debug_in_production() == []


def test_check_deploy_refuses_debug_in_production(tmp_path):
    refused = run(["manage.py", "check", "--deploy"], production_env(tmp_path, DJANGO_DEBUG="1"))
    assert refused.returncode != 0 and "recourse.E002" in refused.stderr
    # An ordinary command (what runserver does at start) refuses too: not a deploy-only check.
    assert (
        "recourse.E002"
        in run(["manage.py", "check"], production_env(tmp_path, DJANGO_DEBUG="1")).stderr
    )
    clean = run(["manage.py", "check", "--deploy"], production_env(tmp_path))
    assert "recourse.E002" not in clean.stderr


def test_the_wsgi_application_refuses_to_load_with_debug_in_production(tmp_path):
    """gunicorn runs no system checks itself: config/wsgi.py does."""
    code = "import config.wsgi"
    refused = run(["-c", code], production_env(tmp_path, DJANGO_DEBUG="1"))
    assert refused.returncode != 0 and "recourse.E002" in refused.stderr
    served = run(["-c", code], production_env(tmp_path))
    assert served.returncode == 0, served.stderr


# --- The SMS simulator ------------------------------------------------------------------------


@pytest.mark.django_db
def test_simulator_is_404_outside_development_even_with_debug(client, settings):
    settings.DEBUG = True
    for env in ("test", "production"):
        settings.RECOURSE_ENV = env
        assert client.get("/dev/sms/").status_code == 404
        assert client.post("/dev/sms/", {"phone": "+221770000001", "body": "x"}).status_code == 404


@pytest.mark.django_db
def test_simulator_keeps_no_text_in_the_session(client, settings, monkeypatch):
    from intake import sms_views

    settings.RECOURSE_ENV = "development"
    monkeypatch.setattr(
        sms_views,
        "_signed_post",
        lambda path, params: "<Response><Message>Got it.</Message></Response>",
    )
    response = client.post("/dev/sms/", {"phone": "+221770000001", "body": "canary they hit me"})
    assert response.status_code == 200
    assert (
        "canary they hit me" in response.content.decode() and "Got it." in response.content.decode()
    )
    session = client.session
    assert all("canary" not in repr(session[key]) for key in session.keys())
    assert "Got it." not in client.get("/dev/sms/").content.decode()  # shown once, from the POST


# --- seed_demo --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("env", ["production", "test"])
def test_seed_demo_command_runs_only_in_development(settings, env):
    settings.RECOURSE_ENV = env
    with pytest.raises(CommandError, match="RECOURSE_ENV=development"):
        call_command("seed_demo", stdout=StringIO())
    assert not Unit.objects.exists()


@pytest.mark.django_db
def test_seed_demo_function_refuses_production(settings):
    settings.RECOURSE_ENV = "production"
    with pytest.raises(ImproperlyConfigured):
        seed_demo()
    assert not Unit.objects.exists()


# --- The SQLite file --------------------------------------------------------------------------


def test_migrate_creates_the_sqlite_database_owner_only(tmp_path):
    path = tmp_path / "fresh.sqlite3"
    env = production_env(
        tmp_path, DJANGO_SETTINGS_MODULE="config.settings_test", DATABASE_URL=f"sqlite:///{path}"
    )
    # Under the usual umask, 022, SQLite alone would make it 0644.
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=lambda: os.umask(0o022),
    )
    assert result.returncode == 0, result.stderr
    files = [p for p in tmp_path.iterdir() if p.name.startswith("fresh.sqlite3")]
    assert path in files
    for file in files:  # the -wal and -shm files too, while they exist
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name


def test_an_existing_sqlite_file_is_narrowed_to_owner_only(tmp_path, monkeypatch):
    from complaints.apps import sqlite_file_private

    path = tmp_path / "old.sqlite3"
    path.write_bytes(b"")
    path.chmod(0o644)
    monkeypatch.setitem(
        django_settings.DATABASES,
        "default",
        {
            **django_settings.DATABASES["default"],
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(path),
        },
    )
    sqlite_file_private()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
