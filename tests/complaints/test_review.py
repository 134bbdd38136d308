"""Review (appeal), issue 17 §1: a child told the outcome asks, within the policy's
window, for the oversight unit to review the decision: on the follow-up page or by
texting REVIEW (REVISION, REVISAR). The review is a linked case at the oversight unit,
under its own policy and deadlines, followed with the same reference and code; the
reason is sealed; the oversight unit's focal points read it, the first unit's do not;
the child is told the result in their language."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from complaints.lifecycle import TransitionRefused, allowed_transitions, case_transition
from complaints.models import Case, CaseEvent, Message
from complaints.reviews import ReviewRefused, review_request
from notifications.backends import locmem
from notifications.gsm import segments
from notifications.models import Notification, OutboundSms
from notifications.services import notification_deliver
from notifications.sms import render_sms, sms_deliver
from policies.models import ChildProtectionPolicy, Membership, Unit
from tests.complaints.test_confidentiality import file_contains
from tests.conftest import (
    all_rows_as_text,
    make_staff,
    make_unit,
    receipt_from,
    staff_login,
    staff_reads,
)

S = Case.Status
PHONE = "+221770000042"


@pytest.fixture
def oversight(db, unit):
    """The oversight unit named by `unit`'s policy, with its own focal point."""
    body = make_unit("OVR1", sector=Unit.Sector.OVERSIGHT)
    ChildProtectionPolicy.objects.filter(unit=unit).update(oversight_unit=body)
    return body


@pytest.fixture
def oversight_focal(django_user_model, oversight):
    return make_staff(django_user_model, "ovr_focal", oversight, Membership.Role.FOCAL_POINT)


def decide(case, actor, outcome=S.UNSUBSTANTIATED):
    for status, reason in (
        (S.ACKNOWLEDGED, ""),
        (S.ASSESSING, ""),
        (S.INVESTIGATING, ""),
        (outcome, "No witness could confirm it"),
    ):
        case_transition(case=case, actor=actor, to_status=status, reason=reason)
    case.refresh_from_db()
    return case


def deliver_texts():
    for outbound in OutboundSms.objects.filter(status=OutboundSms.Status.PENDING):
        sms_deliver(outbound.pk)


def follow(client, reference, code):
    response = client.post(reverse("intake:followup"), {"reference": reference, "code": code})
    assert response.status_code == 302
    return client.get(reverse("intake:followup_case"))


def _main(html: str) -> str:
    return html[html.find("<main") : html.find("</main>")]


# --- The web, in Spanish ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_spanish_child_asks_for_a_review_on_the_web_and_is_told_the_result(
    client, file_complaint, unit, focal_point, oversight, oversight_focal
):
    reference, code = receipt_from(file_complaint(unit, language="es"))
    case = Case.objects.get(reference=reference.replace("-", ""))
    decide(case, focal_point)
    page = follow(client, reference, code)  # reading the outcome tells it
    case.refresh_from_db()
    assert case.outcome_told_at is not None
    html = _main(page.content.decode())
    assert reverse("intake:followup_review") in html and 'id="review-offer"' in html
    # The outcome told on the page says how to ask, within the policy's 30 days.
    assert "pedir una revisión dentro de 30 días" in html

    response = client.post(
        reverse("intake:followup_review"), {"reason": "Nadie habló con mi testigo."}
    )
    assert response.status_code == 302
    review = Case.objects.get(review_of=case)
    # A linked case at the oversight unit, under its own policy, in the child's language.
    assert review.unit == oversight and review.handling_unit == oversight
    assert review.policy.unit == oversight and review.language == "es"
    assert review.assignee == oversight_focal
    assert review.acknowledge_due_at is not None and review.status == S.RECEIVED
    assert review.followup_code_hash == case.followup_code_hash  # the same code
    assert staff_reads(review, oversight_focal).narrative == "Nadie habló con mi testigo."
    # The first unit's staff hear of it (metadata only); the oversight unit of a new case.
    assert Notification.objects.filter(
        kind=Notification.Kind.REVIEW_REQUESTED, case=case, recipient=focal_point
    ).exists()
    assert Notification.objects.filter(
        kind=Notification.Kind.NEW_CASE, case=review, recipient=oversight_focal
    ).exists()
    assert CaseEvent.objects.filter(case=case, reason__contains="asked for a review").exists()

    # The same reference and code show the review; no second offer.
    html = _main(client.get(reverse("intake:followup_case")).content.decode())
    assert 'id="review-status"' in html and 'id="review-offer"' not in html
    assert review.display_reference not in html  # the child needs no new reference

    case_transition(case=review, actor=oversight_focal, to_status=S.ACKNOWLEDGED)
    review.refresh_from_db()
    assert S.SUBSTANTIATED not in allowed_transitions(review)
    assert S.UPHELD in allowed_transitions(review)
    case_transition(
        case=review, actor=oversight_focal, to_status=S.UPHELD, reason="The first decision holds"
    )
    page = client.get(reverse("intake:followup_case"))
    assert page["Content-Language"] == "es"
    html = _main(page.content.decode())
    assert "la primera decisión se mantiene" in html
    # Told in Spanish: the acknowledgement's date reads in Spanish.
    assert re.search(r"\d{1,2} de \w+ de \d{4}", html)
    review.refresh_from_db()
    assert review.outcome == S.UPHELD and review.outcome_told_at is not None


