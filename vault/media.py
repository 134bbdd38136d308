"""Photos and voice messages a child sent by MMS or WhatsApp (intake.InboundMedia):
sealed to their case like any message, or, before the case is filed, under the server
key ring with the conversation's draft; opened for staff who hold the case key, each
opening an audit event."""

from __future__ import annotations

from typing import Any

from complaints.audit import audit_record
from complaints.models import Case
from intake.models import InboundMedia
from vault import crypto, server_sealed
from vault.cases import CaseLocked, case_data_key_for


def _media_context(media: InboundMedia, case_id: object) -> bytes:
    return crypto.field_context("inbound_media", f"{case_id}/{media.pk}", "content")


def media_seal_to_case(media: InboundMedia, case: Case, data: bytes) -> None:
    """Seal the bytes to the case's public key (not saved): the server writes them but
    cannot read them back."""
    if case.public_key is None:
        raise ValueError("the case was not sealed by case_seal_new")
    media.case = case
    media.content = crypto.seal_bytes_to_case(
        data, case.public_key, context=_media_context(media, case.pk)
    )
    media.draft_content = None


def media_seal_draft(media: InboundMedia, data: bytes) -> None:
    """Keep the bytes with a conversation not filed yet (not saved): under the server
    key ring, as the draft text is, until media_to_case()."""
    server_sealed.seal_bytes(media, "draft_content", data)


def media_to_case(media: InboundMedia, case: Case) -> None:
    """The conversation became a case: its media go with the draft (not saved). Bytes
    already fetched are opened from the key ring and sealed to the case key."""
    media.conversation = None
    if media.draft_content:
        media_seal_to_case(media, case, server_sealed.open_bytes(media, "draft_content"))
    else:
        media.case = case  # not fetched yet: sealed to the case when it is


def media_for_staff(
    *, case: Case, media: InboundMedia, actor: Any, private_key: bytes | None
) -> bytes:
    """The bytes of one photo or voice message of the case, for a staff member who holds
    its key in this session; audited before decrypting. CaseLocked as
    case_content_for_staff."""
    if media.content is None or media.case_id != case.pk:
        raise ValueError("this media is not sealed to this case")
    data_key = case_data_key_for(case=case, actor=actor, private_key=private_key)
    if data_key is None:
        raise CaseLocked("no copy of this case's key is open in this session")
    audit_record(
        action="complaints.media.opened",
        actor=actor,
        case=case,
        data={"media": str(media.pk), "kind": media.kind},
    )
    return crypto.open_bytes_sealed_to_case(
        data_key, media.content, context=_media_context(media, case.pk)
    )
