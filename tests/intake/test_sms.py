import logging
import re
import threading
import uuid
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from complaints.models import Case, Message
from complaints.services import case_reply
from intake.models import InboundSms, SmsCodePickup, SmsConversation, SmsReporter
from intake.sms import conversations_sweep, welcome_text
from intake.sms_budget import category_menu_pages, sms_samples, sms_template_names
from notifications.backends import PermanentSendError, TransientSendError, locmem
from notifications.gsm import segments, to_gsm
from notifications.models import OutboundSms
from notifications.sms import sms_deliver
from policies.categories import SMS_LABELS
from policies.models import Unit
from tests.conftest import all_rows_as_text, sign_twilio, staff_reads
from vault import server_sealed

# Every case here has a focal point to read it with their own key (no server copy).
pytestmark = pytest.mark.usefixtures("focal_point")

INBOUND = "/sms/twilio/inbound/"
STATUS = "/sms/twilio/status/"
PHONE = "+221770000001"


def params(body="hello", sid=None, phone=PHONE, **extra):
    return {
        "MessageSid": sid or f"SM{uuid.uuid4().hex}",
        "From": phone,
        "To": "+15005550000",
        "Body": body,
        **extra,
    }


def narrative_of(case):
    return staff_reads(case).narrative


# --- Signatures ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_missing_signature_is_403_and_stores_nothing(twilio_post, unit):
    response = twilio_post(INBOUND, params("TST1 they hit me"), sign=False)
    assert response.status_code == 403
    assert not InboundSms.objects.exists() and not SmsReporter.objects.exists()


@pytest.mark.django_db
def test_wrong_or_tampered_signature_is_403(twilio_post, settings, unit):
    good = params("TST1 they hit me")
    url = settings.PUBLIC_BASE_URL + INBOUND
    signed_by_stranger = sign_twilio(url, good, token="not-our-token")
    assert twilio_post(INBOUND, good, signature=signed_by_stranger).status_code == 403
    tampered = dict(good, Body="TST1 something else")
    assert twilio_post(INBOUND, tampered, signature=sign_twilio(url, good)).status_code == 403
    other_url = sign_twilio("https://evil.example" + INBOUND, good)
    assert twilio_post(INBOUND, good, signature=other_url).status_code == 403
    assert not InboundSms.objects.exists()


@pytest.mark.django_db
def test_unknown_extra_parameters_are_accepted(twilio_post, unit):
    extra = params(
        "HELP",
        NumSegments="1",
        SmsStatus="received",
        ApiVersion="2010-04-01",
        FromCountry="SN",
        SomethingNew="whatever",
    )
    response = twilio_post(INBOUND, extra)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert "<Response><Message>" in response.content.decode()


# --- The conversation -------------------------------------------------------------------------


@pytest.mark.django_db
def test_first_message_with_code_and_narrative(sms, unit):
    reply = sms("tst1 The officer hit me with a belt")
    assert "DONE" in reply
    assert "more" in sms("It was on Friday night")
    assert "Reply with a number" in sms("DONE")
    assert sms("2") == "Are you in danger right now? 1 yes 2 no"
    filed = sms("2")
    case = Case.objects.get()
    assert case.display_reference in filed
    assert case.channel == Case.Channel.SMS and case.unit == unit
    assert case.category == "physical_violence" and case.urgency == "urgent"
    assert narrative_of(case) == "The officer hit me with a belt\nIt was on Friday night"
    assert case.sms_reporter.read_phone() == PHONE
    assert segments(filed) <= 2


