"""Issue 17 §3: every copy of a case's data key (staff, recovery, the child's) is also
sealed under an epoch key of the key ring; closed cases move under their closing
month's epoch; an epoch no kept case needs is destroyed from the key ring file, and from
then on nothing sealed under it opens, old dumps included."""

import base64
from datetime import UTC, date, datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from complaints.models import AuditEvent, Case
from tests.conftest import PASSWORD, complaint_filed, make_staff, staff_reads
from vault import crypto
from vault.cases import case_messages_for_reporter, case_secrets_forget, followup_code_check
from vault.epoch_calendar import epoch_id, epoch_ids_for_months
from vault.epochs import epochs_destroyable, epochs_sweep
from vault.keys import recovery_grant, recovery_key_create, user_copy
from vault.models import CaseEpoch, CaseKey

THIS_MONTH_OPEN = epoch_id("open", timezone.now().astimezone(UTC))


def file_case(unit, narrative="The guard pushed me."):
    receipt = complaint_filed(unit, narrative=narrative)
    return receipt.case, receipt.followup_code


def close(case, when: datetime) -> None:
    Case.objects.filter(pk=case.pk).update(status=Case.Status.CLOSED, closed_at=when)


def epochs_of_copies(case) -> set[str]:
    return {
        crypto.wrapped_key_epoch(k.wrapped_key) for k in CaseKey.objects.filter(case=case)
    } | set(CaseKey.objects.filter(case=case).values_list("epoch", flat=True))


@pytest.fixture
def ring_file(settings, tmp_path):
    """The production shape: a key ring file (made by keyring_add, with epoch keys for
    24 months from now), plus epoch keys for 2025, when the old cases below closed."""
    path = tmp_path / "ring.json"
    call_command("keyring_add", "--file", str(path), stdout=StringIO())
    ring = crypto.KeyRing.from_json(path.read_text())
    crypto.write_keyring_file(ring.with_epochs(epoch_ids_for_months(date(2025, 1, 1), 12)), path)
    settings.RECOURSE_KEYRING = ""
    settings.RECOURSE_KEYRING_FILE = str(path)
    yield path
    crypto._load_keyring.cache_clear()


def test_every_copy_of_a_new_case_is_under_this_months_open_epoch(unit, focal_point):
    recovery_private = base64.b64decode(recovery_key_create(unit=unit))
    case, code = file_case(unit)
    kinds = set(CaseKey.objects.filter(case=case).values_list("holder_kind", flat=True))
    assert kinds == {"user", "recovery", "reporter"}
    assert epochs_of_copies(case) == {THIS_MONTH_OPEN}
    assert list(CaseEpoch.objects.filter(case=case).values_list("epoch", "current")) == [
        (THIS_MONTH_OPEN, True)
    ]
    # Each holder still opens their copy: the focal point, the child, the recovery key.
    assert staff_reads(case, focal_point).narrative == "The guard pushed me."
    reporter_private = followup_code_check(case, code)
    assert case_messages_for_reporter(case, reporter_private=reporter_private) == []
    late = make_staff(type(focal_point), "late", unit, "focal_point")
    CaseKey.objects.filter(case=case, holder_id=str(late.pk)).delete()
    assert recovery_grant(unit=unit, recovery_private_key=recovery_private) >= 1
    assert staff_reads(case, late).narrative == "The guard pushed me."


def test_a_closed_case_moves_under_its_closing_months_epoch_and_still_opens(unit, focal_point):
    case, code = file_case(unit)
    close(case, datetime(2026, 3, 31, 23, 59, tzinfo=UTC))
    result = epochs_sweep()
    assert result.moved_to_closed == 1
    assert result.resealed == CaseKey.objects.filter(case=case).count() == 2
    assert epochs_of_copies(case) == {"closed-2026-03"}
    # Both epochs stay on record: backups taken while it was open hold the open one.
    assert set(CaseEpoch.objects.filter(case=case).values_list("epoch", "current")) == {
        (THIS_MONTH_OPEN, False),
        ("closed-2026-03", True),
    }
    assert staff_reads(case, focal_point).narrative == "The guard pushed me."
    assert case_messages_for_reporter(case, reporter_private=followup_code_check(case, code)) == []
    assert epochs_sweep().resealed == 0  # nothing left to do


def test_copies_made_without_an_epoch_get_one_and_still_open(unit, focal_point):
    """Cases filed before epochs existed (or while the ring had none)."""
    case, _code = file_case(unit)
    for copy in CaseKey.objects.filter(case=case):
        # What an old copy looks like: the person's wrapping only.
        inner = crypto._epoch_open(
            bytes(copy.wrapped_key),
            crypto._to_public_context(case.id, f"{copy.holder_kind}:{copy.holder_id}")
            if copy.holder_kind != "reporter"
            else crypto._to_public_context(case.id, "reporter"),
        )
        CaseKey.objects.filter(pk=copy.pk).update(wrapped_key=inner, epoch="")
    CaseEpoch.objects.filter(case=case).delete()
    assert staff_reads(case, focal_point).narrative == "The guard pushed me."

    result = epochs_sweep()
    assert result.started == 1 and result.resealed == CaseKey.objects.filter(case=case).count()
    assert epochs_of_copies(case) == {THIS_MONTH_OPEN}
    assert staff_reads(case, focal_point).narrative == "The guard pushed me."


