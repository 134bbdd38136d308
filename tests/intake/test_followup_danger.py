"""A child in danger after filing, on the web: a follow-up message that says so, or
the page's "Yes, I am in danger now" button, makes the case an emergency at once."""

import pytest
from django.urls import reverse

from complaints.models import Case
from notifications.models import Notification
from policies.models import Membership
from tests.conftest import make_staff, receipt_from, staff_reads


@pytest.fixture
def opened(client, unit, focal_point, file_complaint, django_user_model):
    """A filed case, open on the follow-up page; a backup focal point too."""
    backup = make_staff(django_user_model, "backup", unit, Membership.Role.FOCAL_POINT)
    Membership.objects.filter(user=backup).update(is_backup=True)
    reference, code = receipt_from(file_complaint(unit))
    response = client.post(reverse("intake:followup"), {"reference": reference, "code": code})
    assert response.status_code == 302
    Notification.objects.all().delete()
    return Case.objects.get(), {focal_point.pk, backup.pk}


def _alerted(case) -> set[int]:
    return set(
        Notification.objects.filter(case=case, kind=Notification.Kind.DANGER).values_list(
            "recipient_id", flat=True
        )
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "language, text",
    [("en", "He is hitting me again"), ("fr", "il me frappe encore"), ("es", "me está pegando")],
)
def test_a_message_saying_danger_makes_an_emergency_and_leads_with_the_numbers(
    client, opened, language, text
):
    case, team = opened
    client.cookies["django_language"] = language
    response = client.post(reverse("intake:followup_case"), {"body": text}, follow=True)
    html = response.content.decode()
    case.refresh_from_db()
    assert case.in_danger and case.urgency == "emergency"
    assert _alerted(case) == team
    assert staff_reads(case).messages[-1].body == text
    # The numbers of the policy first, before the messages.
    assert 'id="danger-told"' in html
    assert html.index('href="tel:116"') < html.index("messages-list")


@pytest.mark.django_db
def test_unsure_words_ask_and_the_button_answers(client, opened):
    case, team = opened
    html = client.post(
        reverse("intake:followup_case"), {"body": "I am scared"}, follow=True
    ).content.decode()
    case.refresh_from_db()
    assert not case.in_danger and _alerted(case) == set()
    assert "danger-asked" in html and "Are you in danger right now?" in html
    client.post(reverse("intake:followup_danger"))
    case.refresh_from_db()
    assert case.in_danger and case.urgency == "emergency" and _alerted(case) == team


@pytest.mark.django_db
def test_the_danger_button_is_always_there_and_works_without_javascript(client, opened):
    case, _team = opened
    html = client.get(reverse("intake:followup_case")).content.decode()
    assert (
        f'action="{reverse("intake:followup_danger")}"' in html
        and "<script" not in html.split("</head>", 1)[1]
    )
    response = client.post(reverse("intake:followup_danger"))
    assert response.status_code == 302 and response["Location"] == reverse("intake:followup_case")
    case.refresh_from_db()
    assert case.in_danger


@pytest.mark.django_db
def test_the_danger_button_needs_the_visit(client, unit, focal_point, file_complaint):
    file_complaint(unit)
    response = client.post(reverse("intake:followup_danger"))
    assert response["Location"] == reverse("intake:followup")
    assert not Case.objects.get().in_danger


@pytest.mark.django_db
def test_an_ordinary_message_is_an_ordinary_notice(client, opened):
    case, _team = opened
    client.post(reverse("intake:followup_case"), {"body": "They gave my phone back."})
    case.refresh_from_db()
    assert not case.in_danger
    assert Notification.objects.filter(case=case, kind=Notification.Kind.CASE_UPDATED).exists()
    assert not Notification.objects.filter(kind=Notification.Kind.DANGER).exists()