# --- SMS, in French --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_french_child_texts_revision_with_a_reason_and_is_told_by_sms(
    sms, unit, focal_point, oversight, oversight_focal
):
    sms("FR", phone=PHONE)
    for text in ("TST1 le gardien a pris mon téléphone", "FIN", "2", "2"):
        sms(text, phone=PHONE)
    case = decide(Case.objects.get(), focal_point)
    deliver_texts()
    case.refresh_from_db()
    assert case.outcome_told_at is not None
    # The outcome text says how to ask, within two segments.
    outcome_text = locmem.outbox[-1]["body"]
    assert "REVISION sous 30 jours" in outcome_text and segments(outcome_text) <= 2

    reply = sms("REVISION personne n'a écouté mon témoin", phone=PHONE)
    review = Case.objects.get(review_of=case)
    assert case.display_reference in reply and review.display_reference not in reply
    assert review.unit == oversight and review.language == "fr"
    assert review.channel == Case.Channel.SMS and review.sms_reporter_id == case.sms_reporter_id
    assert staff_reads(review, oversight_focal).narrative == "personne n'a écouté mon témoin"

    # A second text makes no second review.
    again = sms("REVISION", phone=PHONE)
    assert Case.objects.filter(review_of=case).count() == 1
    assert "déjà demandé un réexamen" in again

    # A later text goes to the open review, as to any open case; so do the words of a
    # second REVISION.
    sms("et il a menti", phone=PHONE)
    assert Message.objects.filter(case=review, author_kind=Message.Author.REPORTER).count() == 1
    sms("REVISION il y avait un témoin", phone=PHONE)
    assert Case.objects.filter(review_of=case).count() == 1
    assert Message.objects.filter(case=review, author_kind=Message.Author.REPORTER).count() == 2

    case_transition(case=review, actor=oversight_focal, to_status=S.ACKNOWLEDGED)
    case_transition(
        case=review, actor=oversight_focal, to_status=S.CHANGED, reason="Witness not heard"
    )
    deliver_texts()
    told = OutboundSms.objects.filter(case=review, carries_outcome=True).get()
    assert told.status != OutboundSms.Status.PENDING
    review.refresh_from_db()
    assert review.outcome_told_at is not None  # by SMS, as the child chose


@pytest.mark.django_db
def test_review_alone_asks_for_the_reason_and_the_keywords_work_in_each_language(
    sms, unit, focal_point, oversight, oversight_focal
):
    for word, phone in (("REVIEW", "+221770000051"), ("REVISAR", "+221770000052")):
        for text in ("TST1 the guard took my phone", "DONE", "2", "2"):
            sms(text, phone=phone)
        case = decide(Case.objects.filter(review_of=None).latest("received_at"), focal_point)
        deliver_texts()
        reply = sms(word, phone=phone)
        assert "text it now" in reply
        review = Case.objects.get(review_of=case)
        assert staff_reads(review, oversight_focal).narrative.startswith("The child asked")


# --- Refusals: before the outcome, withdrawn, the window's edges ----------------------------


