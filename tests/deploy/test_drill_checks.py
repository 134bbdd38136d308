"""The drill's verdict on deliveries (deploy/backup_drill.py), from the rows' states
before and after the restored worker ran and the rows the ledger backends recorded a
send of: a row sent twice, a row of the backup sent again, a send of a row not marked
sent, a row marked sent with no send, a due row left pending all fail it."""

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

NOTICE_1, NOTICE_2 = "notifications.notification:1", "notifications.notification:2"
TEXT_A, TEXT_B = "notifications.outboundsms:a", "notifications.outboundsms:b"
EMAIL_C = "notifications.outboundemail:c"


def row(id, status, attempts=0, sent_at=None, due=True):
    return {"id": id, "status": status, "attempts": attempts, "sent_at": sent_at, "due": due}


BEFORE = {
    "rows": {
        "notification": [row(NOTICE_1, "sent", 1, "t1"), row(NOTICE_2, "pending")],
        "sms": [row(TEXT_A, "sent", 1, "t1"), row(TEXT_B, "pending")],
        "email": [row(EMAIL_C, "pending", 2, due=False)],  # backing off: not due yet
    }
}
AFTER = {
    "rows": {
        "notification": [row(NOTICE_1, "sent", 1, "t1"), row(NOTICE_2, "sent", 1, "t2")],
        "sms": [row(TEXT_A, "sent", 1, "t1"), row(TEXT_B, "sent", 1, "t2")],
        "email": [row(EMAIL_C, "pending", 2, due=False)],
    }
}
SENDS = [NOTICE_2, TEXT_B]


def failures(before, after, sends) -> list[str]:
    report = backup_drill.Report()
    backup_drill.deliveries_ok(report, backup_drill.deliveries_compare(before, after, sends))
    return report.failures


def test_each_due_row_sent_once_and_nothing_else_passes():
    facts = backup_drill.deliveries_compare(BEFORE, AFTER, SENDS)
    assert facts["due"] == facts["resumed"] == 2
    assert facts["sent_before"] == 2 and facts["not_yet_due"] == 1
    assert failures(BEFORE, AFTER, SENDS) == []


def test_a_row_sent_twice_fails_even_when_the_total_looks_right():
    # Two sends of one text and none of the notice: counts per channel would not see it.
    assert failures(BEFORE, AFTER, [TEXT_B, TEXT_B]) == [
        "1 row(s) sent more than once",
        "1 row(s) marked sent with no send recorded",
    ]


def test_a_row_sent_before_the_backup_and_sent_again_fails():
    after = {
        "rows": {
            **AFTER["rows"],
            "notification": [row(NOTICE_1, "sent", 2, "t3"), row(NOTICE_2, "sent", 1, "t2")],
        }
    }
    assert failures(BEFORE, after, [*SENDS, NOTICE_1]) == [
        "1 row(s) sent before the backup changed",
        "1 send(s) of rows not newly sent",
    ]


def test_a_send_of_a_row_still_pending_fails():
    # The provider took it but the worker died before marking it: it would go again.
    assert failures(BEFORE, AFTER, [*SENDS, EMAIL_C]) == ["1 send(s) of rows not newly sent"]


@pytest.mark.parametrize("status", ["pending", "failed"])
def test_a_due_row_not_sent_fails(status):
    after = {"rows": {**AFTER["rows"], "sms": [AFTER["rows"]["sms"][0], row(TEXT_B, status, 5)]}}
    found = failures(BEFORE, after, SENDS[:1])
    assert found and all("row" in f for f in found)


def test_the_authenticator_code_is_rfc_6238():
    # RFC 6238's SHA-1 test vector at T = 59 s, last six digits.
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(backup_drill.time, "time", lambda: 59)
        assert backup_drill.totp_now(secret) == "287082"
