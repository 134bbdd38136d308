from io import StringIO

import pytest
from django.core.management import call_command

from complaints.services import complaint_receive
from policies.models import Unit
from policies.selectors import unit_current_policy
from policies.services import policy_problems


@pytest.mark.django_db
def test_demo_data_is_ready_to_use_and_seeded_once():
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())  # a second run adds nothing
    units = Unit.objects.all()
    assert units.count() == 4
    assert sorted(units.values_list("sector", flat=True)) == [
        "deprivation_of_liberty", "oversight", "security", "social_services"]
    oversight = units.get(sector="oversight")
    for unit in units:
        policy = unit_current_policy(unit)
        assert policy is not None and policy_problems(policy) == []
        assert unit.emergency_contacts
        if unit != oversight:
            assert policy.oversight_unit == oversight
    case = complaint_receive(unit=units.get(code="DKR1"), channel="web", language="fr",
                             narrative="x", category="neglect", in_danger=False,
                             about_staff=False, contact_preference="none").case
    assert case.assignee.username == "focal.dkr1"
    out = StringIO()
    call_command("demo_logins", stdout=out)
    assert "focal.dkr1" in out.getvalue() and "recourse-demo-2026" in out.getvalue()
