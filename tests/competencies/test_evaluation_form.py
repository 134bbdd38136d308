"""Recording a retraining's evaluation: nothing preselected, a choice required, ratings
shown as words."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from competencies.forms import EvaluationForm
from competencies.models import RetrainingAssignment, StaffMember
from competencies.services import sector_competencies


@pytest.fixture
def assignment(unit):
    competency = sector_competencies(unit).first()
    officer = StaffMember.objects.create(unit=unit, name="Officer Ndiaye")
    return RetrainingAssignment.objects.create(
        staff_member=officer,
        competency=competency,
        competency_title=competency.title,
        facets=["knowledge", "skills"],
        training_level="basic",
        case_reference="AAAA1111",
        due_date=timezone.localdate() + timedelta(days=30),
    )


def complete_url(assignment):
    return reverse(
        "competencies:retraining_complete", args=[assignment.staff_member.unit.code, assignment.pk]
    )


@pytest.mark.django_db
def test_no_rating_is_preselected(staff_client, unit, manager, assignment):
    html = (
        staff_client(manager)
        .get(reverse("competencies:retraining", args=[unit.code]))
        .content.decode()
    )
    form = re.search(
        rf'<form method="post" action="{complete_url(assignment)}">(.*?)</form>', html, re.S
    ).group(1)
    radios = re.findall(r"<input[^>]*>", form)
    radios = [r for r in radios if 'type="radio"' in r]
    assert len(radios) == 6  # two facets, three ratings each
    assert not any("checked" in r for r in radios)
    assert all("required" in r for r in radios)
    assert "<select" not in form and "selected" not in form
    # Each facet's ratings in a group named by the facet; each choice labelled in words.
    assert (
        "<legend>Knowledge: rating</legend>" in form and "<legend>Skills: rating</legend>" in form
    )
    for words in ("Satisfactory", "Meets expectations", "Below expectations"):
        assert form.count(f">{words}</label>") == 2


@pytest.mark.django_db
def test_a_rating_must_be_chosen_for_each_facet(staff_client, unit, manager, assignment):
    client = staff_client(manager)
    response = client.post(
        complete_url(assignment), {f"a{assignment.pk}-knowledge": "satisfactory"}, follow=True
    )
    assignment.refresh_from_db()
    assert assignment.status == "assigned" and assignment.evaluation == {}
    assert "Nothing was recorded: choose a rating for each facet" in response.content.decode()
    form = EvaluationForm(
        {"a-knowledge": "satisfactory"}, facets=["knowledge", "skills"], prefix="a"
    )
    assert not form.is_valid() and form.errors["skills"] == ["Choose a rating for skills."]


@pytest.mark.django_db
def test_ratings_read_as_words(staff_client, unit, manager, assignment):
    client = staff_client(manager)
    client.post(
        complete_url(assignment),
        {
            f"a{assignment.pk}-knowledge": "meets_expectations",
            f"a{assignment.pk}-skills": "below_expectations",
        },
    )
    assignment.refresh_from_db()
    assert assignment.status == "completed"
    html = client.get(reverse("competencies:retraining", args=[unit.code])).content.decode()
    evaluation = re.search(r'<p class="evaluation">(.*?)</p>', html, re.S).group(1)
    assert evaluation.endswith("Knowledge: meets expectations; Skills: below expectations")
    assert "belowexpectations" not in html and "_" not in evaluation
    # The follow-up opened for the facet below expectations names it in words too.
    assert "Facets: Skills ·" in html
