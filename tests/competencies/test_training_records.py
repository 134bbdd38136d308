"""Issue 16 §1: a roster member's competency record. Managers add training and
evaluations; the record shows retraining by case reference only."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from competencies.models import (
    Evaluation,
    RetrainingAssignment,
    StaffMember,
    TrainingLevel,
    TrainingRecord,
)
from competencies.services import sector_competencies
from complaints.models import AuditEvent
from complaints.services import complaint_receive
from policies.models import Membership
from tests.conftest import make_staff

CANARY = "canary-record-5b1e"


@pytest.fixture
def member(unit):
    return StaffMember.objects.create(
        unit=unit, name="Awa Diop", role_title="Officer", in_service_since=date(2020, 1, 1)
    )


def record_url(member):
    return reverse("competencies:staff_record", args=[member.unit.code, member.pk])


def training_post(competency, **overrides):
    data = {
        "add": "training",
        "training-competency": competency.pk,
        "training-level": "basic",
        "training-completed_on": "2026-03-14",
        "training-provider": "National police school",
        "training-evidence": "C-1234",
    }
    return {**data, **overrides}


def evaluation_post(competency, **overrides):
    data = {
        "add": "evaluation",
        "evaluation-competency": competency.pk,
        "evaluation-facet": "skills",
        "evaluation-rating": "below_expectations",
        "evaluation-evaluated_on": "2026-04-02",
        "evaluation-evaluator": "Chief trainer",
        "evaluation-level": "",
    }
    return {**data, **overrides}


@pytest.mark.django_db
def test_a_manager_records_a_training_and_sees_it_on_the_record(
    member, manager, staff_client, unit
):
    competency = sector_competencies(unit).first()
    client = staff_client(manager)
    response = client.post(record_url(member), training_post(competency))
    assert response.status_code == 302
    record = TrainingRecord.objects.get()
    assert (record.staff_member, record.competency, record.level) == (member, competency, "basic")
    assert (record.completed_on, record.provider, record.evidence) == (
        date(2026, 3, 14),
        "National police school",
        "C-1234",
    )
    assert record.entered_by == manager and record.source == "entered"
    page = client.get(record_url(member)).content.decode()
    assert "National police school" in page and "2026-03-14" in page
    event = AuditEvent.objects.get(action="competencies.training.recorded")
    assert event.data == {
        "staff_member": member.pk,
        "competency": competency.number,
        "level": "basic",
    }


@pytest.mark.django_db
def test_a_future_date_or_a_missing_provider_is_refused_and_nothing_is_recorded(
    member, manager, staff_client, unit
):
    competency = sector_competencies(unit).first()
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    client = staff_client(manager)
    response = client.post(
        record_url(member), training_post(competency, **{"training-completed_on": tomorrow})
    )
    assert (
        response.status_code == 400 and "This date is in the future." in response.content.decode()
    )
    response = client.post(
        record_url(member), training_post(competency, **{"training-provider": ""})
    )
    assert response.status_code == 400
    assert not TrainingRecord.objects.exists()


@pytest.mark.django_db
def test_below_expectations_proposes_the_level_from_time_in_service(
    member, manager, staff_client, unit
):
    competency = sector_competencies(unit).first()
    client = staff_client(manager)
    client.post(record_url(member), evaluation_post(competency))
    # In service since 2020: professional development, not basic training.
    evaluation = Evaluation.objects.get()
    assert evaluation.proposed_level == TrainingLevel.PROFESSIONAL_DEVELOPMENT
    assert evaluation.evaluator == "Chief trainer" and evaluation.facet == "skills"
    client.post(
        record_url(member),
        evaluation_post(competency, **{"evaluation-level": "specialised"}),
    )
    assert Evaluation.objects.order_by("-id").first().proposed_level == "specialised"
    # Any other rating plans no training, whatever level was chosen.
    client.post(
        record_url(member),
        evaluation_post(
            competency,
            **{"evaluation-rating": "meets_expectations", "evaluation-level": "basic"},
        ),
    )
    assert Evaluation.objects.order_by("-id").first().proposed_level == ""
    page = client.get(record_url(member)).content.decode()
    assert "Below expectations" in page and "Professional development" in page


@pytest.mark.django_db
def test_a_new_hire_below_expectations_is_proposed_basic_training(manager, staff_client, unit):
    newcomer = StaffMember.objects.create(
        unit=unit, name="Moussa Ba", in_service_since=timezone.localdate() - timedelta(days=60)
    )
    competency = sector_competencies(unit).first()
    staff_client(manager).post(record_url(newcomer), evaluation_post(competency))
    assert Evaluation.objects.get().proposed_level == TrainingLevel.BASIC


@pytest.mark.django_db
def test_the_record_shows_retraining_by_reference_and_no_case_words(
    member, manager, staff_client, unit
):
    competency = sector_competencies(unit).first()
    case = complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative=f"Awa Diop slapped me. {CANARY}",
        category="physical_violence",
        in_danger=False,
        about_staff_answer="yes",
        contact_preference="none",
    ).case
    RetrainingAssignment.objects.create(
        staff_member=member,
        competency=competency,
        competency_title=competency.title,
        facets=["skills"],
        training_level="specialised",
        due_date=date(2026, 9, 1),
        case_reference=case.reference,
    )
    page = staff_client(manager).get(record_url(member)).content.decode()
    assert case.display_reference in page and escape(competency.title) in page
    assert "2026-09-01" in page and CANARY not in page and "slapped" not in page


@pytest.mark.django_db
def test_only_the_units_managers_reach_a_record(
    member, focal_point, staff_client, django_user_model, other_unit
):
    assert staff_client(focal_point).get(record_url(member)).status_code == 404
    elsewhere = make_staff(django_user_model, "mgr-oth", other_unit, Membership.Role.MANAGER)
    client = staff_client(elsewhere)
    assert client.get(record_url(member)).status_code == 404
    # Their own unit's code with someone of another unit: 404 too.
    wrong = reverse("competencies:staff_record", args=[other_unit.code, member.pk])
    assert client.get(wrong).status_code == 404
    competency = sector_competencies(member.unit).first()
    assert client.post(wrong, training_post(competency)).status_code == 404
    assert not TrainingRecord.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 12])
def test_the_record_page_takes_the_same_queries_however_long(
    size, member, manager, staff_client, unit, django_assert_max_num_queries
):
    competencies = list(sector_competencies(unit))
    for i in range(size):
        competency = competencies[i % len(competencies)]
        TrainingRecord.objects.create(
            staff_member=member,
            competency=competency,
            level="basic",
            completed_on=date(2025, 1, 1) + timedelta(days=i),
            provider="ENP",
        )
        Evaluation.objects.create(
            staff_member=member,
            competency=competency,
            facet="skills",
            rating="satisfactory",
            evaluated_on=date(2025, 2, 1) + timedelta(days=i),
            evaluator="T",
        )
        RetrainingAssignment.objects.create(
            staff_member=member,
            competency=competency,
            competency_title=competency.title,
            facets=["skills"],
            training_level="basic",
            due_date=date(2026, 9, 1),
            case_reference=f"ABCD{i:04d}",
        )
    client = staff_client(manager)
    client.get(record_url(member))  # warm the session
    with django_assert_max_num_queries(16):
        assert client.get(record_url(member)).status_code == 200
