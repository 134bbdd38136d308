"""Photos and voice messages by MMS and WhatsApp (issue 19 §1): recorded by the signed
webhook without fetching, fetched by a task from a local stand-in of Twilio's Media
API with the account's credentials, sealed to the case, deleted at Twilio, opened by
the case's focal point (audited) and by nobody else."""

import logging
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from complaints.models import AuditEvent, Case
from complaints.retention import purge_expired
from intake.media import due_media_requeue, media_fetch
from intake.models import InboundMedia, SmsConversation
from notifications.gsm import segments
from notifications.models import Notification, OutboundSms
from notifications.sms import render_sms
from policies.models import Unit
from tests.conftest import all_rows_as_text
from tests.intake.media_standin import inbound, png, twilio_media_standin
from vault import server_sealed

PHONE = "+221770000001"
WHATSAPP = "whatsapp:+221770000002"
OGG = b"OggS\x00\x02" + b"opus voice note " * 20


@pytest.fixture
def twilio_media(settings):
    with twilio_media_standin(settings) as api:
        yield api


@pytest.fixture
def send(client, twilio_media):
    """A signed inbound message with `media` as (type, bytes) pairs: (reply, <Message>s)."""

    def post(body="", *, media=(), phone=PHONE, sid=None):
        return inbound(client, twilio_media, body, media=media, phone=phone, sid=sid)

    return post


def fetch_all() -> list[str]:
    return [media_fetch(pk) for pk in InboundMedia.objects.values_list("pk", flat=True)]


def file_case(send, phone=PHONE, story="TST1 the guard hit me") -> Case:
    for text in (story, "DONE", "2", "2"):
        send(text, phone=phone)
    return Case.objects.latest("received_at")


def media_response(client, case, media):
    return client.get(reverse("staff:case_media", args=[case.reference, media.pk]))


@pytest.mark.django_db
def test_a_photo_told_with_the_story_is_fetched_sealed_deleted_and_filed_with_it(
    send, twilio_media, unit, focal_point, staff_client
):
    canary = f"canary-{uuid.uuid4().hex}"
    photo = png(canary)
    reply, count = send("TST1 the guard hit me, look", media=[("image/jpeg", photo)])
    # One reply: the story's; the photo is fetched later, not during the webhook.
    assert count == 1 and reply.startswith("Got it.")
    assert twilio_media.requests == []
    media = InboundMedia.objects.get()
    assert media.status == "pending" and media.conversation is not None and media.case is None

    assert media_fetch(media.pk) == "sent"
    get, delete = twilio_media.requests
    assert get[0] == "GET" and get[2], "fetched with the account's credentials"
    assert delete[0] == "DELETE" and delete[2] and twilio_media.deleted == [media.media_sid]
    assert twilio_media.file_requests == [(False, media.media_sid)]  # no credentials there
    media.refresh_from_db()
    assert media.content is None and server_sealed.open_bytes(media, "draft_content") == photo

    for text in ("DONE", "2", "2"):
        send(text)
    case = Case.objects.get()
    media.refresh_from_db()
    assert media.case == case and media.conversation is None and media.draft_content is None
    assert canary.encode() not in bytes(media.content)
    assert canary not in all_rows_as_text()  # a dump shows no photo

    staff = staff_client(focal_point)
    page = staff.get(reverse("staff:case", args=[case.reference])).content.decode()
    assert "Photos and voice messages from the child" in page
    assert reverse("staff:case_media", args=[case.reference, media.pk]) in page
    opened_before = AuditEvent.objects.filter(action="complaints.media.opened").count()
    response = media_response(staff, case, media)
    assert response.status_code == 200 and response.content == photo
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Disposition"] == "inline"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("default-src 'none'")
    event = AuditEvent.objects.filter(action="complaints.media.opened").latest("id")
    assert AuditEvent.objects.filter(action="complaints.media.opened").count() == opened_before + 1
    assert event.actor == focal_point and event.case == case
    assert event.data == {"media": str(media.pk), "kind": "photo"}


