"""Rating the service by SMS (issue 16 §4): after the outcome text, RATE (NOTER,
VALORAR) asks three questions, one text each, answered with a digit (0 skips); each
reply fits two segments; STOP and danger words work mid-rating; "3" (No) to feeling
safe alerts the team and the reply carries the unit's emergency numbers."""

import pytest

from complaints.lifecycle import case_transition
from complaints.models import Case, ServiceRating
from intake.models import SmsConversation, SmsReporter
from notifications.backends import locmem
from notifications.gsm import segments
from notifications.models import Notification, OutboundSms
from notifications.sms import render_sms, sms_deliver

S = Case.Status
PHONE = "+221770000001"


def file_by_sms(sms, language=None, phone=PHONE):
    if language:
        sms(language.upper(), phone=phone)
    for text in ("TST1 the guard took my phone", "DONE", "2", "2"):
        sms(text, phone=phone)
    return Case.objects.get()


def decide_and_tell(case, actor, outcome=S.UNSUBSTANTIATED):
    for status, reason in (
        (S.ACKNOWLEDGED, ""),
        (S.ASSESSING, ""),
        (S.INVESTIGATING, ""),
        (outcome, "No witness could confirm it"),
    ):
        case_transition(case=case, actor=actor, to_status=status, reason=reason)
    for outbound in OutboundSms.objects.filter(status=OutboundSms.Status.PENDING):
        sms_deliver(outbound.pk)
    case.refresh_from_db()
    assert case.outcome_told_at is not None
    return case


def rating() -> ServiceRating:
    return ServiceRating.objects.get()


@pytest.mark.django_db
def test_the_outcome_text_invites_a_rating_within_two_segments(sms, unit, focal_point):
    case = decide_and_tell(file_by_sms(sms), focal_point)
    outcome = locmem.outbox[-1]["body"]
    assert outcome.endswith("Tell us how we did: reply RATE.")
    assert segments(outcome) <= 2
    # The acknowledgement carries no invitation: nothing to rate yet.
    assert "RATE" not in locmem.outbox[0]["body"]
    assert case.outcome == S.UNSUBSTANTIATED


@pytest.mark.django_db
def test_rate_before_the_outcome_says_when(sms, unit, focal_point):
    file_by_sms(sms)
    reply = sms("RATE")
    assert "once we have told you what we decided" in reply
    assert not SmsConversation.objects.filter(step=SmsConversation.Step.RATING).exists()
    assert not ServiceRating.objects.exists()


@pytest.mark.django_db
def test_the_rating_conversation_in_french(sms, unit, focal_point):
    case = decide_and_tell(file_by_sms(sms, language="fr"), focal_point)
    replies = [sms(text) for text in ("NOTER", "1", "3", "0")]
    assert replies[0] == render_sms("rate_ask", "fr", case=case, question=0, first=True)
    assert replies[0].startswith(case.display_reference)
    assert "T'es-tu senti(e) écouté(e) ?" in replies[0]
    assert "Réponds 1 Oui, 2 En partie, 3 Non. 0 pour passer." in replies[0]
    assert replies[1] == render_sms("rate_ask", "fr", case=case, question=1)
    # "No" to feeling safe: the unit's emergency numbers lead the next question.
    assert "116" in replies[2] and "17" in replies[2]
    assert replies[2].endswith(render_sms("rate_ask", "fr", case=case, question=2).split("\n")[-1])
    assert replies[3] == render_sms("rate_thanks", "fr")
    assert all(segments(r) <= 2 for r in replies)

    row = rating()
    assert (row.listened, row.felt_safe, row.fast_enough) == (1, 3, None)  # 0 skipped
    assert row.channel == "sms" and row.language == "fr" and row.unit == unit
    notice = Notification.objects.get(kind=Notification.Kind.REPRISAL_CONCERN)
    assert notice.recipient == focal_point and notice.case == case
    assert not SmsConversation.objects.filter(step=SmsConversation.Step.RATING).exists()


@pytest.mark.django_db
def test_the_rating_conversation_in_spanish_asks_again_after_a_word(sms, unit, focal_point):
    case = decide_and_tell(file_by_sms(sms, language="es"), focal_point)
    first = sms("VALORAR")
    assert first == render_sms("rate_ask", "es", case=case, question=0, first=True)
    assert "Sentiste que te escucharon?" in first and "Responde 1 Si, 2 En parte, 3 No." in first
    assert sms("2") == render_sms("rate_ask", "es", case=case, question=1)
    again = sms("bueno")  # a word, not a digit: the same question again
    assert again == render_sms("rate_ask", "es", case=case, question=1, again=True)
    assert sms("1") == render_sms("rate_ask", "es", case=case, question=2)
    assert sms("3") == render_sms("rate_thanks", "es")
    row = rating()
    assert (row.listened, row.felt_safe, row.fast_enough) == (2, 1, 3)
    assert row.language == "es"
    assert not Notification.objects.filter(kind=Notification.Kind.REPRISAL_CONCERN).exists()
    # A later digit is no answer any more: the questions are over.
    sms("1")
    assert rating().fast_enough == 3


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_every_rating_reply_fits_two_segments_with_long_labels(language, unit):
    case = Case(reference="K7QM4TPX", unit=unit)
    contacts = [
        {"label": "Allô 116 (ligne d'aide aux enfants)", "number": "116"},
        {"label": "Police nationale du Sénégal", "number": "+221338234567"},
    ]
    for question in (0, 1, 2):
        for flags in ({"first": True}, {"again": True}, {"unsafe": True}):
            text = render_sms(
                "rate_ask",
                language,
                case=case,
                question=question,
                emergency_contacts=contacts,
                **flags,
            )
            assert segments(text) <= 2, text
    thanks = render_sms("rate_thanks", language, unsafe=True, emergency_contacts=contacts)
    assert segments(thanks) <= 2 and "116" in thanks


@pytest.mark.django_db
def test_stop_mid_rating_is_honoured(sms, unit, focal_point):
    decide_and_tell(file_by_sms(sms), focal_point)
    sms("RATE")
    sms("1")
    stopped = sms("STOP")
    assert "no more texts" in stopped and "116" in stopped
    assert SmsReporter.objects.get().opted_out
    assert sms("2") == ""  # nothing is sent to a stopped number
    assert rating().listened == 1


@pytest.mark.django_db
def test_danger_words_mid_rating_are_heard_first(sms, unit, focal_point):
    case = decide_and_tell(file_by_sms(sms), focal_point)
    sms("RATE")
    reply = sms("he is hitting me again")
    assert reply.startswith("Call now: 116")
    # The decided case stays as it was; the words are a new emergency complaint.
    assert Case.objects.count() == 2
    new = Case.objects.exclude(pk=case.pk).get()
    assert new.urgency == "emergency" and new.unit == unit
    assert not ServiceRating.objects.exists()


@pytest.mark.django_db
def test_a_withdrawn_case_is_not_rated_by_sms(sms, unit, focal_point):
    file_by_sms(sms)
    sms("WITHDRAW")
    sms("YES")
    assert "once we have told you" in sms("RATE")
