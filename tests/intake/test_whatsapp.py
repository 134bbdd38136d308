"""WhatsApp on the Twilio messaging webhook (issue 19 §1): the SMS conversation, whole,
from "whatsapp:" addresses; its own reporters; free text within WhatsApp's 24-hour
window, an approved template and held texts outside it."""

import logging
import uuid
from datetime import timedelta
from html import unescape

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from complaints.models import Case
from complaints.services import case_reply
from intake.models import SmsReporter
from intake.sms import conversations_sweep
from notifications.backends import PermanentSendError, locmem
from notifications.gsm import to_gsm
from notifications.models import OutboundSms
from notifications.sms import sms_deliver, whatsapp_sender
from notifications.tasks import requeue_due
from policies.models import WhatsAppTemplate
from tests.conftest import (
    PASSWORD,
    all_rows_as_text,
    burst,
    sign_twilio,
    staff_login,
    staff_reads,
)
from tests.intake.test_sms import FLOW

pytestmark = pytest.mark.usefixtures("focal_point")

INBOUND = "/sms/twilio/inbound/"
STATUS = "/sms/twilio/status/"
PHONE = "+221770000001"
CHILD = "whatsapp:" + PHONE
SERVICE = "whatsapp:+14155238886"
TEMPLATE_SID = "HX" + "b" * 32


def inbound(body: str, sender: str = CHILD, to: str = SERVICE, sid: str | None = None) -> dict:
    return {
        "MessageSid": sid or f"SM{uuid.uuid4().hex}",
        "From": sender,
        "To": to,
        "Body": body,
        "AccountSid": "ACtest",
        "NumMedia": "0",
    }


def reply_of(response) -> str:
    assert response.status_code == 200, response.content
    text = response.content.decode()
    return unescape("\n".join(part.split("</Message>")[0] for part in text.split("<Message>")[1:]))


@pytest.fixture
def whatsapp(twilio_post):
    """Write to the service from WhatsApp, signed as Twilio signs; returns the reply."""

    def send(body: str, sender: str = CHILD, to: str = SERVICE, sid: str | None = None) -> str:
        return reply_of(twilio_post(INBOUND, inbound(body, sender, to, sid)))

    return send


def file_by_whatsapp(whatsapp, sender: str = CHILD) -> Case:
    for text in ("TST1 the guard hit me", "DONE", "2", "2"):
        whatsapp(text, sender=sender)
    return Case.objects.filter(sms_reporter__channel="whatsapp").latest("received_at")


def outside_the_window(reporter: SmsReporter, hours: float = 25) -> None:
    SmsReporter.objects.filter(pk=reporter.pk).update(
        last_inbound_at=timezone.now() - timedelta(hours=hours)
    )


def queued_ids() -> list[str]:
    """The ids the queue holds for deliver_sms, in order (a task carries the id only)."""
    ids = []
    for task in OrmQ.objects.order_by("id"):
        package = SignedPackage.loads(task.payload)
        if package["func"] == "notifications.tasks.deliver_sms":
            ids.extend(package["args"])
    return ids


# --- The conversation ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("language", FLOW)
def test_a_whatsapp_conversation_files_a_case_in_each_language(whatsapp, unit, language):
    menu_choice, ask, done, category_question, danger_question, thanks = FLOW[language]
    assert "1 English 2 Francais 3 Espanol" in whatsapp("TST1")
    # WhatsApp carries any character: the texts are not folded into GSM-7.
    assert ask in whatsapp(menu_choice)
    whatsapp("Me pegaron en la comisaría")
    assert whatsapp(done).startswith(category_question)
    assert whatsapp("6") == danger_question
    filed = whatsapp("1")
    case = Case.objects.get()
    assert thanks in filed and case.display_reference in filed
    assert case.channel == Case.Channel.WHATSAPP and case.unit == unit
    assert case.language == language and case.urgency == "emergency"
    assert staff_reads(case).narrative == "Me pegaron en la comisaría"
    reporter = SmsReporter.objects.get()
    assert reporter.channel == SmsReporter.Channel.WHATSAPP and reporter.language == language
    assert reporter.read_phone() == CHILD and reporter.service_address == SERVICE
    assert reporter.last_inbound_at is not None


