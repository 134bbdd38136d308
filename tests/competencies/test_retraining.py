from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from competencies.models import Competency, CompetencyFramework, RetrainingAssignment, StaffMember
from competencies.services import (
    Breach,
    case_substantiate,
    retraining_complete,
    retraining_overdue_sweep,
    sector_competencies,
)
from complaints.lifecycle import TransitionRefused, case_transition
from complaints.models import Case
from complaints.services import ComplaintError, complaint_receive
from notifications.models import Notification

CANARY = "canary-retraining-7f3a"


@pytest.fixture
def investigating(unit, focal_point):
    case = complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative=f"The officer slapped me. {CANARY}",
        category="physical_violence",
        in_danger=False,
        about_staff_answer="yes",
        contact_preference="none",
    ).case
    for status in ("acknowledged", "assessing", "investigating"):
        case_transition(case=case, actor=focal_point, to_status=status)
    case.refresh_from_db()
    return case


@pytest.fixture
def officer(unit):
    return StaffMember.objects.create(
        unit=unit,
        name="Officer Ndiaye",
        role_title="Desk officer",
        in_service_since=date(2015, 3, 1),
    )


def test_four_frameworks_with_27_competencies_are_loaded(db):
    assert CompetencyFramework.objects.count() == 4
    assert Competency.objects.count() == 27
    call_command("load_frameworks", stdout=StringIO())  # idempotent
    assert Competency.objects.count() == 27


@pytest.mark.django_db
def test_renamed_or_retired_competency_keeps_history(investigating, focal_point, officer):
    competency = sector_competencies(investigating.unit).first()
    original = competency.title
    case_substantiate(
        case=investigating,
        actor=focal_point,
        staff_member=officer,
        reason="Confirmed",
        breaches=[Breach(competency, ("skills",))],
    )
    Competency.objects.filter(pk=competency.pk).update(title="Renamed locally", is_active=False)
    call_command("load_frameworks", stdout=StringIO())
    competency.refresh_from_db()
    assert (competency.title, competency.is_active) == ("Renamed locally", False)
    assert RetrainingAssignment.objects.get().competency_title == original


@pytest.mark.django_db
def test_substantiation_without_a_competency_is_refused(investigating, focal_point, officer):
    with pytest.raises(ComplaintError, match="at least one"):
        case_substantiate(
            case=investigating,
            actor=focal_point,
            staff_member=officer,
            breaches=[],
            reason="Confirmed",
        )
    with pytest.raises(TransitionRefused, match="competencies"):
        case_transition(
            case=investigating, actor=focal_point, to_status="substantiated", reason="r"
        )
    assert Case.objects.get().status == "investigating"
    assert not RetrainingAssignment.objects.exists()


@pytest.mark.django_db
def test_a_competency_of_another_sector_or_no_facet_is_refused(investigating, focal_point, officer):
    foreign = Competency.objects.exclude(framework__sector=investigating.unit.sector).first()
    with pytest.raises(ComplaintError, match="sector framework"):
        case_substantiate(
            case=investigating,
            actor=focal_point,
            staff_member=officer,
            breaches=[Breach(foreign, ("skills",))],
            reason="r",
        )
    own = sector_competencies(investigating.unit).first()
    with pytest.raises(ComplaintError, match="facets"):
        case_substantiate(
            case=investigating,
            actor=focal_point,
            staff_member=officer,
            breaches=[Breach(own, ())],
            reason="r",
        )


@pytest.mark.django_db
def test_each_breach_creates_exactly_one_assignment(investigating, focal_point, officer, manager):
    first, second = sector_competencies(investigating.unit)[:2]
    assignments = case_substantiate(
        case=investigating,
        actor=focal_point,
        staff_member=officer,
        reason="Confirmed",
        breaches=[Breach(first, ("skills", "attributes")), Breach(second, ("knowledge",))],
    )
    assert RetrainingAssignment.objects.count() == 2 == len(assignments)
    a = RetrainingAssignment.objects.get(competency=first)
    assert a.facets == ["attributes", "skills"]
    assert a.training_level == "professional_development"  # in service since 2015
    assert a.due_date == timezone.localdate() + timedelta(
        days=investigating.policy.retraining_due_days
    )
    assert a.case_reference == investigating.reference
    assert Notification.objects.filter(recipient=manager, kind="retraining").count() == 1
    assert Case.objects.get().status == "substantiated"