@pytest.mark.django_db
def test_a_photo_is_thanked_in_the_childs_language_with_whatsapps_accents_and_arabics_marks(
    send, twilio_media, unit
):
    # French by WhatsApp keeps its ç (SMS folds it: GSM-7 has é and à, not ç); Arabic isolates
    # the reference so it reads left to right inside the right-to-left sentence.
    case = file_case(send, phone=WHATSAPP, story="TST1 le gardien m'a frappé très fort")
    reply, _ = send(media=[("image/png", png("fr"))], phone=WHATSAPP)
    reference = case.display_reference
    assert reply == f"J'ai bien reçu ta photo. Merci. C'est ajouté à ta plainte {reference}."
    by_sms = file_case(send, phone=PHONE, story="TST1 le gardien m'a frappé très fort")
    reply, _ = send(media=[("image/png", png("sms"))], phone=PHONE)
    assert reply == (
        f"J'ai bien recu ta photo. Merci. C'est ajouté à ta plainte {by_sms.display_reference}."
    )

    send("AR", phone=WHATSAPP)
    reply, _ = send(media=[("audio/ogg", OGG)], phone=WHATSAPP)
    assert reply.startswith("وصلتنا رسالتك الصوتية. شكرًا.")
    assert f"\u2066{reference}\u2069" in reply
    assert InboundMedia.objects.filter(case=case).count() == 2


@pytest.mark.django_db
def test_a_whatsapp_voice_note_alone_goes_to_the_open_case_and_is_acknowledged(
    send, twilio_media, unit, focal_point, staff_client
):
    case = file_case(send, phone=WHATSAPP)
    assert case.channel == Case.Channel.WHATSAPP
    notices = Notification.objects.filter(kind=Notification.Kind.CASE_UPDATED).count()
    reply, count = send(media=[("audio/ogg", OGG)], phone=WHATSAPP)
    assert count == 1
    assert reply == (
        f"We got your voice message. Thank you. It is with your complaint {case.display_reference}."
    )
    assert Notification.objects.filter(kind=Notification.Kind.CASE_UPDATED).count() > notices
    media = InboundMedia.objects.get()
    assert media.case == case and media.kind == "audio"
    assert fetch_all() == ["sent"]
    media.refresh_from_db()
    assert media.draft_content is None and media.size == len(OGG)
    response = media_response(staff_client(focal_point), case, media)
    assert response.content == OGG and response["Content-Type"] == "audio/ogg"
    page = staff_client(focal_point).get(reverse("staff:case", args=[case.reference]))
    assert b"<audio controls" in page.content


@pytest.mark.django_db
def test_a_photo_alone_before_any_case_waits_in_the_conversation_and_is_filed_as_story(
    send, twilio_media, unit
):
    reply, _ = send("TST1")
    reply, _ = send(media=[("image/png", png())])
    assert reply == "We got your photo. Thank you."
    assert fetch_all() == ["sent"]
    # A photo is story: DONE asks the category, as it would after words.
    assert "1" in send("DONE")[0]
    send("2")
    send("2")
    case = Case.objects.get()
    media = InboundMedia.objects.get()
    assert media.case == case and media.content and media.draft_content is None


@pytest.mark.django_db
def test_another_units_focal_point_gets_a_404(send, unit, focal_point, outsider, staff_client):
    case = file_case(send)
    send(media=[("image/png", png())])
    fetch_all()
    media = InboundMedia.objects.get()
    before = AuditEvent.objects.filter(action="complaints.media.opened").count()
    outsider_client = staff_client(outsider)
    assert media_response(outsider_client, case, media).status_code == 404
    url = reverse("staff:case_media", args=[case.reference, media.pk])
    assert outsider_client.post(url).status_code == 404  # not a 405 that says it exists
    assert AuditEvent.objects.filter(action="complaints.media.opened").count() == before


