"""Every child hears back the way they chose, and every case can close (issue 14 §1):
a web child who chose "text me" gets texts through the SMS pipeline, "email me" gets
an email saying only that there is news, "call me" gives the focal point a call task,
and "do not contact me" leaves the outcome on the follow-up page."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from complaints.escalation import escalation_sweep
from complaints.lifecycle import TransitionRefused, case_told_by_phone, case_transition
from complaints.models import AuditEvent, Case, CaseEvent
from complaints.services import case_reply
from notifications.backends import locmem
from notifications.child_email import child_email_deliver
from notifications.gsm import segments
from notifications.models import OutboundEmail, OutboundSms
from notifications.sms import sms_deliver
from tests.conftest import all_rows_as_text, child_sees, receipt_from

S = Case.Status
NARRATIVE = "The guard took my phone and laughed at me."
DECISION = [
    (S.ACKNOWLEDGED, ""),
    (S.ASSESSING, ""),
    (S.INVESTIGATING, ""),
    (S.UNSUBSTANTIATED, "No witness could confirm it"),
]


def walk(case, actor, steps):
    for status, reason in steps:
        case_transition(case=case, actor=actor, to_status=status, reason=reason)
    case.refresh_from_db()
    return case


def send_pending_texts():
    for outbound in OutboundSms.objects.filter(status=OutboundSms.Status.PENDING):
        sms_deliver(outbound.pk)


def send_pending_emails():
    for outbound in OutboundEmail.objects.filter(status=OutboundEmail.Status.PENDING):
        child_email_deliver(outbound.pk)


# --- "Text me" -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_web_child_who_chose_text_me_is_texted_each_step_and_the_case_can_close(
    file_complaint, unit, focal_point
):
    response = file_complaint(
        unit, narrative=NARRATIVE, contact_preference="sms", contact_detail="+221 77-123 45 67"
    )
    assert response.status_code == 200
    case = Case.objects.get()
    assert case.channel == Case.Channel.WEB and case.sms_reporter is not None
    # Sealed under the server key ring, found by its blind index: never in clear.
    assert case.sms_reporter.read_phone() == "+221771234567"
    assert "221771234567" not in all_rows_as_text()

    walk(case, focal_point, DECISION[:1])
    send_pending_texts()
    assert [m["to"] for m in locmem.outbox] == ["+221771234567"]
    assert locmem.outbox[0]["body"].startswith(f"{case.display_reference}: someone who handles")
    case = walk(case, focal_point, DECISION[1:])
    assert case.outcome_told_at is None  # queued, not sent yet: not told
    with pytest.raises(TransitionRefused, match="not been told"):
        case_transition(case=case, actor=focal_point, to_status=S.CLOSED, reason="Done")
    send_pending_texts()
    assert "could not show it happened" in locmem.outbox[-1]["body"]
    assert all(segments(m["body"]) <= 2 for m in locmem.outbox)
    assert NARRATIVE not in " ".join(m["body"] for m in locmem.outbox)
    case.refresh_from_db()
    assert case.outcome_told_at is not None
    case_transition(case=case, actor=focal_point, to_status=S.CLOSED, reason="Done")
    # The follow-up page holds the same news.
    assert len(child_sees(case)) == 2


@pytest.mark.django_db
def test_stop_from_the_web_childs_number_is_honoured(file_complaint, sms, unit, focal_point):
    file_complaint(unit, contact_preference="sms", contact_detail="+33 6 12 34 56 78")
    case = Case.objects.get()
    sms("STOP", phone="+33612345678")
    walk(case, focal_point, DECISION[:1])
    assert OutboundSms.objects.get().status == OutboundSms.Status.SUPPRESSED
    send_pending_texts()
    assert locmem.outbox == []
    # The outcome cannot reach them: it stays on the follow-up page, and the case can
    # close, the record saying why.
    case = walk(case, focal_point, DECISION[1:])
    event = case_transition(case=case, actor=focal_point, to_status=S.CLOSED, reason="Done")
    assert "the outcome could not be sent" in event.reason
    assert Case.objects.get(pk=case.pk).outcome_told_at is None


@pytest.mark.django_db
def test_text_me_needs_an_international_number_and_keeps_what_the_child_wrote(file_complaint, unit):
    response = file_complaint(
        unit, narrative=NARRATIVE, contact_preference="sms", contact_detail="77 123 45 67"
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "with + and the country code" in html
    assert NARRATIVE in html  # nothing lost
    assert not Case.objects.exists()

    # 00 is the international prefix too; a call may use a local number.
    assert (
        file_complaint(
            unit, contact_preference="sms", contact_detail="00221 77 123 45 67"
        ).status_code
        == 200
    )
    assert Case.objects.get().sms_reporter.read_phone() == "+221771234567"
    assert (
        file_complaint(unit, contact_preference="phone", contact_detail="77 123 45 67").status_code
        == 200
    )


@pytest.mark.django_db
def test_a_text_me_child_hears_of_a_late_answer_from_the_sweep(file_complaint, unit, focal_point):
    file_complaint(unit, contact_preference="sms", contact_detail="+221771234567")
    case = Case.objects.get()
    assert escalation_sweep(now=case.acknowledge_due_at + timedelta(minutes=1)) == 1
    send_pending_texts()
    assert locmem.outbox[0]["body"].startswith(f"{case.display_reference}: we are late")
    assert "We are late answering you" in child_sees(case)[0]


# --- "Email me" ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_web_child_who_chose_email_gets_only_news_and_how_to_read_it(client, unit, focal_point):
    address = "kid.canary@example.org"
    client.cookies["django_language"] = "en"
    response = client.post(
        reverse("intake:complaint_form", args=[unit.code]),
        {
            "narrative": NARRATIVE,
            "category": "physical_violence",
            "in_danger": "no",
            "about_staff": "yes",
            "contact_preference": "email",
            "contact_detail": address,
        },
    )
    reference, code = receipt_from(response)
    case = Case.objects.get()
    assert case.delivery_email and address not in all_rows_as_text()

    case = walk(case, focal_point, DECISION)
    rows = list(OutboundEmail.objects.order_by("created_at"))
    assert [r.carries_outcome for r in rows] == [False, True]
    assert case.outcome_told_at is None
    send_pending_emails()
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert message.to == [address]
        text = message.subject + message.body
        assert reference in text and "/follow-up/" in text
        assert code not in text and code.replace(" ", "") not in text
        assert NARRATIVE not in text
        assert "could not show" not in text and "has read" not in text  # no news content
    case.refresh_from_db()
    assert case.outcome_told_at is not None
    case_transition(case=case, actor=focal_point, to_status=S.CLOSED, reason="Done")
    # Closed: the address is dropped, and a stray email later is skipped, not sent.
    case.refresh_from_db()
    assert case.delivery_email is None
    stray = OutboundEmail.objects.create(case=case)
    assert child_email_deliver(stray.pk) == OutboundEmail.Status.SKIPPED
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_an_email_child_is_told_there_is_news_when_a_focal_point_replies(
    file_complaint, unit, focal_point
):
    file_complaint(unit, contact_preference="email", contact_detail="kid@example.org")
    case = Case.objects.get()
    case_reply(case=case, actor=focal_point, body="Can you tell us the day it happened?")
    send_pending_emails()
    [message] = mail.outbox
    assert message.to == ["kid@example.org"] and case.display_reference in message.body
    assert "the day it happened" not in message.subject + message.body


@pytest.mark.django_db
def test_an_email_child_hears_of_a_late_answer_with_nobody_present(file_complaint, unit):
    file_complaint(unit, contact_preference="email", contact_detail="kid@example.org")
    case = Case.objects.get()
    escalation_sweep(now=case.acknowledge_due_at + timedelta(minutes=1))
    send_pending_emails()
    assert [m.to for m in mail.outbox] == [["kid@example.org"]]


@pytest.mark.django_db
def test_an_email_that_bounces_for_good_is_failed_and_the_case_can_still_close(
    file_complaint, unit, focal_point, monkeypatch
):
    import smtplib

    def refuse(*args, **kwargs):
        raise smtplib.SMTPRecipientsRefused({"kid@example.org": (550, b"no such user")})

    file_complaint(unit, contact_preference="email", contact_detail="kid@example.org")
    case = walk(Case.objects.get(), focal_point, DECISION)
    monkeypatch.setattr("notifications.delivery.send_mail", refuse)
    send_pending_emails()
    row = OutboundEmail.objects.filter(carries_outcome=True).get()
    assert row.status == OutboundEmail.Status.FAILED and row.error_code == "smtp-550"
    case.refresh_from_db()
    assert case.outcome_told_at is None
    event = case_transition(case=case, actor=focal_point, to_status=S.CLOSED, reason="Done")
    assert "the outcome could not be sent" in event.reason


# --- "Call me" -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_call_me_gives_a_call_task_an_audited_number_and_a_told_by_phone_step(
    file_complaint, staff_client, unit, focal_point
):
    file_complaint(unit, contact_preference="phone", contact_detail="+221 77 000 11 22")
    case = walk(Case.objects.get(), focal_point, DECISION)
    assert not OutboundSms.objects.exists() and not OutboundEmail.objects.exists()

    client = staff_client(focal_point)
    page = client.get(reverse("staff:case", args=[case.reference])).content.decode()
    assert "Call task" in page and "Told the child by phone: Not substantiated" in page
    assert "000 11 22" not in page  # only on request
    with pytest.raises(TransitionRefused, match="asked to be called"):
        case_transition(case=case, actor=focal_point, to_status=S.CLOSED, reason="Done")

    revealed = client.post(reverse("staff:case_contact", args=[case.reference])).content.decode()
    assert "+221 77 000 11 22" in revealed
    assert (
        AuditEvent.objects.filter(
            action="complaints.case.contact_revealed", case=case, actor=focal_point
        ).count()
        == 1
    )

    client.post(
        reverse("staff:case_told_by_phone", args=[case.reference]),
        {"note": "She understood and thanked us."},
    )
    case.refresh_from_db()
    assert case.outcome_told_at is not None
    assert CaseEvent.objects.filter(
        case=case, reason__startswith="Told the child the outcome (not substantiated) by phone"
    ).exists()
    assert AuditEvent.objects.filter(action="complaints.case.told_by_phone", case=case).exists()
    # What was said is an encrypted note, not plaintext history.
    assert "thanked" not in all_rows_as_text()
    case_transition(case=case, actor=focal_point, to_status=S.CLOSED, reason="Done")


@pytest.mark.django_db
def test_told_by_phone_needs_an_outcome_and_a_child_who_asked_for_a_call(
    file_complaint, unit, focal_point
):
    file_complaint(unit, contact_preference="phone", contact_detail="+221770001122")
    case = Case.objects.get()
    with pytest.raises(TransitionRefused, match="no outcome"):
        case_told_by_phone(case=case, actor=focal_point)
    file_complaint(unit, contact_preference="follow_up_page")
    other = Case.objects.get(contact_preference="follow_up_page")
    with pytest.raises(TransitionRefused, match="did not ask"):
        case_told_by_phone(case=walk(other, focal_point, DECISION), actor=focal_point)


@pytest.mark.django_db
def test_the_number_is_404_for_an_outsider_and_audits_nothing(
    file_complaint, staff_client, unit, outsider
):
    file_complaint(unit, contact_preference="phone", contact_detail="+221770001122")
    case = Case.objects.get()
    client = staff_client(outsider)
    assert client.post(reverse("staff:case_contact", args=[case.reference])).status_code == 404
    assert not AuditEvent.objects.filter(action="complaints.case.contact_revealed").exists()


@pytest.mark.django_db
def test_the_case_page_costs_the_same_queries_whatever_the_channel(
    file_complaint, staff_client, unit, focal_point
):
    for preference, detail in (
        ("phone", "+221770001122"),
        ("email", "a@example.org"),
        ("sms", "+221770001133"),
        ("none", ""),
    ):
        file_complaint(unit, contact_preference=preference, contact_detail=detail)
    client = staff_client(focal_point)
    counts = []
    for case in Case.objects.all():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("staff:case", args=[case.reference])).status_code == 200
        counts.append(len(queries))
    assert max(counts) - min(counts) <= 1, counts


# --- Referral: the third place the child is told ------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_the_referral_text_fits_two_segments(unit, language):
    from notifications.sms import render_sms

    case = Case(reference="K7QM4TPX", unit=unit)
    text = render_sms("referred", language, case=case, reference="A3C4-D5E6")
    assert "A3C4-D5E6" in text and segments(text) <= 2


@pytest.mark.django_db
def test_a_referred_text_me_child_is_texted_the_new_reference_and_an_email_child_emailed(
    file_complaint, staff_client, unit, other_unit, focal_point
):
    file_complaint(unit, contact_preference="sms", contact_detail="+221771234567")
    file_complaint(unit, contact_preference="email", contact_detail="kid@example.org")
    staff = staff_client(focal_point)
    for case in Case.objects.all():
        walk(case, focal_point, [(S.ACKNOWLEDGED, ""), (S.ASSESSING, "")])
        staff.post(
            reverse("staff:case_refer", args=[case.reference]),
            {"to_unit": other_unit.pk, "consent": "on", "reason": ""},
        )
    texted = Case.objects.get(unit=unit, contact_preference="sms")
    mailed = Case.objects.get(unit=unit, contact_preference="email")
    assert texted.status == mailed.status == S.REFERRED
    linked = Case.objects.get(referred_from=texted)
    # The linked case keeps the way the child chose: the same number, a sealed address.
    assert linked.sms_reporter_id == texted.sms_reporter_id
    assert Case.objects.get(referred_from=mailed).delivery_email
    send_pending_texts()
    send_pending_emails()
    assert locmem.outbox[-1]["body"] == (
        f"{texted.display_reference}: your complaint now has the reference "
        f"{linked.display_reference}. Use it with the same secret code."
    )
    # Acknowledged, referred (the decision), the new reference: news each time, no content.
    assert len([m for m in mail.outbox if m.to == ["kid@example.org"]]) == 3
    mailed.refresh_from_db()
    assert mailed.outcome_told_at is not None


@pytest.mark.django_db(transaction=True)
def test_task_payloads_carry_ids_not_the_address_or_number(file_complaint, unit, focal_point):
    from django_q.models import OrmQ
    from django_q.signing import SignedPackage

    file_complaint(unit, contact_preference="email", contact_detail="kid.canary@example.org")
    file_complaint(unit, contact_preference="sms", contact_detail="+221779998877")
    for case in Case.objects.all():
        case_transition(case=case, actor=focal_point, to_status=S.ACKNOWLEDGED)
    tasks = [SignedPackage.loads(task.payload) for task in OrmQ.objects.all()]
    assert {"notifications.tasks.deliver_child_email", "notifications.tasks.deliver_sms"} <= {
        task["func"] for task in tasks
    }
    for task in tasks:
        assert "kid.canary" not in repr(task) and "779998877" not in repr(task)


@pytest.mark.django_db
def test_a_text_me_child_gets_keyword_replies_in_the_language_they_filed_in(unit, focal_point, sms):
    from complaints.services import complaint_receive

    case = complaint_receive(
        unit=unit,
        channel="web",
        language="fr",
        narrative=NARRATIVE,
        category="neglect",
        in_danger=False,
        about_staff_answer="no",
        contact_preference="sms",
        contact_detail="+221 77 000 07 77",
    ).case
    reply = sms("STATUS", phone="+221770000777")
    assert case.display_reference in reply and reply.startswith("Plainte")


@pytest.mark.django_db
def test_a_decided_case_promises_nothing_its_page_does_not_offer(client, unit, focal_point):
    response = client.post(
        reverse("intake:complaint_form", args=[unit.code]),
        {
            "narrative": NARRATIVE,
            "category": "physical_violence",
            "in_danger": "no",
            "about_staff": "no",
            "contact_preference": "follow_up_page",
            "contact_detail": "",
        },
    )
    reference, code = receipt_from(response)
    walk(Case.objects.get(), focal_point, DECISION)
    client.post(reverse("intake:followup"), {"reference": reference, "code": code})
    page = client.get(reverse("intake:followup_case")).content.decode()
    assert "could not show that it happened" in page
    assert 'name="body"' not in page and "add information here" not in page
