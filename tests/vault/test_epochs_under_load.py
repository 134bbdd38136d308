"""Issue 17 §3 under load: complaints keep arriving while the epoch changes (the key
ring gains this month's keys mid-burst, an unused old epoch key is destroyed, the sweep
moves closed cases under their closing month's epoch). No complaint is refused or lost,
and every one opens for its focal point and for the child. Real threads, each with its
own database connection; run on SQLite and on PostgreSQL."""

import threading
import time
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from complaints.models import Case
from tests.conftest import staff_reads
from vault import crypto
from vault.cases import case_messages_for_reporter, followup_code_check
from vault.epoch_calendar import epoch_ids_for_months
from vault.epochs import epochs_sweep
from vault.models import CaseKey

from .test_epochs import file_case

FILERS, CASES_EACH = 4, 6


def months_before(today: date, months: int) -> date:
    month_index = today.year * 12 + today.month - 1 - months
    return date(month_index // 12, month_index % 12 + 1, 1)


@pytest.fixture
def ring_without_this_month(settings, tmp_path):
    """A ring whose epoch keys end last month: the operator is late."""
    path = tmp_path / "ring.json"
    ring = crypto.KeyRing.generate("k1").with_epochs(
        epoch_ids_for_months(months_before(date.today(), 3), 3)
    )
    crypto.write_keyring_file(ring, path)
    settings.RECOURSE_KEYRING = ""
    settings.RECOURSE_KEYRING_FILE = str(path)
    yield path
    crypto._load_keyring.cache_clear()


@pytest.mark.django_db(transaction=True)
def test_complaints_filed_while_the_epoch_changes_are_all_kept_and_open(
    ring_without_this_month, unit, focal_point
):
    filed: list[tuple[str, str]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(FILERS + 1)

    def filer(n: int) -> None:
        try:
            start.wait(timeout=20)
            for i in range(CASES_EACH):
                case, code = file_case(unit, f"Story {n}-{i}.")
                with lock:
                    filed.append((case.reference, code))
                time.sleep(0.02)
        except BaseException as exc:  # reported below, not swallowed
            errors.append(exc)
        finally:
            connection.close()

    def operator() -> None:
        try:
            start.wait(timeout=20)
            time.sleep(0.05)
            call_command(
                "epoch_keys_add", "--file", str(ring_without_this_month), stdout=StringIO()
            )
            for _ in range(5):
                oldest = Case.objects.filter(closed_at__isnull=True).order_by("received_at")
                Case.objects.filter(pk__in=list(oldest.values_list("pk", flat=True)[:1])).update(
                    status=Case.Status.CLOSED, closed_at=timezone.now()
                )
                epochs_sweep()
                time.sleep(0.03)
            call_command(
                "epoch_keys_destroy", "--file", str(ring_without_this_month), stdout=StringIO()
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=filer, args=(n,)) for n in range(FILERS)]
    threads.append(threading.Thread(target=operator))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    epochs_sweep()

    assert len(filed) == Case.objects.count() == FILERS * CASES_EACH
    ring = crypto.get_keyring()
    this_month = epoch_ids_for_months(date.today(), 1)
    assert set(this_month) <= set(ring.epochs)
    # The oldest month's keys, which no case used, were destroyed mid-burst.
    assert not set(epoch_ids_for_months(months_before(date.today(), 3), 1)) & set(ring.epochs)
    used = set(CaseKey.objects.values_list("epoch", flat=True))
    assert "" not in used and used <= set(ring.epochs)
    assert any(epoch.startswith("closed-") for epoch in used)  # the sweep moved some
    for reference, code in filed:
        case = Case.objects.get(reference=reference)
        assert staff_reads(case, focal_point).narrative.startswith("Story ")
        assert (
            case_messages_for_reporter(case, reporter_private=followup_code_check(case, code)) == []
        )