@pytest.mark.django_db
def test_a_french_whatsapp_reply_keeps_its_accents_where_sms_folds_them(whatsapp, sms, unit):
    assert whatsapp("FR") == "D'accord, nous t'écrirons en français."
    assert sms("FR", phone=PHONE) == to_gsm("D'accord, nous t'écrirons en français.")
    assert "francais" in sms("FR", phone=PHONE)
    whatsapp("TST1 on m'a frappé")
    assert whatsapp("FIN").startswith("C'est plutôt quoi ?")


@pytest.mark.django_db
def test_the_same_phone_by_sms_and_by_whatsapp_is_two_reporters(whatsapp, sms, unit):
    by_whatsapp = file_by_whatsapp(whatsapp)
    for text in ("TST1 they locked me in", "DONE", "2", "2"):
        sms(text, phone=PHONE)
    by_sms = Case.objects.get(channel=Case.Channel.SMS)
    assert SmsReporter.objects.count() == 2
    whatsapp_reporter, sms_reporter = by_whatsapp.sms_reporter, by_sms.sms_reporter
    assert whatsapp_reporter != sms_reporter
    assert whatsapp_reporter.phone_index != sms_reporter.phone_index
    assert sms_reporter.channel == "sms" and sms_reporter.read_phone() == PHONE
    # Neither sees the other's case.
    status = whatsapp("STATUS")
    assert by_whatsapp.display_reference in status and by_sms.display_reference not in status
    status = sms("STATUS", phone=PHONE)
    assert by_sms.display_reference in status and by_whatsapp.display_reference not in status
    # A later message goes to the sender's own case only.
    whatsapp("and he took my phone")
    assert len(staff_reads(by_whatsapp).messages) == 1
    assert staff_reads(by_sms).messages == []


@pytest.mark.django_db
def test_keywords_work_on_whatsapp(whatsapp, unit, focal_point):
    assert whatsapp("HELP").startswith("In danger now? Call 116")  # no case yet
    case = file_by_whatsapp(whatsapp)
    ref = case.display_reference
    assert (
        whatsapp("STATUS") == f"Complaint {ref}: We have your complaint. Someone will read it soon."
    )
    assert whatsapp("CODE").startswith(f"Web code for {ref}: ")
    assert whatsapp("ES") == "Vale, te escribiremos en español."  # accents kept
    assert whatsapp("ESTADO") == f"Queja {ref}: Tenemos tu queja. Alguien la leerá pronto."
    assert whatsapp("RETIRAR").startswith(f"{ref}: ¿quieres detener esta queja?")
    assert whatsapp("NO") == f"{ref}: De acuerdo, tu queja sigue."
    assert whatsapp("STOP").startswith("No recibirás más mensajes nuestros.")
    assert SmsReporter.objects.get().opted_out
    # After STOP: nothing goes out, on WhatsApp as by SMS.
    case_reply(case=case, actor=focal_point, body="We will call.")
    assert OutboundSms.objects.get().status == OutboundSms.Status.SUPPRESSED
    assert whatsapp("START") == "Te volveremos a escribir. Envía AYUDA si la necesitas."
    assert not SmsReporter.objects.get().opted_out
    assert Case.objects.get().status != Case.Status.WITHDRAWN


# --- Outbound: WhatsApp's 24-hour window ----------------------------------------------------


@pytest.mark.django_db
def test_inside_the_window_a_reply_goes_as_free_text_from_the_whatsapp_sender(
    whatsapp, unit, focal_point
):
    case = file_by_whatsapp(whatsapp)
    whatsapp("FR")
    case_reply(case=case, actor=focal_point, body="Nous t'appelons à 15 h, c'est sûr.")
    outbound = OutboundSms.objects.get()
    assert sms_deliver(outbound.pk) == "sent"
    assert locmem.outbox == [
        {
            "to": CHILD,
            "sender": SERVICE,
            "body": f"Plainte {case.display_reference} : Nous t'appelons à 15 h, c'est sûr.",
            "status_callback": "http://127.0.0.1:8000/sms/twilio/status/",
            "sid": locmem.outbox[0]["sid"],
        }
    ]


