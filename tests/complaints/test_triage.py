import pytest
from django.urls import reverse

from competencies.models import StaffMember
from complaints.models import AuditEvent, Case, CaseExclusion
from complaints.services import complaint_receive
from complaints.triage import case_mark_about_staff, case_recuse
from policies.models import ChildProtectionPolicy, Membership, Unit
from tests.conftest import make_staff, make_unit, staff_reads


@pytest.fixture
def oversight(db, django_user_model):
    unit = make_unit("NCRC", sector=Unit.Sector.OVERSIGHT)
    make_staff(django_user_model, "ombud", unit, Membership.Role.FOCAL_POINT)
    return unit


@pytest.fixture
def second_focal(django_user_model, unit):
    return make_staff(django_user_model, "focal2", unit, Membership.Role.FOCAL_POINT)


def receive(unit):
    return complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative="He hit me.",
        category="physical_violence",
        in_danger=False,
        about_staff_answer="yes",
        contact_preference="none",
    ).case


def set_oversight(unit, oversight):
    ChildProtectionPolicy.objects.filter(unit=unit).update(oversight_unit=oversight)


CASE_URLS = ["staff:case", "staff:case_status", "staff:case_about", "staff:case_recuse"]


@pytest.mark.django_db
def test_complaint_about_a_focal_point_never_reaches_them(
    staff_client, unit, focal_point, second_focal
):
    case = receive(unit)
    subject = StaffMember.objects.create(unit=unit, name="Officer Diallo", user=second_focal)
    case_mark_about_staff(case=case, actor=focal_point, staff_member=subject)
    case.refresh_from_db()
    assert case.assignee == focal_point
    assert CaseExclusion.objects.filter(case=case, user=second_focal, reason="subject").exists()
    client = staff_client(second_focal)
    assert case.display_reference not in client.get(reverse("staff:queue")).content.decode()
    for name in CASE_URLS:
        assert client.post(reverse(name, args=[case.reference]), {"reason": "x"}).status_code == 404
    assert not AuditEvent.objects.filter(
        action="complaints.case.decrypted", actor=second_focal
    ).exists()


@pytest.mark.django_db
def test_complaint_about_the_manager_goes_to_oversight(unit, focal_point, manager, oversight):
    set_oversight(unit, oversight)
    case = receive(unit)
    subject = StaffMember.objects.create(unit=unit, name="The chief", user=manager)
    case = case_mark_about_staff(case=case, actor=focal_point, staff_member=subject)
    assert case.handling_unit == oversight and case.assignee.username == "ombud"
    assert not Case.objects.filter(pk=case.pk, handling_unit=unit).exists()
    assert any("manager" in r for r in case.routing["reasons"])


@pytest.mark.django_db
def test_recusal_reroutes_at_once_and_the_recused_loses_access(
    staff_client, unit, focal_point, second_focal
):
    case = receive(unit)
    first = case.assignee
    other = second_focal if first == focal_point else focal_point
    client = staff_client(first)
    response = client.post(
        reverse("staff:case_recuse", args=[case.reference]), {"reason": "He is my cousin"}
    )
    assert response["Location"] == reverse("staff:queue")
    case.refresh_from_db()
    assert case.assignee == other
    assert client.get(reverse("staff:case", args=[case.reference])).status_code == 404
    assert AuditEvent.objects.filter(action="complaints.case.rerouted").exists()


@pytest.mark.django_db
def test_recusal_needs_a_reason(unit, focal_point):
    case = receive(unit)
    with pytest.raises(Exception, match="why"):
        case_recuse(case=case, actor=focal_point, reason=" ")
    assert not CaseExclusion.objects.exists()


@pytest.mark.django_db
def test_only_the_units_roster_can_be_marked(unit, other_unit, focal_point):
    case = receive(unit)
    stranger = StaffMember.objects.create(unit=other_unit, name="Someone else")
    with pytest.raises(Exception, match="roster"):
        case_mark_about_staff(case=case, actor=focal_point, staff_member=stranger)


@pytest.mark.django_db
def test_new_cases_go_to_the_least_loaded_focal_point(unit, focal_point, second_focal):
    assignees = [receive(unit).assignee for _ in range(4)]
    assert sorted(a.username for a in assignees) == ["focal", "focal", "focal2", "focal2"]


@pytest.mark.django_db
def test_a_recusal_reason_is_kept_encrypted_not_in_the_history_or_audit(
    unit, focal_point, second_focal
):
    from complaints.models import CaseEvent, Message

    case = receive(unit)
    case_recuse(case=case, actor=focal_point, reason="Cousin of Officer Diallo")
    assert not CaseEvent.objects.filter(reason__contains="Diallo").exists()
    assert not AuditEvent.objects.filter(data__icontains="Diallo").exists()
    assert b"Diallo" not in bytes(Message.objects.get(author_kind="note").body)
    content = staff_reads(case, second_focal)
    assert [m.body for m in content.messages] == ["Recused: Cousin of Officer Diallo"]