@pytest.mark.django_db
def test_new_hire_gets_basic_training(investigating, focal_point, unit):
    new_hire = StaffMember.objects.create(
        unit=unit, name="Recruit", in_service_since=timezone.localdate() - timedelta(days=30)
    )
    case_substantiate(
        case=investigating,
        actor=focal_point,
        staff_member=new_hire,
        reason="r",
        breaches=[Breach(sector_competencies(unit).first(), ("knowledge",))],
    )
    assert RetrainingAssignment.objects.get().training_level == "basic"


@pytest.mark.django_db
def test_below_expectations_opens_a_follow_up(investigating, focal_point, officer, manager):
    case_substantiate(
        case=investigating,
        actor=focal_point,
        staff_member=officer,
        reason="r",
        breaches=[Breach(sector_competencies(investigating.unit).first(), ("knowledge", "skills"))],
    )
    assignment = RetrainingAssignment.objects.get()
    follow_up = retraining_complete(
        assignment=assignment,
        actor=manager,
        evaluation={"knowledge": "meets_expectations", "skills": "below_expectations"},
    )
    assert follow_up.follow_up_of == assignment and follow_up.facets == ["skills"]
    assert (
        retraining_complete(
            assignment=follow_up, actor=manager, evaluation={"skills": "satisfactory"}
        )
        is None
    )
    with pytest.raises(ComplaintError):
        retraining_complete(
            assignment=assignment,
            actor=manager,
            evaluation={"knowledge": "satisfactory", "skills": "satisfactory"},
        )


@pytest.mark.django_db
def test_overdue_retraining_reaches_the_manager_once(investigating, focal_point, officer, manager):
    case_substantiate(
        case=investigating,
        actor=focal_point,
        staff_member=officer,
        reason="r",
        breaches=[Breach(sector_competencies(investigating.unit).first(), ("skills",))],
    )
    later = timezone.now() + timedelta(days=investigating.policy.retraining_due_days + 2)
    assert retraining_overdue_sweep(now=later) == 1
    assert retraining_overdue_sweep(now=later) == 0
    assert Notification.objects.filter(kind="retraining_overdue", recipient=manager).count() == 1


@pytest.mark.django_db
def test_manager_pages_and_notices_never_carry_the_childs_words(
    staff_client, investigating, focal_point, officer, manager
):
    from django.core import mail

    from notifications.services import notification_deliver

    fp = staff_client(focal_point)
    competency = sector_competencies(investigating.unit).first()
    response = fp.post(
        reverse("staff:case_substantiate", args=[investigating.reference]),
        {
            "substantiate-staff_member": officer.pk,
            "substantiate-reason": "Two witnesses",
            f"substantiate-breach_{competency.pk}": ["skills"],
        },
    )
    assert response.status_code == 302
    assert RetrainingAssignment.objects.count() == 1
    fp.logout()
    for notification in Notification.objects.all():
        notification_deliver(notification.pk)
    client = staff_client(manager)
    pages = [
        client.get(reverse(name, args=[investigating.unit.code])).content.decode()
        for name in ("competencies:retraining", "competencies:roster")
    ]
    assert investigating.display_reference[:4] in pages[0] and "Officer Ndiaye" in pages[0]
    for text in pages + [m.subject + m.body for m in mail.outbox]:
        assert CANARY not in text and "slapped" not in text
    assert any(investigating.display_reference in m.subject for m in mail.outbox)


@pytest.mark.django_db
def test_manager_keeps_the_roster_and_records_completion(
    staff_client, unit, manager, focal_point, investigating, officer
):
    client = staff_client(manager)
    client.post(
        reverse("competencies:roster", args=[unit.code]),
        {
            "name": "Sgt. Faye",
            "role_title": "Guard",
            "in_service_since": "2020-01-01",
            "is_active": "on",
        },
    )
    assert StaffMember.objects.filter(unit=unit, name="Sgt. Faye").exists()
    case_substantiate(
        case=investigating,
        actor=focal_point,
        staff_member=officer,
        reason="r",
        breaches=[Breach(sector_competencies(unit).first(), ("attributes",))],
    )
    assignment = RetrainingAssignment.objects.get()
    client.post(
        reverse("competencies:retraining_complete", args=[unit.code, assignment.pk]),
        {f"a{assignment.pk}-attributes": "below_expectations"},
    )
    assignment.refresh_from_db()
    assert assignment.status == "completed" and assignment.follow_ups.count() == 1


@pytest.mark.django_db
def test_other_units_manager_gets_404(staff_client, unit, other_unit, django_user_model):
    from policies.models import Membership
    from tests.conftest import make_staff

    stranger = make_staff(django_user_model, "mgr2", other_unit, Membership.Role.MANAGER)
    client = staff_client(stranger)
    for name in ("competencies:roster", "competencies:retraining"):
        assert client.get(reverse(name, args=[unit.code])).status_code == 404