@pytest.mark.django_db
def test_media_of_another_case_is_a_404_under_this_cases_reference(
    send, unit, focal_point, staff_client
):
    case = file_case(send)
    send(media=[("image/png", png())])
    fetch_all()
    media = InboundMedia.objects.get()
    for text in ("TST1 another time", "DONE", "2", "2"):
        send(text, phone="+221770000099")
    other = Case.objects.exclude(pk=case.pk).get()
    staff = staff_client(focal_point)
    assert media_response(staff, other, media).status_code == 404
    assert media_response(staff, case, media).status_code == 200


@pytest.mark.django_db
def test_a_type_not_kept_gets_a_polite_reply_in_the_childs_language_and_is_deleted(
    send, twilio_media, unit
):
    send("FR")
    send("TST1 il m'a frappé")
    reply, count = send("regarde", media=[("video/mp4", b"\x00\x00\x00 ftypmp4")])
    assert count == 1
    assert reply.startswith("Bien recu")  # the story's reply ...
    # ... and one line about the file, in French: nothing was kept.
    assert "seulement les photos et les messages vocaux" in reply
    media = InboundMedia.objects.get()
    assert media.refused_because == "type"
    assert fetch_all() == ["refused"]
    assert [method for method, _path, _auth in twilio_media.requests] == ["DELETE"]
    media.refresh_from_db()
    assert media.content is None and media.draft_content is None


@pytest.mark.django_db
def test_a_file_too_big_is_not_kept_and_the_child_is_told(send, twilio_media, unit, settings):
    settings.SMS_MEDIA_MAX_BYTES = 1024 * 1024
    send("ES")
    case = file_case(send)
    reply, _ = send(media=[("image/jpeg", b"\xff\xd8" + b"x" * (1024 * 1024 + 1))])
    assert reply.startswith("Recibimos tu foto")
    assert fetch_all() == ["refused"]
    media = InboundMedia.objects.get()
    assert media.refused_because == "size" and media.content is None
    assert twilio_media.deleted == [media.media_sid]
    told = OutboundSms.objects.get(case=case)
    text = server_sealed.open_field(told, "body")
    assert "demasiado grande" in text and "1 MB" in text
    # Run again (a retry, a second worker): the child is not told twice.
    InboundMedia.objects.filter(pk=media.pk).update(status="pending")
    fetch_all()
    assert OutboundSms.objects.filter(case=case).count() == 1


@pytest.mark.django_db
def test_a_transient_error_is_retried_after_its_backoff_and_nothing_is_lost_or_doubled(
    send, twilio_media, unit, client
):
    case = file_case(send)
    sid = f"MM{uuid.uuid4().hex}"
    photo = png("retry")
    send("look", media=[("image/png", photo)], sid=sid)
    media = InboundMedia.objects.get()
    twilio_media.fail_next = [503]
    assert media_fetch(media.pk) == "retry"
    media.refresh_from_db()
    assert media.status == "pending" and media.error_code == "http-503"
    assert media.next_attempt_at > timezone.now()
    assert media_fetch(media.pk) == "not-claimed"  # not before its backoff

    # The delete fails once after the bytes are sealed: retried without fetching again.
    twilio_media.fail_next = []
    OrmQ.objects.all().delete()
    later = timezone.now() + timedelta(minutes=5)
    due_media_requeue(now=later)
    assert [SignedPackage.loads(t.payload)["args"] for t in OrmQ.objects.all()] == [
        (str(media.pk),)
    ]
    InboundMedia.objects.filter(pk=media.pk).update(next_attempt_at=timezone.now())
    twilio_media.fail_next_delete = [500]
    assert media_fetch(media.pk) == "retry"
    media.refresh_from_db()
    assert media.content and media.error_code == "http-500"  # sealed and kept meanwhile
    InboundMedia.objects.filter(pk=media.pk).update(next_attempt_at=timezone.now())
    assert media_fetch(media.pk) == "sent"
    assert media_fetch(media.pk) == "not-claimed"  # done: a second run does nothing
    gets = [r for r in twilio_media.requests if r[0] == "GET"]
    assert len(twilio_media.file_requests) == 1 and len(gets) == 2  # the 503, then once
    assert twilio_media.deleted == [media.media_sid]

    # Twilio retries the webhook itself: the same answer, no second row.
    params_again = send("look", media=[("image/png", photo)], sid=sid)
    assert params_again[1] == 1
    assert InboundMedia.objects.count() == 1
    media.refresh_from_db()
    assert media.case == case and media.content


