"""deploy/recourse.env.example: it names every variable the settings read, means the
same to systemd and to sh, and, filled in, is a production configuration that
`check --deploy` passes, run through deploy/recourse-manage as the guide does."""

from __future__ import annotations

import os
import re
import secrets
import subprocess

from notifications.apps import check_whatsapp_sender
from tests.deploy.support import DEPLOY, ROOT, current_user, manage, production_env

EXAMPLE = DEPLOY / "recourse.env.example"
ASSIGNMENT = re.compile(r"^#?([A-Z][A-Z0-9_]*)=(.*)$")


def settings_variables() -> set[str]:
    text = (ROOT / "config" / "settings.py").read_text()
    return set(re.findall(r'\benv(?:_int|_bool|_list)?\(\s*"([A-Z][A-Z0-9_]*)"', text))


def example_values(text: str) -> dict[str, str]:
    """The assignments as systemd reads an EnvironmentFile: commented ones skipped, one
    pair of surrounding single quotes removed."""
    values = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if match := ASSIGNMENT.match(line):
            value = match.group(2)
            if len(value) >= 2 and value[0] == value[-1] == "'":
                value = value[1:-1]
            values[match.group(1)] = value
    return values


def test_every_variable_the_settings_read_is_in_the_template():
    documented = {m.group(1) for m in map(ASSIGNMENT.match, EXAMPLE.read_text().splitlines()) if m}
    variables = settings_variables()
    assert len(variables) > 40  # the pattern still finds them
    assert variables - documented == set()


def test_the_template_holds_no_secret_and_marks_the_required_ones():
    values = example_values(EXAMPLE.read_text())
    for name in ("DJANGO_SECRET_KEY", "TWILIO_AUTH_TOKEN", "EMAIL_HOST_PASSWORD"):
        assert values[name] == "", name
    text = EXAMPLE.read_text()
    for name in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "PUBLIC_BASE_URL", "DATABASE_URL"):
        comment = text.split(f"\n{name}=")[0].rsplit("\n\n", 1)[-1]
        assert "REQUIRED" in comment, name


def test_sh_reads_the_template_as_systemd_does(tmp_path):
    result = subprocess.run(
        ["sh", "-c", f"set -a; . {EXAMPLE}; env -0"],
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        check=True,
    )
    seen = dict(item.split("=", 1) for item in result.stdout.decode().split("\0") if "=" in item)
    for name, value in example_values(EXAMPLE.read_text()).items():
        assert seen.get(name) == value, name


def test_the_filled_in_template_passes_check_deploy_through_recourse_manage(tmp_path):
    ring = production_env(tmp_path, "sqlite://")["RECOURSE_KEYRING_FILE"]  # keyring_add
    filled = (
        EXAMPLE.read_text()
        .replace("DJANGO_SECRET_KEY=\n", f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}\n")
        .replace("/etc/recourse/keyring/keyring.json", ring)
        .replace("/var/lib/recourse/", f"{tmp_path}/")
    )
    filled = re.sub(
        r"(?m)^DATABASE_URL=.*$", f"DATABASE_URL=sqlite:///{tmp_path}/db.sqlite3", filled
    )
    env_file = tmp_path / "recourse.env"
    env_file.write_text(filled)
    result = subprocess.run(
        [str(DEPLOY / "recourse-manage"), "check", "--deploy", "--fail-level", "WARNING"],
        env={
            "PATH": os.environ["PATH"],
            "RECOURSE_APP_DIR": str(ROOT),
            "RECOURSE_ENV_FILE": str(env_file),
            "RECOURSE_USER": current_user(),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_the_required_ones(tmp_path):
    env = production_env(tmp_path, "sqlite://")
    for name in ("DJANGO_SECRET_KEY", "PUBLIC_BASE_URL", "RECOURSE_KEYRING_FILE"):
        without = {k: v for k, v in env.items() if k != name}
        result = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "check"],
            cwd=ROOT,
            env=without,
            capture_output=True,
            text=True,
        )
        assert result.returncode != 0 and name in result.stderr, name
    manage(env, "check")


def test_the_whatsapp_settings_are_in_the_template_with_their_defaults():
    values = example_values(EXAMPLE.read_text())
    assert values["TWILIO_WHATSAPP_FROM"] == ""  # no WhatsApp until a sender is set
    assert values["WHATSAPP_WINDOW_HOURS"] == "24"
    assert values["WHATSAPP_WINDOW_MARGIN_MINUTES"] == "30"


def test_a_whatsapp_sender_not_written_as_twilio_does_is_a_warning(settings):
    settings.TWILIO_WHATSAPP_FROM = "whatsapp:+14155238886"
    assert check_whatsapp_sender() == []
    settings.TWILIO_WHATSAPP_FROM = "+14155238886"
    assert [warning.id for warning in check_whatsapp_sender()] == ["recourse.W020"]
