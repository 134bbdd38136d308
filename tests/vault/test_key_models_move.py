"""complaints 0020 + vault 0001: CaseKey, StaffKey and ReaderApproval change app, not
table. Every row written before the move is read after it by the vault's models, and
their content types (what permissions point at) move with them."""

import pytest
from django.contrib.contenttypes.models import ContentType

from tests.migrations import migrate, migrate_to_latest

BEFORE = [("complaints", "0019_casekey_without_released_at")]


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_move_are_the_vaults_after_it(django_user_model):
    old = migrate(BEFORE)
    try:
        Unit = old.get_model("policies", "Unit")
        Policy = old.get_model("policies", "ChildProtectionPolicy")
        Case = old.get_model("complaints", "Case")
        User = old.get_model("auth", "User")
        unit = Unit.objects.create(code="MOV1", name="Unit", sector="security")
        policy = Policy.objects.create(unit=unit, version=1)
        case = Case.objects.create(
            reference="MOVEKEY1",
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
        reader, approver = (User.objects.create(username=n) for n in ("reader", "approver"))
        old.get_model("complaints", "CaseKey").objects.create(
            case=case, holder_kind="user", holder_id=str(reader.pk), wrapped_key=b"copy"
        )
        old.get_model("complaints", "StaffKey").objects.create(
            user=reader, public_key=b"p" * 32, wrapped_private_key=b"w"
        )
        old.get_model("complaints", "ReaderApproval").objects.create(
            unit=unit, user=reader, approved_by=approver
        )
        ContentType.objects.get_or_create(app_label="complaints", model="casekey")
        ContentType.objects.filter(app_label="vault").delete()

        migrate_to_latest()

        from vault.models import CaseKey, ReaderApproval, StaffKey

        copy = CaseKey.objects.get()
        assert (copy.case.reference, bytes(copy.wrapped_key)) == ("MOVEKEY1", b"copy")
        assert StaffKey.objects.get().user.username == "reader"
        assert ReaderApproval.objects.get().approved_by.username == "approver"
        assert ContentType.objects.get_for_model(CaseKey).app_label == "vault"
        assert not ContentType.objects.filter(app_label="complaints", model="casekey").exists()
    finally:
        migrate_to_latest()