@pytest.mark.django_db
def test_before_the_outcome_a_review_is_refused_politely_and_nothing_is_stored(
    sms, unit, focal_point, oversight
):
    for text in ("TST1 the guard took my phone", "DONE", "2", "2"):
        sms(text, phone=PHONE)
    reply = sms("REVIEW they did nothing", phone=PHONE)
    # A story that starts with "review" from a number with nothing decided is kept as text.
    case = Case.objects.get()
    assert not Case.objects.filter(review_of=case).exists()
    reply = sms("REVIEW", phone=PHONE)
    assert "once we have told you what we decided" in reply
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_a_withdrawn_case_cannot_be_reviewed(sms, unit, focal_point, oversight):
    for text in ("TST1 the guard took my phone", "DONE", "2", "2"):
        sms(text, phone=PHONE)
    sms("WITHDRAW", phone=PHONE)
    sms("YES", phone=PHONE)
    case = Case.objects.get()
    assert case.status == S.WITHDRAWN
    reply = sms("REVIEW", phone=PHONE)
    assert "You stopped this complaint" in reply
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_the_last_day_of_the_window_is_allowed_and_the_day_after_refused(
    sms, unit, focal_point, oversight, oversight_focal
):
    for text in ("TST1 the guard took my phone", "DONE", "2", "2"):
        sms(text, phone=PHONE)
    case = decide(Case.objects.get(), focal_point)
    told = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    Case.objects.filter(pk=case.pk).update(outcome_told_at=told)
    case.refresh_from_db()
    window = case.policy.review_window_days
    assert window == 30

    day_after = told + timedelta(days=window + 1)
    with pytest.raises(ReviewRefused) as refused:
        review_request(case=case, channel=Case.Channel.WEB, now=day_after)
    assert "ended on" in refused.value.message
    assert not Case.objects.filter(review_of=case).exists()

    last_day = told + timedelta(days=window, hours=11)  # 23:00 on the last day
    requested = review_request(case=case, channel=Case.Channel.WEB, now=last_day)
    assert requested.created and requested.review.review_of == case


@pytest.mark.django_db
def test_too_late_on_the_web_says_so_and_keeps_what_was_typed(
    client, file_complaint, unit, focal_point, oversight
):
    reference, code = receipt_from(file_complaint(unit))
    case = decide(Case.objects.get(), focal_point)
    follow(client, reference, code)
    Case.objects.filter(pk=case.pk).update(outcome_told_at=timezone.now() - timedelta(days=40))
    html = _main(client.get(reverse("intake:followup_case")).content.decode())
    assert 'id="review-closed"' in html and "ended on" in html
    response = client.post(reverse("intake:followup_review"), {"reason": "my words"})
    assert response.status_code == 400
    assert "ended on" in response.content.decode()
    assert not Case.objects.filter(review_of=case).exists()


@pytest.mark.django_db
def test_a_double_click_makes_one_review(client, file_complaint, unit, focal_point, oversight):
    reference, code = receipt_from(file_complaint(unit))
    case = decide(Case.objects.get(), focal_point)
    follow(client, reference, code)
    first = client.post(reverse("intake:followup_review"), {"reason": "first"})
    second = client.post(reverse("intake:followup_review"), {"reason": "second"}, follow=True)
    assert first.status_code == 302 and second.status_code == 200
    assert "You already asked for a review" in second.content.decode()
    assert Case.objects.filter(review_of=case).count() == 1
    assert (
        Notification.objects.filter(kind=Notification.Kind.REVIEW_REQUESTED, case=case).count() == 1
    )


@pytest.mark.django_db
def test_without_an_oversight_unit_no_review_is_offered(client, file_complaint, unit, focal_point):
    reference, code = receipt_from(file_complaint(unit))
    case = decide(Case.objects.get(), focal_point)
    html = _main(follow(client, reference, code).content.decode())
    assert reverse("intake:followup_review") not in html
    assert "ask for a review" not in html
    with pytest.raises(ReviewRefused):
        review_request(case=case, channel=Case.Channel.WEB)


@pytest.mark.django_db
def test_a_review_is_not_substantiated_and_other_cases_are_not_upheld(
    unit, focal_point, oversight, oversight_focal, file_complaint
):
    file_complaint(unit)
    case = decide(Case.objects.get(), focal_point)
    Case.outcome_told(case.pk)
    case.refresh_from_db()
    assert S.UPHELD not in allowed_transitions(case)
    review = review_request(case=case, channel=Case.Channel.WEB).review
    case_transition(case=review, actor=oversight_focal, to_status=S.ACKNOWLEDGED)
    case_transition(case=review, actor=oversight_focal, to_status=S.ASSESSING)
    with pytest.raises(TransitionRefused):
        case_transition(case=review, actor=oversight_focal, to_status=S.REFERRED, reason="x")


