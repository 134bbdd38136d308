"""A child can stop (withdraw) their complaint, after a confirmation: on the follow-up
page, or by texting WITHDRAW / RETIRER / RETIRAR. The handling focal points are told,
with metadata only; a finished case gets a clear answer."""

import pytest
from django.core import mail
from django.urls import reverse

from complaints.lifecycle import case_transition
from complaints.models import Case, CaseEvent
from intake.readability import visible_text, wording_of
from notifications.gsm import segments
from notifications.models import Notification
from notifications.services import notification_deliver
from tests.conftest import receipt_from

S = Case.Status
NARRATIVE = "The guard took my phone and laughed at me."


def open_followup(client, file_complaint, unit, **overrides):
    response = file_complaint(unit, narrative=NARRATIVE, **overrides)
    reference, code = receipt_from(response)
    client.post(reverse("intake:followup"), {"reference": reference, "code": code})
    return Case.objects.get(reference=reference.replace("-", ""))


def _main(html: str) -> str:
    return html[html.find("<main") : html.find("</main>")]


@pytest.mark.django_db
def test_a_web_child_withdraws_after_a_confirmation_and_the_team_is_told(
    client, file_complaint, unit, focal_point
):
    case = open_followup(client, file_complaint, unit)
    page = client.get(reverse("intake:followup_case")).content.decode()
    assert reverse("intake:followup_withdraw") in page

    # The link only asks: nothing changes until the child confirms.
    ask = client.get(reverse("intake:followup_withdraw"))
    assert ask.status_code == 200
    assert "Yes, stop my complaint" in ask.content.decode()
    case.refresh_from_db()
    assert case.status == S.RECEIVED

    done = client.post(reverse("intake:followup_withdraw"), follow=True)
    html = done.content.decode()
    assert "Your complaint is stopped" in html and "You stopped this complaint." in html
    assert reverse("intake:followup_withdraw") not in html  # no second offer
    case.refresh_from_db()
    assert case.status == S.WITHDRAWN and case.outcome == S.WITHDRAWN
    event = CaseEvent.objects.get(case=case, to_status=S.WITHDRAWN)
    assert event.reason == "The child withdrew the complaint (web)." and event.actor is None

    notice = Notification.objects.get(kind=Notification.Kind.WITHDRAWN)
    assert notice.recipient == focal_point
    notification_deliver(notice.pk)
    message = mail.outbox[-1]
    assert case.display_reference in message.subject and "withdrawn" in message.subject
    assert NARRATIVE not in message.subject + message.body

    # A withdrawn case may close at once.
    case_transition(case=case, actor=focal_point, to_status=S.CLOSED, reason="Withdrawn")


@pytest.mark.django_db
def test_a_decided_case_cannot_be_withdrawn_and_the_child_is_told_why(
    client, file_complaint, unit, focal_point
):
    case = open_followup(client, file_complaint, unit)
    for status, reason in (
        (S.ACKNOWLEDGED, ""),
        (S.ASSESSING, ""),
        (S.INVESTIGATING, ""),
        (S.UNSUBSTANTIATED, "No witness"),
    ):
        case_transition(case=case, actor=focal_point, to_status=status, reason=reason)
    assert (
        reverse("intake:followup_withdraw")
        not in client.get(reverse("intake:followup_case")).content.decode()
    )
    page = client.get(reverse("intake:followup_withdraw")).content.decode()
    assert "already finished, so you cannot stop it" in page
    refused = client.post(reverse("intake:followup_withdraw"))
    assert refused.status_code == 400
    assert "already finished" in refused.content.decode()
    case.refresh_from_db()
    assert case.status == S.UNSUBSTANTIATED
    assert not Notification.objects.filter(kind=Notification.Kind.WITHDRAWN).exists()


@pytest.mark.django_db
def test_withdrawing_needs_the_code_first(client):
    response = client.post(reverse("intake:followup_withdraw"))
    assert response.status_code == 302 and response.url == reverse("intake:followup")


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_the_confirmation_page_is_short_and_plain(client, file_complaint, unit, language):
    open_followup(client, file_complaint, unit, language=language)
    client.cookies["django_language"] = language
    html = client.get(reverse("intake:followup_withdraw")).content.decode()
    wording = wording_of(visible_text(_main(html)))
    assert wording.longest_sentence <= 24
    if language == "en":
        assert wording.grade <= 4, wording
    # No JavaScript needed: a plain form posts the answer.
    assert '<form method="post"' in html


# --- By SMS ----------------------------------------------------------------------------------


def file_by_sms(sms, phone="+221770000001"):
    for text in ("TST1 the guard took my phone", "DONE", "2", "2"):
        sms(text, phone=phone)
    return Case.objects.get()


@pytest.mark.django_db
def test_withdraw_by_sms_asks_first_and_no_keeps_the_case(sms, unit, focal_point):
    case = file_by_sms(sms)
    ask = sms("WITHDRAW")
    assert ask.startswith(f"{case.display_reference}: do you want to stop this complaint?")
    assert "Reply YES" in ask and segments(ask) <= 2
    kept = sms("no")
    assert kept == f"{case.display_reference}: OK, your complaint goes on."
    case.refresh_from_db()
    assert case.status == S.RECEIVED

    sms("WITHDRAW")
    done = sms("YES")
    assert done.startswith(f"{case.display_reference}: your complaint is stopped.")
    assert segments(done) <= 2
    case.refresh_from_db()
    assert case.status == S.WITHDRAWN
    assert CaseEvent.objects.get(case=case, to_status=S.WITHDRAWN).reason == (
        "The child withdrew the complaint (sms)."
    )
    assert Notification.objects.filter(
        kind=Notification.Kind.WITHDRAWN, recipient=focal_point
    ).exists()

    again = sms("WITHDRAW")
    assert "already finished" in again


@pytest.mark.django_db
@pytest.mark.parametrize("word", ["RETIRER", "retirar", "Withdraw"])
def test_withdraw_works_in_every_language(sms, unit, word):
    case = file_by_sms(sms)
    assert case.display_reference in sms(word)
    sms("oui")
    case.refresh_from_db()
    assert case.status == S.WITHDRAWN


@pytest.mark.django_db
def test_danger_words_in_answer_to_withdraw_are_heard_and_nothing_is_withdrawn(sms, unit):
    case = file_by_sms(sms)
    sms("WITHDRAW")
    reply = sms("yes he is hitting me right now")
    case.refresh_from_db()
    assert case.status == S.RECEIVED
    assert case.urgency == "emergency" and "116" in reply


@pytest.mark.django_db
def test_withdraw_with_no_case_gets_a_clear_answer(sms, unit):
    assert sms("WITHDRAW", phone="+221779999999") == "You have no open complaint to stop."


@pytest.mark.django_db
def test_other_words_after_withdraw_go_to_the_case(sms, unit):
    case = file_by_sms(sms)
    sms("WITHDRAW")
    reply = sms("also he took my shoes")
    case.refresh_from_db()
    assert case.status == S.RECEIVED and case.messages.count() == 1
    assert case.display_reference in reply
