"""Children rate the service (issue 16 §4), on the follow-up page: three optional
questions once the outcome was told, one row per case that names no case, and a
"did not feel safe" answer that alerts the case's focal points and the oversight
unit's (metadata only) and gives the child the emergency numbers."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from complaints.lifecycle import case_transition
from complaints.models import AuditEvent, Case, ServiceRating
from complaints.ratings import RatingRefused, rating_key, rating_record
from notifications.models import Notification
from notifications.services import notification_deliver
from policies.models import ChildProtectionPolicy, Membership, Unit
from policies.selectors import unit_current_policy
from tests.conftest import all_rows_as_text, make_staff, make_unit, receipt_from

S = Case.Status
NARRATIVE = "The guard took my phone and laughed at me."
DECIDE = [
    (S.ACKNOWLEDGED, ""),
    (S.ASSESSING, ""),
    (S.INVESTIGATING, ""),
    (S.UNSUBSTANTIATED, "No witness could confirm it"),
]
Answer = ServiceRating.Answer


def open_followup(client, file_complaint, unit, language="en"):
    response = file_complaint(unit, language=language, narrative=NARRATIVE)
    reference, code = receipt_from(response)
    client.post(reverse("intake:followup"), {"reference": reference, "code": code})
    return Case.objects.get(reference=reference.replace("-", ""))


def decide(case, actor):
    for status, reason in DECIDE:
        case_transition(case=case, actor=actor, to_status=status, reason=reason)
    case.refresh_from_db()
    return case


def page(client) -> str:
    return client.get(reverse("intake:followup_case")).content.decode()


@pytest.fixture
def oversight_focal(django_user_model, unit):
    """The unit's policy names an oversight unit, with its own focal point."""
    oversight = make_unit("NCRC", sector=Unit.Sector.OVERSIGHT)
    ombud = make_staff(django_user_model, "ombud", oversight, Membership.Role.FOCAL_POINT)
    ChildProtectionPolicy.objects.filter(pk=unit_current_policy(unit).pk).update(
        oversight_unit=oversight
    )
    return ombud


@pytest.mark.django_db
def test_the_questions_are_not_offered_before_the_outcome(
    client, file_complaint, unit, focal_point
):
    case = open_followup(client, file_complaint, unit)
    html = page(client)
    assert "Tell us how we did" not in html
    assert reverse("intake:followup_rate") not in html
    # Posting anyway (an old page, a script) stores nothing.
    response = client.post(reverse("intake:followup_rate"), {"listened": "1"})
    assert response.status_code == 302
    assert not ServiceRating.objects.exists()
    with pytest.raises(RatingRefused):
        rating_record(case, listened=1, channel="web")


@pytest.mark.django_db
def test_a_child_told_the_outcome_answers_and_is_thanked_once(
    client, file_complaint, unit, focal_point
):
    case = open_followup(client, file_complaint, unit)
    decide(case, focal_point)
    html = page(client)  # reading the outcome on the page tells it
    assert "Tell us how we did" in html
    # Three questions, each a fieldset with a legend, Yes / Partly / No, none preselected.
    assert html.count("<legend>") >= 3
    for question in (
        "Did you feel listened to?",
        "Did you feel safe making this complaint?",
        "Was it fast enough?",
    ):
        assert f"<legend>{question}</legend>" in html
    assert 'name="felt_safe" value="2"' in html
    assert not re.findall(r"<input[^>]*checked", html)

    response = client.post(
        reverse("intake:followup_rate"), {"listened": "1", "felt_safe": "1", "fast_enough": "3"}
    )
    assert response.status_code == 302
    rating = ServiceRating.objects.get()
    assert (rating.listened, rating.felt_safe, rating.fast_enough) == (1, 1, 3)
    assert rating.unit == unit and rating.channel == "web" and rating.language == "en"
    assert rating.month == timezone.localdate().replace(day=1)

    thanked = client.get(reverse("intake:followup_case")).content.decode()
    assert "Thank you for telling us how we did" in thanked
    assert reverse("intake:followup_rate") not in thanked  # not asked again
    assert 'id="rating-emergency-title"' not in thanked  # felt safe: no alert block
    assert not Notification.objects.filter(kind=Notification.Kind.REPRISAL_CONCERN).exists()


