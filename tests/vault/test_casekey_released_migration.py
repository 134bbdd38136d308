"""complaints 0019: CaseKey.released_at goes. A copy never released was never readable
(every read asked for a released one), so it goes with the field; released copies stay."""

import pytest

from tests.migrations import migrate, migrate_to_latest

BEFORE = [("complaints", "0018_queue_index_until_closed")]
AFTER = [("complaints", "0019_casekey_without_released_at")]


@pytest.mark.django_db(transaction=True)
def test_held_back_copies_go_and_released_ones_stay():
    old = migrate(BEFORE)
    try:
        Unit = old.get_model("policies", "Unit")
        Policy = old.get_model("policies", "ChildProtectionPolicy")
        Case = old.get_model("complaints", "Case")
        CaseKey = old.get_model("complaints", "CaseKey")
        unit = Unit.objects.create(code="MIG2", name="Unit", sector="security")
        policy = Policy.objects.create(unit=unit, version=1)
        case = Case.objects.create(
            reference="RELEASE1",
            unit=unit,
            policy=policy,
            channel="web",
            language="en",
            category="neglect",
            urgency="standard",
            contact_preference="none",
            narrative=b"x",
            followup_code_hash="h",
        )
        CaseKey.objects.create(
            case=case,
            holder_kind="user",
            holder_id="1",
            wrapped_key=b"a",
            released_at="2026-12-01T10:00:00Z",
        )
        CaseKey.objects.create(
            case=case, holder_kind="user", holder_id="2", wrapped_key=b"b", released_at=None
        )

        new = migrate(AFTER)
        holders = set(
            new.get_model("complaints", "CaseKey").objects.values_list("holder_id", flat=True)
        )
        assert holders == {"1"}
    finally:
        migrate_to_latest()