# --- Confidentiality and access ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_reason_is_sealed_and_not_in_the_database_file(
    client, file_complaint, unit, focal_point, oversight, oversight_focal
):
    canary = "canaryreview7Q2X"
    reference, code = receipt_from(file_complaint(unit))
    case = decide(Case.objects.get(), focal_point)
    follow(client, reference, code)
    client.post(reverse("intake:followup_review"), {"reason": f"They ignored {canary}"})
    review = Case.objects.get(review_of=case)
    assert canary.encode() not in bytes(review.narrative)
    assert canary not in all_rows_as_text()
    if connection.vendor == "sqlite":
        connection.close()
        db_file = Path(connection.settings_dict["NAME"])
        assert not file_contains(
            [db_file, Path(f"{db_file}-wal"), Path(f"{db_file}-journal")],
            [canary.encode(), canary.encode("utf-16-le")],
        )


@pytest.mark.django_db
def test_the_oversight_focal_point_reads_the_review_and_the_first_units_gets_a_404(
    client, file_complaint, unit, focal_point, oversight, oversight_focal
):
    file_complaint(unit)
    case = decide(Case.objects.get(), focal_point)
    Case.outcome_told(case.pk)
    review = review_request(case=case, reason="about the focal point", channel="web").review

    staff_login(client, focal_point)
    assert client.get(reverse("staff:case", args=[review.reference])).status_code == 404
    page = client.get(reverse("staff:case", args=[case.reference]))
    assert page.status_code == 200
    # The first unit sees that a review was asked, and by whom it is handled: no content.
    html = page.content.decode()
    assert 'id="review-asked"' in html and "Unit OVR1 handles it" in html
    assert "about the focal point" not in html
    client.logout()

    staff_login(client, oversight_focal)
    page = client.get(reverse("staff:case", args=[review.reference]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "about the focal point" in html and 'id="review-of"' in html
    assert case.display_reference in html
    # The case it reviews is not theirs to read.
    assert client.get(reverse("staff:case", args=[case.reference])).status_code == 404


@pytest.mark.django_db
def test_before_the_outcome_the_web_offers_no_review_and_refuses_a_forged_post(
    client, file_complaint, unit, focal_point, oversight
):
    reference, code = receipt_from(file_complaint(unit, language="es"))
    html = _main(follow(client, reference, code).content.decode())
    assert reverse("intake:followup_review") not in html
    response = client.post(reverse("intake:followup_review"), {"reason": "why not"})
    assert response.status_code == 400
    assert "cuando te hayamos dicho lo que decidimos" in response.content.decode()
    assert Case.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fr", "es"])
@pytest.mark.parametrize("status", [S.SUBSTANTIATED, S.UNSUBSTANTIATED])
def test_the_outcome_text_with_the_review_line_fits_two_segments(unit, oversight, language, status):
    policy = ChildProtectionPolicy.objects.get(unit=unit)
    case = Case(unit=unit, policy=policy, reference="K7QM4TPX")
    text = render_sms("case_update", language, case=case, status=status)
    assert "REVIEW" in text or "REVISION" in text or "REVISAR" in text
    assert segments(text) <= 2, text


@pytest.mark.django_db
def test_a_reason_that_says_danger_files_the_review_as_an_emergency_with_the_numbers(
    sms, unit, focal_point, oversight, oversight_focal
):
    for text in ("TST1 the guard took my phone", "DONE", "2", "2"):
        sms(text, phone=PHONE)
    case = decide(Case.objects.get(), focal_point)
    deliver_texts()
    reply = sms("REVIEW he is hitting me again", phone=PHONE)
    review = Case.objects.get(review_of=case)
    assert review.urgency == "emergency" and review.in_danger
    assert reply.startswith("Call now: 116")
    assert Notification.objects.filter(case=review, recipient=oversight_focal).exists()


@pytest.mark.django_db
def test_the_first_units_notice_carries_no_reason(
    file_complaint, unit, focal_point, oversight, oversight_focal, mailoutbox
):
    file_complaint(unit)
    case = decide(Case.objects.get(), focal_point)
    Case.outcome_told(case.pk)
    review_request(case=case, reason="secret words about the focal point", channel="web")
    notice = Notification.objects.get(kind=Notification.Kind.REVIEW_REQUESTED)
    notification_deliver(notice.pk)
    message = mailoutbox[-1]
    assert case.display_reference in message.subject and "Review asked" in message.subject
    assert "secret words" not in message.subject + message.body