FLOW = {
    "en": (
        "1",
        "Tell us what happened, in your own words.",
        "DONE",
        "What is it closest to? Reply with a number:",
        "Are you in danger right now? 1 yes 2 no",
        "Thank you. Your complaint is",
    ),
    "fr": (
        "2",
        "Dis-nous ce qui s'est passé, avec tes mots.",
        "FIN",
        "C'est plutôt quoi ? Réponds avec un numéro :",
        "Es-tu en danger en ce moment ? 1 oui 2 non",
        "Merci. Ta plainte porte le numéro",
    ),
    "es": (
        "3",
        "Cuéntanos qué pasó, con tus palabras.",
        "LISTO",
        "¿A qué se parece más? Responde con un número:",
        "¿Estás en peligro ahora? 1 sí 2 no",
        "Gracias. Tu queja es la",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("language", FLOW)
def test_full_conversation_in_each_language(sms, unit, language):
    menu_choice, ask, done, category_question, danger_question, thanks = FLOW[language]
    # The first reply to a new number: the language menu and the unit's emergency numbers.
    assert sms("TST1") == (
        "TST1: 1 English 2 Francais 3 Espanol 4 Arabic\n"
        "In danger now? Call 116 (Child helpline), 17 (Police)."
    )
    assert to_gsm(ask) in sms(menu_choice)
    sms("Me pegaron en la comisaría")
    assert sms(done).startswith(to_gsm(category_question))
    assert sms("6") == to_gsm(danger_question)
    filed = sms("1")
    case = Case.objects.get()
    assert case.language == language and case.in_danger and case.urgency == "emergency"
    # In danger: the emergency contacts come first.
    assert "116" in filed.split("\n")[0]
    assert filed.index("116") < filed.index(to_gsm(thanks))
    assert SmsReporter.objects.get().language == language


@pytest.mark.django_db
def test_unknown_first_word_asks_which_unit_and_keeps_the_message(sms, unit):
    reply = sms("please help they took my phone")
    # "please help" may be danger: asked first, with the numbers every unit gives.
    assert (
        reply == "In danger now? Call 116 (Child helpline), 17 (Police).\n"
        "Are you in danger right now? Reply YES or NO."
    )
    reply = sms("NO")
    assert "Which place is it about?" in reply and "1 TST1" in reply
    assert "Reply with a number" not in sms("1")  # unit chosen: the story goes on
    sms("DONE")
    sms("15")
    sms("2")
    assert narrative_of(Case.objects.get()) == "please help they took my phone"


@pytest.mark.django_db
def test_many_units_are_asked_by_code_not_by_menu(sms, unit, settings):
    settings.SMS_UNIT_MENU_MAX = 0
    reply = sms("hello")
    assert "Reply with its code" in reply and "1 TST1" not in reply


@pytest.mark.django_db
def test_a_unit_menu_too_long_for_two_segments_asks_for_the_code():
    units = [Unit(code=f"LONGCODE{i:08d}", name="Centre national de protection") for i in range(6)]
    text = welcome_text("en", units)
    assert segments(text) <= 2 and "Reply with its code" in text
    short = welcome_text("en", units[:2])
    assert "1 LONGCODE00000000" in short


@pytest.mark.django_db
def test_language_switch_mid_conversation(sms, unit):
    sms("TST1 they shouted at me")
    assert sms("FR") == to_gsm("D'accord, nous t'écrirons en français.")
    assert sms("FIN").startswith(to_gsm("C'est plutôt quoi ?"))


@pytest.mark.django_db
def test_later_messages_append_to_the_open_case(sms, unit):
    for text in ("TST1 they hit me", "DONE", "2", "2"):
        sms(text)
    case = Case.objects.get()
    assert (
        sms("and they took my shoes")
        == f"Added to your complaint {case.display_reference}. Thank you."
    )
    message = Message.objects.get()
    assert message.case == case and message.author_kind == Message.Author.REPORTER
    assert staff_reads(case).messages[0].body == "and they took my shoes"


@pytest.mark.django_db
def test_several_open_cases_ask_which_one(sms, unit):
    for _ in range(2):
        for text in ("TST1 they hit me", "DONE", "2", "2"):
            sms(text)
    first, second = Case.objects.order_by("received_at")
    reply = sms("one more thing")
    assert "Which complaint" in reply and first.display_reference in reply
    assert second.display_reference in reply
    assert "Added to your complaint" in sms("2")
    assert Message.objects.get().case == first  # newest first in the menu: 2 is the older


@pytest.mark.django_db
def test_status_help_and_their_translations(sms, unit):
    assert "no open complaint" in sms("STATUS")
    for word in ("HELP", "aide", "AYUDA", "INFO"):
        reply = sms(word)
        assert reply.startswith("In danger now? Call 116")
        assert "STOP: no more texts" in reply and segments(reply) <= 2
    for text in ("TST1 they hit me", "DONE", "2", "2"):
        sms(text)
    case = Case.objects.get()
    assert (
        sms("status")
        == f"Complaint {case.display_reference}: We have your complaint. Someone will read it soon."
    )
    assert sms("Statut").startswith(f"Complaint {case.display_reference}")
    assert "STOP: no more texts" in sms("INFO")


@pytest.mark.django_db
def test_stop_hurting_me_is_content_not_a_keyword(sms, unit):
    sms("TST1")
    sms("1")
    reply = sms("stop hurting me")
    assert reply.startswith("Call now: 116")  # not an opt-out: a child in danger
    assert SmsReporter.objects.get().opted_out_at is None
    case = Case.objects.get()
    assert case.urgency == "emergency" and narrative_of(case) == "stop hurting me"


@pytest.mark.django_db
def test_stop_silences_every_outbound_message_until_start(sms, unit, focal_point):
    for text in ("TST1 they hit me", "DONE", "2", "2"):
        sms(text)
    case = Case.objects.get()
    assert sms("STOP") == (
        "You will get no more texts from us. In danger now? Call 116 "
        "(Child helpline), 17 (Police).\nSend START to talk to us again."
    )
    assert SmsReporter.objects.get().opted_out
    assert sms("STOP") == ""  # already stopped: Twilio would block it anyway
    assert sms("they did it again") == ""  # no reply, but the content is kept
    assert staff_reads(case).messages[-1].body == "they did it again"
    case_reply(case=case, actor=focal_point, body="We are looking into it.")
    outbound = OutboundSms.objects.get()
    assert outbound.status == OutboundSms.Status.SUPPRESSED
    assert sms_deliver(outbound.pk) == "not-claimed"
    assert locmem.outbox == []
    assert "again" in sms("START")
    assert not SmsReporter.objects.get().opted_out


@pytest.mark.django_db
def test_duplicate_message_sid_counts_once_and_gets_the_same_reply(sms, unit):
    first = sms("TST1 they hit me", sid="SMduplicate")
    again = sms("TST1 they hit me", sid="SMduplicate")
    assert first == again
    assert InboundSms.objects.count() == 1
    assert SmsConversation.objects.get().read_draft() == "they hit me"


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_posts_of_one_message_sid_leave_one_message(unit, settings):
    from django.test import Client

    body = params("TST1 the guard hit me", sid="SMconcurrent0000000000000000000001")
    signature = sign_twilio(settings.PUBLIC_BASE_URL + INBOUND, body)
    barrier = threading.Barrier(20)
    statuses = []

    def post():
        try:
            barrier.wait(timeout=10)
            response = Client().post(INBOUND, body, HTTP_X_TWILIO_SIGNATURE=signature)
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [200] * 20
    assert InboundSms.objects.count() == 1
    assert SmsReporter.objects.count() == 1
    assert SmsConversation.objects.get().read_draft() == "the guard hit me"


@pytest.mark.django_db
def test_a_pause_moves_the_story_on_and_expiry_files_it(sms, unit, settings):
    sms("TST1 they locked me in")
    conversation = SmsConversation.objects.get()
    later = timezone.now() + timedelta(minutes=settings.SMS_NARRATIVE_PAUSE_MINUTES + 1)
    assert conversations_sweep(now=later)["asked_category"] == 1
    assert conversations_sweep(now=later)["asked_category"] == 0  # safe to run twice
    conversation.refresh_from_db()
    assert conversation.step == SmsConversation.Step.CATEGORY
    outbound = OutboundSms.objects.get()
    assert sms_deliver(outbound.pk) == "sent"
    assert locmem.outbox[0]["to"] == PHONE
    assert locmem.outbox[0]["body"].startswith("What is it closest to?")

    much_later = timezone.now() + timedelta(hours=settings.SMS_CONVERSATION_EXPIRY_HOURS + 1)
    assert conversations_sweep(now=much_later)["filed_on_expiry"] == 1
    case = Case.objects.get()
    assert narrative_of(case) == "they locked me in" and case.category == "other"
    kept = OutboundSms.objects.exclude(pk=outbound.pk).get()
    assert kept.case == case
    assert conversations_sweep(now=much_later)["filed_on_expiry"] == 0


# --- Outbound ---------------------------------------------------------------------------------


@pytest.fixture
def sms_case(sms, unit):
    for text in ("TST1 they hit me", "DONE", "2", "2"):
        sms(text)
    return Case.objects.get()


@pytest.mark.django_db
def test_staff_reply_to_an_sms_reporter_goes_by_sms(sms_case, focal_point, staff_client):
    client = staff_client(focal_point)
    page = client.get(reverse("staff:case", args=[sms_case.reference])).content.decode()
    assert "SMS reporter" in page and PHONE not in page and PHONE[1:] not in page
    client.post(
        reverse("staff:case", args=[sms_case.reference]), {"body": "We are sorry. We will call."}
    )
    outbound = OutboundSms.objects.get()
    assert sms_deliver(outbound.pk) == "sent"
    assert sms_deliver(outbound.pk) == "not-claimed"  # running twice sends once
    assert locmem.outbox == [
        {
            "to": PHONE,
            "sid": locmem.outbox[0]["sid"],
            "body": f"About {sms_case.display_reference}: We are sorry. We will call.",
            "status_callback": "http://127.0.0.1:8000/sms/twilio/status/",
        }
    ]
    # Sent: no server-sealed copy of what staff wrote is kept beside the case's own.
    outbound.refresh_from_db()
    assert bytes(outbound.body) == b""


@pytest.mark.django_db
def test_staff_replies_by_text_in_the_language_the_child_last_chose(sms, sms_case, focal_point):
    sms("FR")  # filed in English, then asked for French
    case_reply(case=sms_case, actor=focal_point, body="Nous vous appelons demain.")
    outbound = OutboundSms.objects.get()
    sms_deliver(outbound.pk)
    assert locmem.outbox[-1]["body"] == (
        f"Plainte {sms_case.display_reference} : Nous vous appelons demain."
    )


@pytest.mark.django_db
def test_transient_failure_retries_with_backoff(sms_case, focal_point):
    case_reply(case=sms_case, actor=focal_point, body="Hello")
    outbound = OutboundSms.objects.get()
    locmem.fail_next.append(TransientSendError("20429"))
    assert sms_deliver(outbound.pk) == "retry"
    outbound.refresh_from_db()
    assert outbound.status == OutboundSms.Status.PENDING and outbound.attempts == 1
    assert outbound.next_attempt_at > timezone.now()
    assert sms_deliver(outbound.pk) == "not-claimed"  # not due yet
    OutboundSms.objects.filter(pk=outbound.pk).update(next_attempt_at=timezone.now())
    assert sms_deliver(outbound.pk) == "sent"


@pytest.mark.django_db
def test_permanent_failure_stops_and_an_opted_out_number_is_recorded(sms_case, focal_point):
    case_reply(case=sms_case, actor=focal_point, body="Hello")
    outbound = OutboundSms.objects.get()
    locmem.fail_next.append(PermanentSendError("21610"))
    assert sms_deliver(outbound.pk) == "failed"
    outbound.refresh_from_db()
    assert outbound.status == OutboundSms.Status.FAILED and outbound.error_code == "21610"
    assert SmsReporter.objects.get().opted_out
    OutboundSms.objects.filter(pk=outbound.pk).update(next_attempt_at=timezone.now())
    assert sms_deliver(outbound.pk) == "not-claimed"


@pytest.mark.django_db
def test_status_callbacks_out_of_order_and_twice(sms_case, focal_point, twilio_post):
    case_reply(case=sms_case, actor=focal_point, body="Hello")
    outbound = OutboundSms.objects.get()
    sms_deliver(outbound.pk)
    sid = locmem.outbox[0]["sid"]
    for status in ("delivered", "sent", "delivered", "queued"):
        response = twilio_post(STATUS, {"MessageSid": sid, "MessageStatus": status})
        assert response.status_code == 204
    outbound.refresh_from_db()
    assert outbound.status == OutboundSms.Status.DELIVERED
    assert (
        twilio_post(STATUS, {"MessageSid": sid, "MessageStatus": "failed"}, sign=False).status_code
        == 403
    )


@pytest.mark.django_db
def test_status_callback_before_the_send_call_returns_is_applied(
    sms_case, focal_point, twilio_post
):
    case_reply(case=sms_case, actor=focal_point, body="Hello")
    outbound = OutboundSms.objects.get()
    # The provider calls back before our send call has stored its id.
    twilio_post(
        STATUS,
        {
            "MessageSid": "SMearly000000000000000000000000001",
            "MessageStatus": "undelivered",
            "ErrorCode": "30003",
        },
    )

    locmem.next_sids.append("SMearly000000000000000000000000001")
    assert sms_deliver(outbound.pk) == "sent"
    outbound.refresh_from_db()
    assert outbound.status == OutboundSms.Status.UNDELIVERED and outbound.error_code == "30003"


# --- Budgets and confidentiality ----------------------------------------------------------------


LONG_LABELS = {code: f"{label} (and everything like it)" for code, label in SMS_LABELS.items()}


@pytest.mark.django_db
def test_a_category_menu_too_long_for_two_segments_comes_in_pages(sms, unit, monkeypatch):
    # Labels as long as Arabic's take in UCS-2: 15 categories do not fit 2 segments.
    for code, label in LONG_LABELS.items():
        monkeypatch.setitem(SMS_LABELS, code, label)
    codes = list(SMS_LABELS)
    sms("tst1 The officer hit me with a belt")

    first = sms("DONE")
    assert first.startswith("What is it closest to?") and first.endswith("\n0 More")
    assert "1 Sexual abuse" in first
    second = sms("0")
    assert second.startswith("What is it closest to?")
    assert re.search(r"^(\d+) ", second, re.M).group(1) == str(first.count("\n"))  # next after
    # Every category is on some page, numbered through the whole list, each page within
    # two segments, the last without "0 More".
    pages = category_menu_pages(codes, "en")
    assert pages[:2] == [first, second] and len(pages) == 3
    numbers = [int(n) for page in pages for n in re.findall(r"^(\d+) ", page, re.M) if n != "0"]
    assert numbers == list(range(1, len(codes) + 1))
    assert all(segments(page) <= 2 for page in pages) and "0 More" not in pages[-1]
    # 0 after the last page shows the first again; a number from any page answers.
    assert sms("0") == pages[2]
    assert sms("0") == first
    assert sms(str(len(codes) - 1)) == "Are you in danger right now? 1 yes 2 no"
    sms("2")
    assert Case.objects.get().category == codes[-2]


@pytest.mark.django_db
def test_a_menu_that_fits_has_no_pages_and_0_is_more_story(sms, unit):
    sms("tst1 The officer hit me with a belt")
    menu = sms("DONE")
    assert "0 More" not in menu
    assert sms("0") == menu  # not a number of the menu: kept with the story, asked again


@pytest.mark.django_db
@pytest.mark.parametrize("language", [code for code, _name in django_settings.LANGUAGES])
def test_every_sms_template_fits_two_segments(language):
    """GSM-7: 306 characters; UCS-2 (Arabic, and isolate marks around references): 134.
    Every variant of every template, with the longest values (intake/sms_budget.py)."""
    samples = sms_samples(language)
    names = {name for name, _text in samples}
    assert {"filed", "welcome", "ask_category", "rate_ask"} <= names
    assert names == set(sms_template_names())
    for name in names:
        get_template(f"sms/{name}.txt")
    for name, text in samples:
        assert segments(text) <= 2, f"{name} [{language}] is {segments(text)} segments: {text!r}"


@pytest.mark.django_db(transaction=True)
def test_canary_phrase_and_phone_appear_nowhere(sms, unit, focal_point, caplog):
    caplog.set_level(logging.DEBUG)
    canary = f"canary{uuid.uuid4().hex[:12]}"
    phone = "+2217" + str(uuid.uuid4().int)[:8]
    for text in (f"TST1 {canary} hit me", "DONE", "2", "2", f"also {canary}"):
        sms(text, phone=phone)
    case = Case.objects.get()
    case_reply(case=case, actor=focal_point, body=f"Reply {canary}")
    for outbound in OutboundSms.objects.all():
        sms_deliver(outbound.pk)
    assert locmem.outbox and locmem.outbox[0]["to"] == phone  # it did go out

    dump = all_rows_as_text()
    for secret in (canary, phone, phone[1:]):
        assert secret not in dump
        assert secret not in caplog.text
    for task in OrmQ.objects.all():
        payload = repr(SignedPackage.loads(task.payload))
        assert canary not in payload and phone[1:] not in payload


@pytest.mark.django_db
def test_simulator_does_not_exist_when_debug_is_off(client, settings):
    settings.DEBUG = False
    assert client.get("/dev/sms/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_simulator_posts_real_signed_webhooks(client, live_server, settings, unit):
    settings.RECOURSE_ENV = "development"
    settings.PUBLIC_BASE_URL = live_server.url
    response = client.post(
        "/dev/sms/", {"phone": "+15005550006", "body": "TST1 they hit me"}, follow=True
    )
    html = response.content.decode()
    assert "Got it. Send more, or DONE when you have finished." in html
    assert InboundSms.objects.count() == 1


@pytest.mark.django_db
def test_sms_texts_are_not_html_escaped(sms_case, focal_point):
    case_reply(
        case=sms_case, actor=focal_point, body="Don't worry: we'll call you & your mum <soon>."
    )
    sms_deliver(OutboundSms.objects.get().pk)
    assert locmem.outbox[0]["body"].endswith("Don't worry: we'll call you & your mum <soon>.")


@pytest.mark.django_db
def test_a_reporter_who_never_picked_a_language_keeps_the_units(sms, unit, other_unit):
    assert other_unit.default_language == "fr"
    sms("OTH2 le surveillant m'a giflé")
    sms("FIN")
    sms("2")
    sms("2")
    assert sms("STATUT").startswith("Plainte")
    assert "STATUT" in sms("INFO")


@pytest.mark.django_db
def test_the_web_code_is_sent_once_on_request_and_never_kept(sms, unit, client):
    """The filing text carries no code (someone else may read the phone): CODE sends it
    once. A retry of that text gets it masked, and the server keeps no way to open the
    child's copy of the case key."""
    sms("TST1 the guard hit me")
    sms("DONE")
    sms("1")
    filed = sms("NO")
    assert not re.search(r"\d{4} \d{4} \d{4}", filed) and "CODE" in filed
    first = sms("CODE", sid="SMcode00000000000000000000000000001")
    code = re.search(r"(\d{4} \d{4} \d{4})", first).group(1)
    assert "delete this text" in first
    retry = sms("CODE", sid="SMcode00000000000000000000000000001")
    assert code not in retry and "**** **** ****" in retry
    assert "only once" in sms("CODE")  # asked again: gone
    assert Case.objects.count() == 1
    assert not SmsCodePickup.objects.exists()
    stored = InboundSms.objects.get(message_sid="SMcode00000000000000000000000000001")
    assert code not in server_sealed.open_field(stored, "reply")
    # The code opens the case on the web.
    case = Case.objects.get()
    response = client.post("/follow-up/", {"reference": case.display_reference, "code": code})
    assert response.status_code == 302


@pytest.mark.django_db
def test_a_text_for_a_case_that_closed_meanwhile_is_kept_not_dropped(sms, unit):
    for _ in range(2):
        for text in ("TST1 they hit me", "DONE", "2", "2"):
            sms(text)
    first, second = Case.objects.order_by("received_at")
    assert "Reply YES or NO" in sms("they came back at night")  # unsure words: asked first
    assert "Which complaint" in sms("NO")
    Case.objects.filter(pk=first.pk).update(
        status=Case.Status.CLOSED
    )  # closed before the child answers
    sms("2")
    conversation = SmsConversation.objects.exclude(step="finished").get()
    assert conversation.read_draft() == "they came back at night" and conversation.unit == unit
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_a_conversation_that_cannot_be_filed_does_not_stop_the_sweep(
    sms, unit, other_unit, settings, caplog
):
    sms("TST1 they locked me in")
    sms("OTH2 ils m'ont frappé", phone="+221770000002")
    Unit.objects.filter(pk=unit.pk).update(is_active=False)  # the first unit closed meanwhile
    much_later = timezone.now() + timedelta(hours=settings.SMS_CONVERSATION_EXPIRY_HOURS + 1)
    with caplog.at_level(logging.WARNING):
        assert conversations_sweep(now=much_later)["filed_on_expiry"] == 1
    assert Case.objects.get().unit == other_unit
    kept = SmsConversation.objects.get(unit=unit)
    assert kept.read_draft() == "they locked me in"  # still there, not dropped
    assert "locked" not in caplog.text and "ComplaintError" in caplog.text