@pytest.mark.django_db
def test_each_question_is_optional_and_a_second_answer_updates_the_one_row(
    client, file_complaint, unit, focal_point
):
    case = open_followup(client, file_complaint, unit)
    decide(case, focal_point)
    page(client)
    client.post(reverse("intake:followup_rate"), {"fast_enough": "2"})
    rating = ServiceRating.objects.get()
    assert (rating.listened, rating.felt_safe, rating.fast_enough) == (None, None, 2)
    # The same case again (another channel, another visit): one row, answers merged.
    case.refresh_from_db()
    rating_record(case, listened=Answer.YES, channel="sms")
    rating = ServiceRating.objects.get()
    assert (rating.listened, rating.felt_safe, rating.fast_enough) == (1, None, 2)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        {"listened": "7", "fast_enough": "1"},  # not an answer
        {"listened": "yes", "fast_enough": "1"},
        {},  # nothing chosen
    ],
)
def test_bad_input_gets_a_polite_error_and_loses_nothing(
    client, file_complaint, unit, focal_point, data
):
    case = open_followup(client, file_complaint, unit)
    decide(case, focal_point)
    page(client)
    response = client.post(reverse("intake:followup_rate"), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Please check your answers" in html and "Nothing you wrote is lost" in html
    if data:
        assert "Please choose Yes, Partly or No." in html
        # The answer that was fine is still chosen.
        checked = re.findall(r'<input[^>]*name="(\w+)"[^>]*value="(\d)"[^>]*checked', html)
        assert checked == [("fast_enough", "1")]
    else:
        assert "at least one question" in html
    assert not ServiceRating.objects.exists()


@pytest.mark.django_db
def test_bad_input_from_a_french_child_is_answered_in_french(
    client, file_complaint, unit, focal_point
):
    case = open_followup(client, file_complaint, unit, language="fr")
    decide(case, focal_point)
    page(client)
    response = client.post(reverse("intake:followup_rate"), {"felt_safe": "9"})
    assert response.status_code == 400
    assert response["Content-Language"] == "fr"


@pytest.mark.django_db
def test_a_withdrawn_case_is_not_rated(client, file_complaint, unit, focal_point):
    open_followup(client, file_complaint, unit)
    client.post(reverse("intake:followup_withdraw"))
    assert "Tell us how we did" not in page(client)


@pytest.mark.django_db
def test_the_rating_row_names_no_case(client, file_complaint, unit, focal_point):
    case = open_followup(client, file_complaint, unit)
    decide(case, focal_point)
    page(client)
    client.post(reverse("intake:followup_rate"), {"listened": "3"})
    rating = ServiceRating.objects.get()
    values = [str(getattr(rating, f.attname)) for f in ServiceRating._meta.concrete_fields]
    for value in values:
        assert str(case.pk) not in value and str(case.pk.hex) not in value
        assert case.reference not in value and case.display_reference not in value
    # Found again only with the key ring.
    assert rating.case_key == rating_key(case) and rating.case_key != str(case.pk)
    assert NARRATIVE not in all_rows_as_text()


# --- Did not feel safe: possible reprisal -------------------------------------------------------


@pytest.mark.django_db
def test_not_feeling_safe_alerts_the_case_and_oversight_focal_points_and_shows_the_numbers(
    client, file_complaint, unit, focal_point, manager, oversight_focal, django_user_model
):
    other_unit_focal = make_staff(
        django_user_model,
        "elsewhere",
        make_unit("ELS3"),
        Membership.Role.FOCAL_POINT,
    )
    case = open_followup(client, file_complaint, unit)
    decide(case, focal_point)
    page(client)
    response = client.post(
        reverse("intake:followup_rate"), {"listened": "2", "felt_safe": "3"}, follow=True
    )
    html = response.content.decode()
    assert "Thank you for telling us how we did" in html
    assert "You said you did not feel safe" in html
    assert 'id="rating-emergency-title"' in html
    assert 'href="tel:116"' in html and 'href="tel:17"' in html

    notices = Notification.objects.filter(kind=Notification.Kind.REPRISAL_CONCERN)
    assert {n.recipient for n in notices} == {focal_point, oversight_focal}
    assert manager not in {n.recipient for n in notices}
    assert other_unit_focal not in {n.recipient for n in notices}
    assert all(n.case_id == case.pk for n in notices)

    for notice in notices:
        notification_deliver(notice.pk)
    assert len(mail.outbox) >= 2
    for message in mail.outbox[-2:]:
        text = message.subject + message.body
        assert case.display_reference in message.subject and "Possible reprisal" in text
        assert NARRATIVE not in text
        # Metadata only: no answer words, no answer digits.
        for answer_word in ("Partly", "listened", "fast enough", "Yes", "felt_safe"):
            assert answer_word not in text

    event = AuditEvent.objects.get(action="complaints.rating.reprisal_concern")
    assert event.case_id == case.pk
    assert sorted(event.data["recipients"]) == sorted([focal_point.pk, oversight_focal.pk])
    assert set(event.data) == {"recipients", "oversight_unit"}  # ids only

    # Answering again (or the same answer twice) does not alert twice.
    case.refresh_from_db()
    rating_record(case, felt_safe=Answer.NO, channel="web")
    assert notices.count() == 2


@pytest.mark.django_db
def test_partly_safe_is_counted_but_raises_no_alert(client, file_complaint, unit, focal_point):
    case = open_followup(client, file_complaint, unit)
    decide(case, focal_point)
    page(client)
    client.post(reverse("intake:followup_rate"), {"felt_safe": "2"})
    assert ServiceRating.objects.get().felt_safe == Answer.PARTLY
    assert not Notification.objects.filter(kind=Notification.Kind.REPRISAL_CONCERN).exists()
    assert "You said you did not feel safe" not in page(client)
