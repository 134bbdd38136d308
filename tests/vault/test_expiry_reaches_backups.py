"""Issue 17 §3's proof: expiry reaches backups. Dump the database, purge the expired
cases and destroy the epoch keys nobody needs any more; then, with the OLD dump, the
CURRENT key ring and a focal point's password (or the children's codes, or the unit's
recovery key), 0 expired cases open and every kept one does."""

import base64
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from complaints.models import Case
from policies.models import ChildProtectionPolicy
from tests.conftest import PASSWORD
from vault import crypto
from vault.cases import followup_code_check
from vault.epoch_calendar import epoch_ids_for_months
from vault.epochs import epochs_sweep
from vault.keys import recovery_key_create

from .test_epochs import file_case
from .thief import dump_database, thief


@pytest.fixture
def ring_file(settings, tmp_path):
    path = tmp_path / "ring.json"
    call_command("keyring_add", "--file", str(path), stdout=StringIO())
    ring = crypto.KeyRing.from_json(path.read_text())
    old_months = epoch_ids_for_months(datetime(2025, 1, 1).date(), 12)
    crypto.write_keyring_file(ring.with_epochs(old_months), path)
    settings.RECOURSE_KEYRING = ""
    settings.RECOURSE_KEYRING_FILE = str(path)
    yield path
    crypto._load_keyring.cache_clear()


@pytest.mark.django_db
def test_an_old_dump_opens_no_expired_case_once_its_epoch_key_is_destroyed(
    ring_file, unit, focal_point
):
    recovery_private = base64.b64decode(recovery_key_create(unit=unit))
    expired, kept, codes = [], [], {}
    for n in range(3):  # closed in February 2025, long past the unit's retention
        case, code = file_case(unit, f"Expired story {n}.")
        Case.objects.filter(pk=case.pk).update(
            status=Case.Status.CLOSED, closed_at=datetime(2025, 2, 10 + n, tzinfo=UTC)
        )
        expired.append(case.reference)
        codes[case.reference] = code
    for n in range(2):  # one open, one closed today
        case, code = file_case(unit, f"Kept story {n}.")
        if n:
            Case.objects.filter(pk=case.pk).update(
                status=Case.Status.CLOSED, closed_at=timezone.now()
            )
        kept.append(case.reference)
        codes[case.reference] = code
    epochs_sweep()
    children = {
        ref: followup_code_check(Case.objects.get(reference=ref), code)
        for ref, code in codes.items()
    }

    old_dump = dump_database()
    ring_then = ring_file.read_text()
    everyone = set(expired) | set(kept)
    assert thief(old_dump, ring_then, username="focal", password=PASSWORD) == everyone
    assert thief(old_dump, ring_then, reporter_privates=children) == everyone
    assert thief(old_dump, ring_then, recovery_private=recovery_private) == everyone

    # The daily purge removes the expired cases' keys and content (this unit keeps cases
    # a year after closing); then the operator destroys the epoch keys no kept case
    # needs.
    ChildProtectionPolicy.objects.filter(unit=unit).update(retention_days=365)
    out = StringIO()
    call_command("purge_expired", stdout=out)
    assert "Purged 3 case(s)" in out.getvalue()
    assert "epoch_keys_destroy" in out.getvalue()  # it tells the operator what is next
    out = StringIO()
    call_command("epoch_keys_destroy", "--file", str(ring_file), stdout=out)
    assert "closed-2025-02" in out.getvalue()
    ring_now = ring_file.read_text()

    assert thief(old_dump, ring_now) == set()  # no password: nothing, as before
    assert thief(old_dump, ring_now, username="focal", password=PASSWORD) == set(kept)
    assert thief(old_dump, ring_now, reporter_privates=children) == set(kept)
    assert thief(old_dump, ring_now, recovery_private=recovery_private) == set(kept)
    # And the database as it is now opens the kept ones the same way.
    assert thief(dump_database(), ring_now, username="focal", password=PASSWORD) == set(kept)
