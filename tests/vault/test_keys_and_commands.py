import base64
import json
import os
import subprocess
import sys
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError

from complaints.models import AuditEvent
from complaints.services import complaint_receive
from policies.models import Membership
from tests.conftest import staff_reads
from vault import crypto
from vault.epoch_calendar import epoch_ids_for_months


def receive(unit, narrative="text"):
    return complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative=narrative,
        category="neglect",
        in_danger=False,
        about_staff_answer="no",
        contact_preference="none",
    ).case


def set_ring(settings, primary, **keys):
    settings.RECOURSE_KEYRING = json.dumps(
        {
            "primary": primary,
            "keys": {k: base64.b64encode(v).decode() for k, v in keys.items()},
            "index_key": base64.b64encode(b"i" * 32).decode(),
        }
    )


@pytest.fixture
def restore_keyring_cache():
    yield
    crypto._load_keyring.cache_clear()


@pytest.mark.django_db
def test_no_case_depends_on_the_key_ring_so_retiring_a_key_loses_none(
    settings, unit, focal_point, sms, restore_keyring_cache
):
    set_ring(settings, "old", old=b"o" * 32)
    cases = [receive(unit, narrative=f"story {i}") for i in range(3)]
    sms(
        "TST1 they hit me"
    )  # a phone number, a draft and the reply kept for a retry: the ring seals those
    set_ring(settings, "new", old=b"o" * 32, new=b"n" * 32)
    out = StringIO()
    call_command("rotate_keys", "--batch-size", "1", stdout=out)
    assert "Re-sealed 3 values under 'new'." in out.getvalue()
    assert AuditEvent.objects.get(action="complaints.keys.rotated").data == {
        "primary": "new",
        "count": 3,
    }
    set_ring(settings, "new", new=b"n" * 32)  # the old key is retired
    assert [staff_reads(case, focal_point).narrative for case in cases] == [
        "story 0",
        "story 1",
        "story 2",
    ]


@pytest.mark.django_db
def test_create_staff_prints_the_otpauth_uri_once(unit):
    out = StringIO()
    call_command(
        "create_staff",
        "--username",
        "amina",
        "--unit",
        unit.code.lower(),
        "--role",
        "focal_point",
        "--password",
        "a long enough passphrase",
        stdout=out,
    )
    assert "otpauth://totp/" in out.getvalue()
    membership = Membership.objects.get(user__username="amina")
    assert membership.unit == unit and membership.role == "focal_point"
    with pytest.raises(CommandError, match="exists already"):
        call_command(
            "create_staff",
            "--username",
            "amina",
            "--unit",
            unit.code,
            "--role",
            "manager",
            "--password",
            "a long enough passphrase",
        )


@pytest.mark.django_db
def test_create_staff_refuses_a_weak_password_or_unknown_unit(unit):
    with pytest.raises(CommandError, match="too short"):
        call_command(
            "create_staff",
            "--username",
            "x",
            "--unit",
            unit.code,
            "--role",
            "manager",
            "--password",
            "short",
        )
    with pytest.raises(CommandError, match="No unit"):
        call_command(
            "create_staff",
            "--username",
            "x",
            "--unit",
            "NOPE",
            "--role",
            "manager",
            "--password",
            "a long enough passphrase",
        )


def test_keyring_add_creates_then_rotates_a_private_file(tmp_path, restore_keyring_cache):
    path = tmp_path / "ring.json"
    call_command("keyring_add", "--file", str(path), "--key-id", "first", stdout=StringIO())
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    call_command("keyring_add", "--file", str(path), "--key-id", "second", stdout=StringIO())
    ring = crypto.KeyRing.from_json(path.read_text())
    assert ring.primary_id == "second" and set(ring.keys) == {"first", "second"}


@pytest.mark.django_db
def test_verify_audit_detects_a_changed_or_removed_row(unit, focal_point):
    case = receive(unit)
    for _ in range(3):
        staff_reads(case, focal_point)
    call_command("verify_audit", stdout=StringIO())

    middle = AuditEvent.objects.order_by("id")[1]
    AuditEvent.objects.filter(pk=middle.pk).update(action="complaints.case.nothing_to_see")
    with pytest.raises(CommandError, match="broken"):
        call_command("verify_audit", stdout=StringIO(), stderr=StringIO())

    AuditEvent.objects.filter(pk=middle.pk).delete()
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_audit", stdout=StringIO(), stderr=err)
    assert "row removed" in err.getvalue()


def _production_env(tmp_path: Path, **extra) -> dict:
    ring = tmp_path / "ring.json"
    ring.write_text(
        crypto.KeyRing.generate("prod-1")
        .with_epochs(epoch_ids_for_months(date.today(), 2))
        .to_json()
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "RECOURSE_"))}
    env.update(
        {
            "RECOURSE_ENV": "production",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_SECRET_KEY": "k" * 20 + "production-secret-9f8e7d6c5b4a3f2e1d0c",
            "DJANGO_ALLOWED_HOSTS": "recourse.example.org",
            "PUBLIC_BASE_URL": "https://recourse.example.org",
            "RECOURSE_KEYRING_FILE": str(ring),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
            "AUDIT_ANCHOR_FILE": str(tmp_path / "audit-anchors.log"),
        }
    )
    env.update(extra)
    return env


def _manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=django_settings.BASE_DIR,
        timeout=120,
    )


def test_production_settings_pass_check_deploy(tmp_path):
    result = _manage(_production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_warns_when_the_key_ring_has_no_epoch_key_for_this_month_or_the_next(tmp_path):
    env = _production_env(tmp_path)
    ring = crypto.KeyRing.from_json(Path(env["RECOURSE_KEYRING_FILE"]).read_text())
    this_month = epoch_ids_for_months(date.today(), 1)
    Path(env["RECOURSE_KEYRING_FILE"]).write_text(ring.without_epochs(this_month).to_json())
    result = _manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 1
    assert "recourse.W010" in result.stderr and this_month[0] in result.stderr


def test_check_deploy_warns_when_the_audit_head_is_anchored_nowhere(tmp_path):
    result = _manage(
        _production_env(tmp_path, AUDIT_ANCHOR_FILE=""),
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode != 0 and "recourse.W001" in result.stderr


def test_production_refuses_to_start_without_a_keyring(tmp_path):
    env = _production_env(tmp_path)
    del env["RECOURSE_KEYRING_FILE"]
    result = _manage(env, "check")
    assert result.returncode != 0
    assert "refuses to start without a key ring" in result.stderr


def test_production_refuses_an_unreadable_keyring(tmp_path):
    result = _manage(
        _production_env(tmp_path, RECOURSE_KEYRING_FILE=str(tmp_path / "missing.json")), "check"
    )
    assert result.returncode != 0
    assert "recourse.E001" in result.stderr


@pytest.mark.django_db
def test_rotation_reseals_what_the_server_reads_alone(settings, unit, sms, restore_keyring_cache):
    from intake.models import SmsConversation, SmsReporter

    set_ring(settings, "old", old=b"o" * 32)
    sms("TST1 they hit me")
    set_ring(settings, "new", old=b"o" * 32, new=b"n" * 32)
    call_command("rotate_keys", stdout=StringIO())
    set_ring(settings, "new", new=b"n" * 32)  # the old key is retired
    assert SmsReporter.objects.get().read_phone() == "+221770000001"
    assert SmsConversation.objects.get().read_draft() == "they hit me"


@pytest.mark.django_db
def test_models_and_migrations_are_in_step():
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())