@pytest.mark.django_db
def test_the_window_counts_its_safety_margin(whatsapp, unit, focal_point, settings):
    settings.WHATSAPP_WINDOW_HOURS, settings.WHATSAPP_WINDOW_MARGIN_MINUTES = 24, 30
    case = file_by_whatsapp(whatsapp)
    reporter = case.sms_reporter
    outside_the_window(reporter, hours=23.7)  # 18 minutes left: inside the margin
    case_reply(case=case, actor=focal_point, body="Hello")
    assert sms_deliver(OutboundSms.objects.get().pk) == OutboundSms.Status.WAITING
    outside_the_window(reporter, hours=23.4)  # 36 minutes left
    case_reply(case=case, actor=focal_point, body="Hello again")
    latest = OutboundSms.objects.exclude(status=OutboundSms.Status.WAITING).get()
    assert sms_deliver(latest.pk) == "sent"


@pytest.mark.django_db
def test_outside_the_window_the_units_template_says_there_is_news_and_the_text_waits(
    whatsapp, unit, focal_point, twilio_post, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    WhatsAppTemplate.objects.create(unit=unit, language="en", content_sid=TEMPLATE_SID)
    WhatsAppTemplate.objects.create(unit=unit, language="fr", content_sid="HX" + "f" * 32)
    case = file_by_whatsapp(whatsapp)
    outside_the_window(case.sms_reporter)
    case_reply(case=case, actor=focal_point, body="canary-words We found your bag.")
    first = OutboundSms.objects.get()
    assert sms_deliver(first.pk) == OutboundSms.Status.WAITING
    [template] = locmem.outbox
    assert template["content_sid"] == TEMPLATE_SID and template["body"] is None
    assert template["variables"] == {"1": case.display_reference}
    assert template["to"] == CHILD and template["sender"] == SERVICE
    first.refresh_from_db()
    assert first.template_sid == template["sid"] and bytes(first.body) != b""
    # A second text while the first waits: held too, the child is not told twice.
    case_reply(case=case, actor=focal_point, body="canary-words And your shoes.")
    second = OutboundSms.objects.exclude(pk=first.pk).get()
    assert sms_deliver(second.pk) == OutboundSms.Status.WAITING
    assert len(locmem.outbox) == 1
    # The template's own status reports do not touch the held text.
    twilio_post(STATUS, {"MessageSid": template["sid"], "MessageStatus": "failed"})
    first.refresh_from_db()
    assert first.status == OutboundSms.Status.WAITING
    assert "canary-words" not in repr(template) and "canary-words" not in caplog.text

    # The child answers: the reply comes as TwiML, the held texts after it, by the queue.
    OrmQ.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert case.display_reference in whatsapp("STATUS")
    assert sorted(queued_ids()) == sorted([str(first.pk), str(second.pk)])
    for outbound_id in queued_ids():
        sms_deliver(outbound_id)
    bodies = [message["body"] for message in locmem.outbox[1:]]
    assert bodies == [
        f"About {case.display_reference}: canary-words We found your bag.",
        f"About {case.display_reference}: canary-words And your shoes.",
    ]
    assert all(message["sender"] == SERVICE for message in locmem.outbox[1:])
    for outbound_id in (first.pk, second.pk):
        assert sms_deliver(outbound_id) == "not-claimed"
    assert set(OutboundSms.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db
def test_outside_the_window_with_no_template_for_the_language_the_text_is_held(
    whatsapp, unit, focal_point
):
    WhatsAppTemplate.objects.create(unit=unit, language="fr", content_sid=TEMPLATE_SID)
    case = file_by_whatsapp(whatsapp)  # in English
    outside_the_window(case.sms_reporter)
    case_reply(case=case, actor=focal_point, body="We found your bag.")
    outbound = OutboundSms.objects.get()
    assert sms_deliver(outbound.pk) == OutboundSms.Status.WAITING
    assert locmem.outbox == []
    # Nothing goes by itself: the minute sweep leaves it waiting while the window is shut.
    requeue_due(now=timezone.now())
    assert sms_deliver(outbound.pk) == "not-claimed"
    assert OutboundSms.objects.get().status == OutboundSms.Status.WAITING


@pytest.mark.django_db
def test_a_held_text_caught_in_a_race_with_the_childs_message_goes_with_the_sweep(
    whatsapp, unit, focal_point
):
    """A send that read the reporter before the child wrote holds the text after that
    message released the others: the minute sweep sees the window open and sends it."""
    case = file_by_whatsapp(whatsapp)
    case_reply(case=case, actor=focal_point, body="We found your bag.")
    OutboundSms.objects.update(status=OutboundSms.Status.WAITING)  # as the racing send left it
    requeue_due(now=timezone.now())
    assert sms_deliver(OutboundSms.objects.get().pk) == "sent"
    assert locmem.outbox[0]["body"].endswith("We found your bag.")


@pytest.mark.django_db(transaction=True)
def test_two_messages_at_once_release_each_held_text_once(unit, focal_point, settings):
    client = Client()

    def post(body):
        params = inbound(body)
        signature = sign_twilio(settings.PUBLIC_BASE_URL + INBOUND, params)
        return client.post(INBOUND, params, HTTP_X_TWILIO_SIGNATURE=signature)

    for text in ("TST1 the guard hit me", "DONE", "2", "2"):
        assert post(text).status_code == 200
    case = Case.objects.get()
    outside_the_window(case.sms_reporter)
    for body in ("one", "two", "three"):
        case_reply(case=case, actor=focal_point, body=f"News {body}")
    for outbound in OutboundSms.objects.all():
        assert sms_deliver(outbound.pk) == OutboundSms.Status.WAITING
    OrmQ.objects.all().delete()

    def write(i):
        params = inbound(f"hello {i}")
        signature = sign_twilio(django_settings.PUBLIC_BASE_URL + INBOUND, params)
        return Client().post(INBOUND, params, HTTP_X_TWILIO_SIGNATURE=signature).status_code

    assert burst(2, write) == [200, 200]
    # Every worker runs every task it is given (the same id may be queued twice).
    for outbound_id in queued_ids() + queued_ids():
        sms_deliver(outbound_id)
    bodies = sorted(message["body"] for message in locmem.outbox)
    assert bodies == [f"About {case.display_reference}: News {n}" for n in ("one", "three", "two")]
    assert set(OutboundSms.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db
def test_the_sweeps_texts_to_a_whatsapp_child_keep_their_accents(whatsapp, unit, settings):
    whatsapp("FR")
    whatsapp("TST1 on m'a enfermé")
    later = timezone.now() + timedelta(minutes=settings.SMS_NARRATIVE_PAUSE_MINUTES + 1)
    assert conversations_sweep(now=later)["asked_category"] == 1
    assert sms_deliver(OutboundSms.objects.get().pk) == "sent"
    assert locmem.outbox[0]["body"].startswith("C'est plutôt quoi ?")
    assert locmem.outbox[0]["to"] == CHILD


# --- Confidentiality ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_no_words_or_number_of_a_whatsapp_child_in_rows_logs_or_tasks(
    twilio_post, unit, focal_point, caplog
):
    caplog.set_level(logging.DEBUG)
    canary = f"canary{uuid.uuid4().hex[:12]}"
    phone = "+2217" + str(uuid.uuid4().int)[:8]
    sender = "whatsapp:" + phone
    WhatsAppTemplate.objects.create(unit=unit, language="en", content_sid=TEMPLATE_SID)
    for text in (f"TST1 {canary} hit me", "DONE", "2", "2"):
        reply_of(twilio_post(INBOUND, inbound(text, sender=sender)))
    case = Case.objects.get()
    outside_the_window(case.sms_reporter)
    case_reply(case=case, actor=focal_point, body=f"Reply {canary}")
    sms_deliver(OutboundSms.objects.get().pk)  # held: the template goes
    reply_of(twilio_post(INBOUND, inbound(f"also {canary}", sender=sender)))
    for outbound_id in queued_ids():
        sms_deliver(outbound_id)
    assert [m["to"] for m in locmem.outbox] == [sender, sender]  # it did go out

    dump = all_rows_as_text()
    for secret in (canary, phone, phone[1:]):
        assert secret not in dump
        assert secret not in caplog.text
        assert secret not in repr(locmem.outbox[0]["variables"])
    for task in OrmQ.objects.all():
        payload = repr(SignedPackage.loads(task.payload))
        assert canary not in payload and phone[1:] not in payload


@pytest.mark.django_db
def test_a_refused_template_still_holds_the_text(
    whatsapp, unit, focal_point, django_capture_on_commit_callbacks
):
    WhatsAppTemplate.objects.create(unit=unit, language="en", content_sid=TEMPLATE_SID)
    case = file_by_whatsapp(whatsapp)
    outside_the_window(case.sms_reporter)
    case_reply(case=case, actor=focal_point, body="We found your bag.")
    outbound = OutboundSms.objects.get()
    locmem.fail_next.append(PermanentSendError("63016"))
    assert sms_deliver(outbound.pk) == OutboundSms.Status.WAITING
    outbound.refresh_from_db()
    assert outbound.template_sid == "" and bytes(outbound.body) != b""
    with django_capture_on_commit_callbacks(execute=True):
        whatsapp("hello?")
    assert sms_deliver(outbound.pk) == "sent"
    assert locmem.outbox[-1]["body"].endswith("We found your bag.")


@pytest.mark.django_db
def test_the_sender_is_where_the_child_wrote_else_the_units_number_else_the_default(
    whatsapp, unit, settings
):
    settings.TWILIO_WHATSAPP_FROM = "whatsapp:+15550001111"
    case = file_by_whatsapp(whatsapp)
    reporter = case.sms_reporter
    assert whatsapp_sender(reporter, case) == SERVICE
    reporter.service_address = ""
    assert whatsapp_sender(reporter, case) == "whatsapp:+15550001111"
    unit.whatsapp_number = "+221330000000"
    unit.save()
    case.refresh_from_db()
    assert whatsapp_sender(reporter, case) == "whatsapp:+221330000000"


@pytest.mark.django_db
def test_staff_see_a_whatsapp_case_as_one_from_the_text_conversation(
    whatsapp, unit, focal_point, staff_client
):
    case = file_by_whatsapp(whatsapp)
    page = staff_client(focal_point).get(f"/staff/cases/{case.reference}/").content.decode()
    assert "Not asked: the SMS conversation does not ask it." in page
    assert PHONE not in page and PHONE[1:] not in page


@pytest.mark.django_db
def test_a_platform_administrator_sets_a_units_whatsapp_template_in_the_admin(
    client, unit, django_user_model
):
    root = django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    TOTPDevice.objects.create(user=root, name="phone", confirmed=True)
    staff_login(client, root)
    form = {"unit": unit.pk, "language": "fr", "content_sid": "HX" + "c" * 32}
    response = client.post("/admin/policies/whatsapptemplate/add/", form)
    assert response.status_code == 302
    template = WhatsAppTemplate.objects.get()
    assert (template.unit, template.language) == (unit, "fr")
    # One per unit and language; a Content SID is HX and 32 hex digits.
    again = client.post("/admin/policies/whatsapptemplate/add/", form)
    assert again.status_code == 200 and WhatsAppTemplate.objects.count() == 1
    bad = client.post(
        "/admin/policies/whatsapptemplate/add/", {**form, "language": "es", "content_sid": "x"}
    )
    assert bad.status_code == 200 and WhatsAppTemplate.objects.count() == 1
