"""The drill's verdict on deliveries (deploy/backup_drill.py), from the rows' states
before and after the restored worker ran and the sends the file backends recorded: a
send too many, a row of the backup sent again, a due row left pending all fail it."""

import importlib.util
import sys
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location(
    "backup_drill", Path(__file__).resolve().parents[2] / "deploy" / "backup_drill.py"
)
backup_drill = importlib.util.module_from_spec(SPEC)
sys.modules["backup_drill"] = backup_drill  # dataclasses look their module up there
SPEC.loader.exec_module(backup_drill)


def row(id, status, attempts=0, sent_at=None, channel="email", due=True):
    return {
        "id": id,
        "status": status,
        "attempts": attempts,
        "sent_at": sent_at,
        "channel": channel,
        "due": due,
    }


BEFORE = {
    "rows": {
        "notification": [row("1", "sent", 1, "t1"), row("2", "pending")],
        "sms": [row("a", "sent", 1, "t1", "sms"), row("b", "pending", channel="sms")],
        "email": [row("c", "pending", 2, due=False)],  # backing off: not due yet
    }
}
AFTER = {
    "rows": {
        "notification": [row("1", "sent", 1, "t1"), row("2", "sent", 1, "t2")],
        "sms": [row("a", "sent", 1, "t1", "sms"), row("b", "sent", 1, "t2", "sms")],
        "email": [row("c", "pending", 2, due=False)],
    }
}
OUTBOX = [{"kind": "email"}, {"kind": "sms", "sid": "SMdrill1"}]


def failures(before, after, outbox) -> list[str]:
    report = backup_drill.Report()
    backup_drill.deliveries_ok(report, backup_drill.deliveries_compare(before, after, outbox))
    return report.failures


def test_each_due_row_sent_once_and_nothing_else_passes():
    facts = backup_drill.deliveries_compare(BEFORE, AFTER, OUTBOX)
    assert facts["due"] == facts["resumed"] == 2
    assert facts["sent_before"] == 2 and facts["not_yet_due"] == 1
    assert failures(BEFORE, AFTER, OUTBOX) == []


def test_a_send_recorded_twice_fails():
    assert failures(BEFORE, AFTER, [*OUTBOX, {"kind": "sms", "sid": "SMdrill2"}]) == [
        "2 sms send(s) recorded for 1 row(s) sent"
    ]


def test_a_row_sent_before_the_backup_and_sent_again_fails():
    after = {
        "rows": {
            **AFTER["rows"],
            "notification": [row("1", "sent", 2, "t3"), row("2", "sent", 1, "t2")],
        }
    }
    assert failures(BEFORE, after, [*OUTBOX, {"kind": "email"}]) == [
        "1 row(s) sent before the backup changed",
        "2 email send(s) recorded for 1 row(s) sent",
    ]


@pytest.mark.parametrize("status", ["pending", "failed"])
def test_a_due_row_not_sent_fails(status):
    after = {
        "rows": {
            **AFTER["rows"],
            "sms": [AFTER["rows"]["sms"][0], row("b", status, 5, None, "sms")],
        }
    }
    found = failures(BEFORE, after, OUTBOX[:1])
    assert found and all("row" in f for f in found)


def test_the_authenticator_code_is_rfc_6238():
    # RFC 6238's SHA-1 test vector at T = 59 s, last six digits.
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(backup_drill.time, "time", lambda: 59)
        assert backup_drill.totp_now(secret) == "287082"