def test_a_copy_granted_from_a_stale_read_opens_and_holds_its_epoch_back(unit, focal_point):
    """A grant that read the case's epoch just before the sweep moved it writes its copy
    under the old epoch: the copy opens, and the old epoch (on the case's record) is not
    destroyable while the case is kept."""
    case, _code = file_case(unit)
    data_key = crypto.unwrap_data_key_with_private(
        CaseKey.objects.get(case=case, holder_id=str(focal_point.pk)).wrapped_key,
        crypto.unwrap_private_key(focal_point.staff_key.wrapped_private_key, PASSWORD),
        case_id=case.id,
        holder=f"user:{focal_point.pk}",
    )
    close(case, datetime(2025, 2, 10, tzinfo=UTC))
    epochs_sweep()
    late = make_staff(type(focal_point), "late", unit, "focal_point")
    CaseKey.objects.filter(case=case, holder_id=str(late.pk)).delete()
    stale = user_copy(
        case_id=case.id,
        user_id=late.pk,
        data_key=data_key,
        public_key=late.staff_key.public_key,
        epoch=THIS_MONTH_OPEN,
    )
    stale.save()
    assert staff_reads(case, late).narrative == "The guard pushed me."
    ring_ids = sorted(crypto.get_keyring().epochs)
    assert THIS_MONTH_OPEN not in epochs_destroyable(ring_ids, today=date(2099, 1, 1))
    case_secrets_forget([case.pk])
    assert THIS_MONTH_OPEN in epochs_destroyable(ring_ids, today=date(2099, 1, 1))


def test_an_epoch_is_destroyable_only_when_every_case_it_ever_held_is_purged(unit):
    kept, _ = file_case(unit)
    gone, _ = file_case(unit)
    for case in (kept, gone):
        close(case, datetime(2025, 2, 10, tzinfo=UTC))
    epochs_sweep()
    ring_ids = sorted(crypto.get_keyring().epochs)
    today = date(2026, 12, 3)
    assert "closed-2025-02" not in epochs_destroyable(ring_ids, today=today)

    case_secrets_forget([gone.pk])
    assert "closed-2025-02" not in epochs_destroyable(ring_ids, today=today)  # `kept` holds it
    case_secrets_forget([kept.pk])
    doomed = epochs_destroyable(ring_ids, today=today)
    assert "closed-2025-02" in doomed
    # Never this month's, a month that ended less than a week ago, nor the newest key of a
    # family (new copies fall back to it when the ring runs out).
    assert THIS_MONTH_OPEN not in doomed
    assert "closed-2026-11" not in epochs_destroyable(ring_ids, today=date(2026, 12, 3))
    assert "closed-2026-11" in epochs_destroyable(ring_ids, today=date(2026, 12, 8))
    assert max(e for e in ring_ids if e.startswith("open-")) not in doomed


def test_epoch_keys_add_and_destroy_commands(ring_file, unit):
    out = StringIO()
    call_command("epoch_keys_add", "--file", str(ring_file), stdout=out)
    assert "0 epoch keys added" in out.getvalue()  # keyring_add made them already
    call_command("epoch_keys_add", "--file", str(ring_file), "--months", "30", stdout=out)
    assert "12 epoch keys added" in out.getvalue()

    case, _ = file_case(unit)
    close(case, datetime(2025, 2, 10, tzinfo=UTC))
    epochs_sweep()
    before = crypto.KeyRing.from_json(ring_file.read_text())
    out = StringIO()
    call_command("epoch_keys_destroy", "--file", str(ring_file), "--dry-run", stdout=out)
    assert "closed-2025-02" not in out.getvalue()  # the case is kept
    assert "open-2025-02" in out.getvalue()  # no case was ever under it
    assert crypto.KeyRing.from_json(ring_file.read_text()).epochs == before.epochs

    case_secrets_forget([case.pk])
    out = StringIO()
    call_command("epoch_keys_destroy", "--file", str(ring_file), stdout=out)
    after = crypto.KeyRing.from_json(ring_file.read_text())
    assert "closed-2025-02" in out.getvalue() and "closed-2025-02" not in after.epochs
    assert set(after.epochs) < set(before.epochs)
    assert after.keys == before.keys and after.index_key == before.index_key
    event = AuditEvent.objects.get(action="vault.epochs.destroyed")
    assert "closed-2025-02" in event.data["epochs"]


def test_a_ring_without_this_months_key_files_under_the_newest_and_without_any_still_files(
    settings, unit, focal_point, caplog
):
    ring = crypto.KeyRing.generate("k1").with_epochs(["open-2025-01", "open-2025-02"])
    settings.RECOURSE_KEYRING = ring.to_json()
    try:
        case, _ = file_case(unit)
        assert epochs_of_copies(case) == {"open-2025-02"}
        assert "no epoch key" in caplog.text and "The guard" not in caplog.text

        settings.RECOURSE_KEYRING = crypto.KeyRing.generate("k1").to_json()  # none at all
        bare, _ = file_case(unit)
        assert set(CaseKey.objects.filter(case=bare).values_list("epoch", flat=True)) == {""}
        assert not CaseEpoch.objects.filter(case=bare).exists()
        assert staff_reads(bare, focal_point).narrative == "The guard pushed me."
        assert epochs_sweep().started == 0  # still no key to put them under

        settings.RECOURSE_KEYRING = ring.with_epochs([THIS_MONTH_OPEN]).to_json()
        assert epochs_sweep().started == 1
        assert epochs_of_copies(bare) == {THIS_MONTH_OPEN}
        assert staff_reads(bare, focal_point).narrative == "The guard pushed me."
    finally:
        crypto._load_keyring.cache_clear()


def test_the_epoch_commands_refuse_a_missing_key_ring_file_clearly(tmp_path):
    for command in ("epoch_keys_add", "epoch_keys_destroy"):
        with pytest.raises(CommandError, match="cannot read the key ring file"):
            call_command(command, "--file", str(tmp_path / "nowhere.json"), stdout=StringIO())
