"""vault.media: a child's photo or voice message sealed to the case key is bytes the
server wrote but cannot read back, bound to its row and case; staff open it with their
own copy of the key, audited."""

import uuid

import pytest

from complaints.models import AuditEvent
from complaints.services import complaint_receive
from intake.models import InboundMedia, SmsReporter
from tests.conftest import PASSWORD
from vault import crypto, server_sealed
from vault.cases import CaseLocked
from vault.media import media_for_staff, media_seal_draft, media_seal_to_case, media_to_case
from vault.models import StaffKey

PHOTO = b"\xff\xd8\xff\xe0 a photo \x00\x80"


def a_case(unit):
    return complaint_receive(
        unit=unit,
        channel="sms",
        language="en",
        narrative="they hit me",
        category="neglect",
        in_danger=False,
        about_staff_answer="no",
        contact_preference="none",
    ).case


def media_row(reporter) -> InboundMedia:
    return InboundMedia(
        reporter=reporter,
        message_sid=f"MM{uuid.uuid4().hex}",
        media_sid=f"ME{uuid.uuid4().hex}",
        content_type="image/jpeg",
        kind="photo",
    )


def private_key_of(user) -> bytes:
    return crypto.unwrap_private_key(StaffKey.objects.get(user=user).wrapped_private_key, PASSWORD)


@pytest.mark.django_db
def test_sealed_to_the_case_the_server_cannot_open_it_and_the_reader_can(unit, focal_point):
    case = a_case(unit)
    reporter, _ = SmsReporter.for_phone("+221770000001")
    media = media_row(reporter)
    media_seal_to_case(media, case, PHOTO)
    media.save()
    assert PHOTO not in bytes(media.content)
    with pytest.raises(crypto.DecryptionError):  # not under the key ring
        crypto.server_open_bytes(media.content, context=b"anything")
    opened = media_for_staff(
        case=case, media=media, actor=focal_point, private_key=private_key_of(focal_point)
    )
    assert opened == PHOTO
    assert AuditEvent.objects.filter(action="complaints.media.opened", case=case).count() == 1
    with pytest.raises(CaseLocked):
        media_for_staff(case=case, media=media, actor=focal_point, private_key=None)


@pytest.mark.django_db
def test_a_sealed_file_copied_to_another_row_does_not_open(unit, focal_point):
    case = a_case(unit)
    reporter, _ = SmsReporter.for_phone("+221770000001")
    first, second = media_row(reporter), media_row(reporter)
    media_seal_to_case(first, case, PHOTO)
    media_seal_to_case(second, case, b"another")
    second.content = first.content
    with pytest.raises(crypto.DecryptionError):
        media_for_staff(
            case=case, media=second, actor=focal_point, private_key=private_key_of(focal_point)
        )


@pytest.mark.django_db
def test_a_draft_file_moves_to_the_case_and_leaves_the_key_ring(unit, focal_point):
    case = a_case(unit)
    reporter, _ = SmsReporter.for_phone("+221770000001")
    media = media_row(reporter)
    media_seal_draft(media, PHOTO)
    media.save()
    assert server_sealed.open_bytes(media, "draft_content") == PHOTO
    media_to_case(media, case)
    media.save()
    assert media.draft_content is None and media.case == case
    opened = media_for_staff(
        case=case, media=media, actor=focal_point, private_key=private_key_of(focal_point)
    )
    assert opened == PHOTO
