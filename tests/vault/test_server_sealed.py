"""vault.server_sealed: the one list of what the server seals under its key ring. Every
value on it is re-sealed when the ring rotates; nothing off it can be server-sealed."""

import base64
import json
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from complaints.services import complaint_receive
from intake.models import InboundMedia, InboundSms, SmsCodePickup, SmsConversation, SmsReporter
from notifications.sms import sms_queue
from vault import crypto, server_sealed
from vault.media import media_seal_draft
from vault.server_sealed import SERVER_SEALED

# A photo's bytes, not valid UTF-8: binary values are re-sealed as bytes.
PHOTO_BYTES = b"\xff\xd8\xff\xe0 a photo \x00\x80\xfe"


def set_ring(settings, primary, **keys):
    settings.RECOURSE_KEYRING = json.dumps(
        {
            "primary": primary,
            "keys": {k: base64.b64encode(v).decode() for k, v in keys.items()},
            "index_key": base64.b64encode(b"i" * 32).decode(),
        }
    )


@pytest.fixture
def restore_keyring_cache():
    yield
    crypto._load_keyring.cache_clear()


def one_of_each(unit):
    """A value in every server-sealed field, written the way the service writes it."""
    case = complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative="they hit me",
        category="neglect",
        in_danger=False,
        about_staff_answer="no",
        contact_preference="email",
        contact_detail="child@example.org",
    ).case
    reporter, _ = SmsReporter.for_phone("+221770000009")
    conversation = SmsConversation.objects.create(reporter=reporter)
    conversation.append_draft("and again today")
    conversation.save()
    inbound = InboundSms(message_sid="SM" + uuid.uuid4().hex, reporter=reporter)
    server_sealed.seal(inbound, "reply", "Thank you.")
    inbound.save()
    pickup = SmsCodePickup(
        case=case, reporter=reporter, expires_at=timezone.now() + timedelta(hours=1)
    )
    server_sealed.seal(pickup, "code", "123456789012")
    pickup.save()
    sms_queue(reporter=reporter, body="There is news about your complaint.")
    photo = InboundMedia(
        reporter=reporter,
        conversation=conversation,
        message_sid="MM" + uuid.uuid4().hex,
        media_sid="ME" + uuid.uuid4().hex,
        content_type="image/jpeg",
        kind=InboundMedia.Kind.PHOTO,
    )
    media_seal_draft(photo, PHOTO_BYTES)
    photo.save()
    return {
        ("intake.InboundMedia", "draft_content"): PHOTO_BYTES,
        ("complaints.Case", "delivery_email"): "child@example.org",
        ("intake.SmsReporter", "phone"): "+221770000009",
        ("intake.SmsConversation", "draft"): "and again today",
        ("intake.InboundSms", "reply"): "Thank you.",
        ("intake.SmsCodePickup", "code"): "123456789012",
        ("notifications.OutboundSms", "body"): "There is news about your complaint.",
    }


@pytest.mark.django_db
def test_every_listed_value_is_resealed_and_opens_with_the_old_key_retired(
    settings, unit, restore_keyring_cache
):
    set_ring(settings, "old", old=b"o" * 32)
    written = one_of_each(unit)
    assert set(written) == {(entry.model, entry.field) for entry in SERVER_SEALED}

    set_ring(settings, "new", old=b"o" * 32, new=b"n" * 32)
    call_command("rotate_keys", stdout=StringIO())
    set_ring(settings, "new", new=b"n" * 32)  # the old key is retired

    for entry in SERVER_SEALED:
        row = apps.get_model(entry.model).objects.exclude(**{entry.field: None}).get()
        assert crypto.server_sealed_key_id(getattr(row, entry.field)) == "new", entry
        opened = (server_sealed.open_bytes if entry.binary else server_sealed.open_field)(
            row, entry.field
        )
        assert opened == written[(entry.model, entry.field)]


@pytest.mark.django_db
def test_a_value_moved_to_another_row_does_not_open(unit):
    first, _ = SmsReporter.for_phone("+221770000001")
    second, _ = SmsReporter.for_phone("+221770000002")
    second.phone = first.phone
    with pytest.raises(crypto.DecryptionError):
        second.read_phone()


@pytest.mark.django_db
def test_a_field_off_the_list_cannot_be_sealed_under_the_key_ring(unit):
    case = complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative="text",
        category="neglect",
        in_danger=False,
        about_staff_answer="no",
        contact_preference="none",
    ).case
    with pytest.raises(LookupError, match="not in vault.server_sealed.SERVER_SEALED"):
        server_sealed.seal(case, "narrative", "they hit me")


def test_each_listed_value_says_why_the_server_must_read_it():
    for entry in SERVER_SEALED:
        field = apps.get_model(entry.model)._meta.get_field(entry.field)
        assert field.get_internal_type() == "BinaryField", entry
        assert len(entry.why) > 40, entry
