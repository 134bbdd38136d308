from io import StringIO

import pytest
from django.core.management import call_command

from complaints.services import complaint_receive
from policies.models import Unit
from policies.selectors import unit_current_policy
from policies.services import policy_problems


@pytest.mark.django_db
def test_demo_data_is_ready_to_use_and_seeded_once(settings):
    settings.RECOURSE_ENV = "development"
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "DKR1: " in out.getvalue()  # recovery keys, shown once
    call_command("seed_demo", stdout=StringIO())  # a second run adds nothing
    units = Unit.objects.all()
    assert units.count() == 4
    assert sorted(units.values_list("sector", flat=True)) == [
        "deprivation_of_liberty",
        "oversight",
        "security",
        "social_services",
    ]
    oversight = units.get(sector="oversight")
    for unit in units:
        policy = unit_current_policy(unit)
        assert policy is not None and policy_problems(policy) == []
        assert policy.emergency_contacts and unit.recovery_public_key
        if unit != oversight:
            assert policy.oversight_unit == oversight
    # Dakar's focal points read French and Dakar's time, Spain's Spanish and Madrid's.
    from django.contrib.auth import get_user_model

    from policies.staff_locale import staff_locale_for

    for username, expected in {
        "focal.dkr1": ("fr", "Africa/Dakar"),
        "manager.cmj3": ("es", "Europe/Madrid"),
    }.items():
        locale = staff_locale_for(get_user_model().objects.get(username=username))
        assert (locale.language, locale.zone_name) == expected
    case = complaint_receive(
        unit=units.get(code="DKR1"),
        channel="web",
        language="fr",
        narrative="x",
        category="neglect",
        in_danger=False,
        about_staff_answer="no",
        contact_preference="none",
    ).case
    assert case.assignee.username == "focal.dkr1"
    out = StringIO()
    call_command("demo_logins", stdout=out)
    assert "focal.dkr1" in out.getvalue() and "recourse-demo-2026" in out.getvalue()


@pytest.mark.django_db
def test_a_unit_added_in_the_admin_shows_its_recovery_key_once(client, django_user_model):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.conftest import PASSWORD, staff_login

    root = django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    TOTPDevice.objects.create(user=root, name="phone", confirmed=True)
    staff_login(client, root)
    response = client.post(
        "/admin/policies/unit/add/",
        {
            "code": "new1",
            "name": "New unit",
            "sector": "justice",
            "default_language": "en",
            "time_zone": "Africa/Dakar",
            "is_active": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
        },
        follow=True,
    )
    assert "Recovery key of NEW1, shown this once" in response.content.decode()
    assert Unit.objects.get(code="NEW1").recovery_public_key
    assert "shown this once" not in client.get("/admin/policies/unit/").content.decode()
    # Never in a cookie on its way to the page, and its creation is on record.
    assert "messages" not in response.cookies and "messages" not in client.cookies
    from complaints.models import AuditEvent

    assert AuditEvent.objects.filter(
        action="complaints.keys.recovery_created", data__unit="NEW1"
    ).exists()


@pytest.mark.django_db
def test_the_demo_roster_lets_a_focal_point_mark_and_substantiate(settings, client):
    from django.urls import reverse
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from competencies.models import Competency, RetrainingAssignment, StaffMember
    from complaints.lifecycle import case_transition
    from complaints.models import CaseExclusion
    from policies.demo import DEMO_PASSWORD, seed_demo
    from tests.conftest import totp_now

    settings.RECOURSE_ENV = "development"
    call_command("load_frameworks", stdout=StringIO())
    seed_demo()
    for unit in Unit.objects.all():
        roster = StaffMember.objects.filter(unit=unit)
        assert roster.count() >= 3
        linked = set(roster.exclude(user=None).values_list("user__username", flat=True))
        code = unit.code.lower()
        assert linked == {f"focal.{code}", f"backup.{code}", f"manager.{code}"}
    dkr1 = Unit.objects.get(code="DKR1")
    case = complaint_receive(
        unit=dkr1,
        channel="web",
        language="fr",
        narrative="x",
        category="neglect",
        in_danger=False,
        about_staff_answer="yes",
        contact_preference="none",
    ).case
    focal = case.assignee
    for status in ("acknowledged", "assessing", "investigating"):
        case_transition(case=case, actor=focal, to_status=status)
    # The demo login as `make run` offers it: demo password, then the TOTP code.
    client.post(reverse("staff:login"), {"username": focal.username, "password": DEMO_PASSWORD})
    device = TOTPDevice.objects.get(user=focal, confirmed=True)
    client.post(reverse("staff:verify"), {"token": totp_now(device)})
    page = client.get(reverse("staff:case", args=[case.reference])).content.decode()
    assert 'id="roster-missing"' not in page and "Aminata Sow" in page
    agent = StaffMember.objects.get(unit=dkr1, name="Aminata Sow")
    backup = StaffMember.objects.get(unit=dkr1, user__username="backup.dkr1")
    response = client.post(
        reverse("staff:case_about", args=[case.reference]), {"about-staff_member": backup.pk}
    )
    assert response.status_code == 302
    assert CaseExclusion.objects.filter(case=case, user=backup.user).exists()
    competency = Competency.objects.filter(framework__sector=dkr1.sector).first()
    client.post(
        reverse("staff:case_substantiate", args=[case.reference]),
        {
            "substantiate-staff_member": agent.pk,
            "substantiate-reason": "Confirmed",
            f"substantiate-breach_{competency.pk}": ["skills"],
        },
    )
    assert RetrainingAssignment.objects.filter(staff_member=agent).count() == 1
