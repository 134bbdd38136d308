import contextlib
import os
from pathlib import Path

from django.apps import AppConfig
from django.conf import settings
from django.core import checks


class ComplaintsConfig(AppConfig):
    name = "complaints"

    def ready(self) -> None:
        # Not a deploy-only check: it must also stop runserver and every management
        # command (an Error fails them), and config/wsgi.py runs it before gunicorn serves.
        checks.register(check_no_debug_in_production, checks.Tags.security)
        checks.register(check_audit_anchor_file, checks.Tags.security, deploy=True)
        checks.register(check_metrics_token, checks.Tags.security, deploy=True)
        sqlite_file_private()


def check_no_debug_in_production(app_configs=None, **kwargs):
    """DEBUG shows settings, SQL and local variables (a child's text among them) on
    every error page: never in production."""
    if settings.RECOURSE_ENV == "production" and settings.DEBUG:
        return [
            checks.Error(
                "DEBUG is on in production.",
                hint="Unset DJANGO_DEBUG, or run with RECOURSE_ENV=development on your "
                "own machine only.",
                id="recourse.E002",
            )
        ]
    return []


def check_audit_anchor_file(app_configs=None, **kwargs):
    """Without an anchor file, deleting the newest audit events is detected only by
    whoever still has the log lines (verify_audit checks the file)."""
    if settings.RECOURSE_ENV == "production" and not settings.AUDIT_ANCHOR_FILE:
        return [
            checks.Warning(
                "AUDIT_ANCHOR_FILE is not set: the audit log's anchored heads go to log "
                "lines only, and verify_audit cannot detect its newest events being deleted.",
                hint="Set AUDIT_ANCHOR_FILE to a file on a disk that is backed up off the "
                "host (see deploy/recourse.env.example).",
                id="recourse.W001",
            )
        ]
    return []


METRICS_TOKEN_MIN_LENGTH = 32


def check_metrics_token(app_configs=None, **kwargs):
    """/metrics answers whoever holds the token: a short one can be guessed."""
    token = settings.METRICS_TOKEN
    if token and len(token) < METRICS_TOKEN_MIN_LENGTH:
        return [
            checks.Warning(
                f"METRICS_TOKEN is shorter than {METRICS_TOKEN_MIN_LENGTH} characters.",
                hint='Make one with python3 -c "import secrets; print(secrets.token_urlsafe(32))".',
                id="recourse.W011",
            )
        ]
    return []


def sqlite_file_private() -> None:
    """Create the SQLite database file readable by its owner only (0600), before the
    first connection would create it with the umask's mode: it holds sealed cases and
    their metadata, like the key ring file. SQLite gives its -wal and -shm files the
    database file's mode. An existing file is narrowed the same way."""
    database = settings.DATABASES["default"]
    name = str(database.get("NAME") or "")
    if (
        not database["ENGINE"].endswith("sqlite3")
        or not name
        or name == ":memory:"
        or name.startswith("file:")
    ):
        return
    path = Path(name)
    if not path.parent.is_dir():
        return  # nothing to create yet; SQLite would fail on its own
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for existing in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if existing.stat().st_mode & 0o077:
                existing.chmod(0o600)
