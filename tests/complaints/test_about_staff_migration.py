"""The migration from the old yes/no flag keeps the child's answer only where the flag
still tells it (complaints 0014), and existing policy versions keep routing both
answers as usual, as they were published (policies 0006)."""

import pytest

from tests.migrations import migrate, migrate_to_latest

BEFORE = [("complaints", "0013_no_server_copy"), ("policies", "0004_policy_emergency_contacts")]
AFTER = [
    ("complaints", "0014_case_about_staff_answer"),
    ("policies", "0006_policy_about_staff_rules"),
]


@pytest.mark.django_db(transaction=True)
def test_only_known_answers_are_carried_over():
    old = migrate(BEFORE)
    try:
        Unit = old.get_model("policies", "Unit")
        Policy = old.get_model("policies", "ChildProtectionPolicy")
        Case = old.get_model("complaints", "Case")
        StaffMember = old.get_model("competencies", "StaffMember")
        unit = Unit.objects.create(code="MIG1", name="Unit", sector="security")
        policy = Policy.objects.create(unit=unit, version=1)
        marked = StaffMember.objects.create(unit=unit, name="Marked by staff")

        def case(reference, channel, about_staff, member=None):
            return Case.objects.create(
                reference=reference,
                unit=unit,
                policy=policy,
                channel=channel,
                language="en",
                category="neglect",
                urgency="standard",
                about_staff=about_staff,
                about_staff_member=member,
                contact_preference="none",
                narrative=b"x",
                followup_code_hash="h",
            )

        case("YESWEB01", "web", True)  # the form's "yes"
        case("NOWEB001", "web", False)  # "no" or "I am not sure": not known
        case("SMS00001", "sms", False)  # never asked
        case("STAFF001", "web", True, marked)  # set by staff: the child's answer not known

        new = migrate(AFTER)
        answers = dict(
            new.get_model("complaints", "Case").objects.values_list(
                "reference", "about_staff_answer"
            )
        )
        assert answers == {"YESWEB01": "yes", "NOWEB001": "", "SMS00001": "", "STAFF001": ""}
        # A published version is never edited: it keeps routing both answers as usual.
        version = new.get_model("policies", "ChildProtectionPolicy").objects.get(pk=policy.pk)
        assert (version.about_staff_yes_rule, version.about_staff_unsure_rule) == ("usual", "usual")

        # And back: the flag is rebuilt from the answer and the marked person.
        old = migrate(BEFORE)
        flags = dict(
            old.get_model("complaints", "Case").objects.values_list("reference", "about_staff")
        )
        assert flags == {"YESWEB01": True, "NOWEB001": False, "SMS00001": False, "STAFF001": True}
    finally:
        migrate_to_latest()