@pytest.mark.django_db(transaction=True)
def test_task_payloads_and_logs_carry_no_number_url_or_content(send, twilio_media, unit, caplog):
    caplog.set_level(logging.DEBUG)
    phone = "+2217" + str(uuid.uuid4().int)[:8]
    canary = f"canary{uuid.uuid4().hex[:12]}"
    sid = f"MM{uuid.uuid4().hex}"
    send(f"TST1 {canary}", phone=phone)
    send("also", media=[("image/png", png(canary)), ("video/mp4", b"v")], phone=phone, sid=sid)
    tasks = [SignedPackage.loads(t.payload) for t in OrmQ.objects.all()]
    media_tasks = [t for t in tasks if t["func"] == "intake.tasks.fetch_media"]
    assert sorted(t["args"] for t in media_tasks) == sorted(
        (str(pk),) for pk in InboundMedia.objects.values_list("pk", flat=True)
    )
    twilio_media.fail_next = [500]
    fetch_all()
    InboundMedia.objects.update(next_attempt_at=timezone.now())
    fetch_all()
    for text in (repr(tasks), caplog.text, *(repr(r.args) for r in caplog.records)):
        assert phone not in text and phone[1:] not in text
        assert canary not in text
        assert sid not in text and "twilio.com" not in text and "127.0.0.1" not in text


@pytest.mark.django_db
def test_the_retention_purge_removes_the_media_with_the_case(send, unit):
    case = file_case(send)
    send(media=[("image/png", png())])
    fetch_all()
    assert InboundMedia.objects.filter(case=case).exists()
    Case.objects.filter(pk=case.pk).update(
        status=Case.Status.CLOSED, closed_at=timezone.now() - timedelta(days=4000)
    )
    result = purge_expired()
    assert result.cases == 1
    assert not InboundMedia.objects.exists()
    event = AuditEvent.objects.filter(action="complaints.retention.purged").latest("id")
    assert event.data["media"] == 1


@pytest.mark.django_db
def test_a_conversation_abandoned_takes_its_media_with_it(send, unit):
    """The reporter's records go after their period: a draft's media go with them."""
    send("hello")
    send(media=[("image/png", png())])
    fetch_all()
    conversation = SmsConversation.objects.get()
    assert InboundMedia.objects.get().conversation == conversation
    conversation.reporter.delete()
    assert not InboundMedia.objects.exists()


@pytest.mark.parametrize("language", ["en", "fr", "es", "ar"])
def test_every_media_reply_fits_two_segments(language, settings):
    case = Case(reference="K7QM4TPX", unit=Unit(code="DKR1", default_language="fr"))
    for kind in ("photo", "audio", "several"):
        for with_case in (case, None):
            for refused in (False, True):
                text = render_sms(
                    "media_received", language, case=with_case, kind=kind, refused=refused
                )
                assert text and segments(text) <= 2, (language, text)
    for too_big in (False, True):
        text = render_sms("media_refused", language, too_big=too_big, max_mb=5)
        assert text and segments(text) <= 2, (language, text)


@pytest.mark.django_db
def test_with_several_open_cases_media_go_to_the_case_the_child_picks(send, unit):
    for _ in range(2):
        for text in ("TST1 the guard hit me", "DONE", "2", "2"):
            send(text)
    older, newer = Case.objects.order_by("received_at")
    reply, _ = send(media=[("image/png", png())])  # kept until the child says which case
    assert "Which complaint" in reply
    assert "Which complaint" in send("it is about this one")[0]
    reply, count = send("2", media=[("audio/amr", b"#!AMR\n voice")])
    assert count == 1 and "Added to your complaint" in reply
    assert fetch_all() == ["sent", "sent"]
    assert {m.case for m in InboundMedia.objects.all()} == {older}
    assert all(m.content and m.draft_content is None for m in InboundMedia.objects.all())
