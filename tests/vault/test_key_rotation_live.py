"""Adding a key and rotating while the service runs: texts already sent, a second key
the same day, and web and worker processes that loaded the ring before the change."""

import os
import subprocess
import sys
from dataclasses import replace
from datetime import date
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection

from complaints.models import Case
from complaints.services import case_reply
from intake.models import SmsConversation, SmsReporter
from notifications.backends import locmem
from notifications.models import OutboundSms
from notifications.sms import sms_deliver, sms_queue
from tests.conftest import staff_reads
from vault import crypto

PHONE = "+221770000001"


@pytest.fixture
def ring_file(settings, tmp_path):
    """The production shape: the ring in a file (RECOURSE_KEYRING_FILE), not inline."""
    path = tmp_path / "ring.json"
    call_command("keyring_add", "--file", str(path), "--key-id", "first", stdout=StringIO())
    settings.RECOURSE_KEYRING = ""
    settings.RECOURSE_KEYRING_FILE = str(path)
    yield path
    crypto._load_keyring.cache_clear()


def retire(path, key_id):
    """What an operator does once rotation is done: the old key leaves the file."""
    ring = crypto.KeyRing.from_json(path.read_text())
    keys = {k: v for k, v in ring.keys.items() if k != key_id}
    crypto.write_keyring_file(replace(ring, keys=keys), path)  # epoch keys stay


@pytest.mark.django_db
def test_rotation_after_texts_were_sent_finishes_and_everything_still_opens(
    ring_file, sms, unit, focal_point
):
    for text in ("TST1 they hit me", "DONE", "2", "2"):
        sms(text)
    case = Case.objects.get()
    case_reply(case=case, actor=focal_point, body="We will call you.")
    sent = OutboundSms.objects.get()
    assert sms_deliver(sent.pk) == "sent"  # its sealed body is now empty (SENT_BODY)
    case_reply(case=case, actor=focal_point, body="Are you safe?")
    waiting = OutboundSms.objects.exclude(pk=sent.pk).get()
    sms("TST1 and again today")  # a new draft, sealed under the first key

    call_command("keyring_add", "--file", str(ring_file), "--key-id", "second", stdout=StringIO())
    call_command("rotate_keys", "--batch-size", "1", stdout=StringIO())
    call_command("rotate_keys", stdout=StringIO())  # a second run finds nothing left and ends
    retire(ring_file, "first")

    assert SmsReporter.objects.get().read_phone() == PHONE
    assert SmsConversation.objects.exclude(draft=None).get().read_draft() == "and again today"
    assert staff_reads(case, focal_point).narrative == "they hit me"
    assert bytes(OutboundSms.objects.get(pk=sent.pk).body) == b""
    assert sms_deliver(waiting.pk) == "sent"
    assert locmem.outbox[-1]["body"].endswith("Are you safe?")


def test_keyring_add_twice_the_same_day_adds_two_keys(tmp_path):
    path = tmp_path / "ring.json"
    for _ in range(3):
        call_command("keyring_add", "--file", str(path), stdout=StringIO())
    ring = crypto.KeyRing.from_json(path.read_text())
    today = date.today().isoformat()
    assert set(ring.keys) == {today, f"{today}-2", f"{today}-3"}
    assert ring.primary_id == f"{today}-3"


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return (
        f"postgresql://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


def _another_process(*args, ring_path):
    """An operator's shell: manage.py in its own process, on the same database and file."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": _database_url(),
        "RECOURSE_KEYRING": "",
        "RECOURSE_KEYRING_FILE": str(ring_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db(transaction=True)
def test_a_running_process_uses_a_key_added_and_rotated_elsewhere(ring_file, sms, unit):
    sms("TST1 they hit me")  # this process has loaded and used the ring (key "first")
    outbound = sms_queue(reporter=SmsReporter.objects.get(), body="We read your message.")

    _another_process(
        "keyring_add", "--file", str(ring_file), "--key-id", "second", ring_path=ring_file
    )
    _another_process("rotate_keys", ring_path=ring_file)

    # The worker sends a text re-sealed under a key it had not loaded.
    assert crypto.server_sealed_key_id(OutboundSms.objects.get(pk=outbound.pk).body) == "second"
    assert sms_deliver(outbound.pk) == "sent"
    assert locmem.outbox[-1] == {**locmem.outbox[-1], "to": PHONE, "body": "We read your message."}
    # And what this process seals from now on is under the new primary key.
    blob = crypto.server_seal("x", context=b"test")
    assert crypto.server_sealed_key_id(blob) == "second"

    retire(ring_file, "first")
    assert SmsReporter.objects.get().read_phone() == PHONE
