"""What the server seals under its own key ring, and why.

A case's content is sealed under the case's data key, which the server never holds
(vault/cases.py). A few values must be read by the running service with nobody present;
each is listed in SERVER_SEALED with the reason, and nothing else is sealed under the
key ring. Each value is bound to its table, row and field, so a value copied to another
row or field does not open. `keys_rotate` re-seals every value listed here under the
ring's new primary key. Blind indexes (a keyed hash to find a value again without
storing it) use the ring's index key.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db import models, transaction

from config.batching import iter_batches
from vault import crypto


@dataclass(frozen=True)
class ServerSealedField:
    model: str  # "app_label.ModelName"
    field: str
    # The row's name inside the associated data: `table` and the value of `row_key`.
    # Both are frozen: changing either would leave every stored value unopenable (a
    # new row_key needs the old one as legacy_row_key, for the rows made before it).
    table: str
    row_key: str
    why: str
    # Bytes (seal_bytes/open_bytes), not text.
    binary: bool = False
    # What rows whose `row_key` is NULL (made before it existed) are named by instead.
    # Frozen too.
    legacy_row_key: str = ""


SERVER_SEALED: tuple[ServerSealedField, ...] = (
    ServerSealedField(
        "intake.SmsReporter",
        "phone",
        table="sms_reporter",
        row_key="phone_index",
        why="An SMS child's number (or WhatsApp address): replies, updates and late "
        "notices are texted to it "
        "by the worker, with nobody signed in.",
    ),
    ServerSealedField(
        "intake.SmsConversation",
        "draft",
        table="sms_conversation",
        row_key="seal_id",
        legacy_row_key="pk",
        why="A story told over several texts, kept only until it is filed (it then "
        "becomes the case's narrative, under the case key) or the conversation expires.",
    ),
    ServerSealedField(
        "intake.InboundSms",
        "reply",
        table="inbound_sms",
        row_key="message_sid",
        why="The answer to one incoming text, so that Twilio's retry of the same "
        "MessageSid gets the same answer.",
    ),
    ServerSealedField(
        "intake.SmsCodePickup",
        "code",
        table="sms_code_pickup",
        row_key="case_id",
        why="An SMS child's web follow-up code, kept until they ask for it (CODE) once "
        "or SMS_CODE_PICKUP_HOURS pass.",
    ),
    ServerSealedField(
        "notifications.OutboundSms",
        "body",
        table="outbound_sms",
        row_key="pk",
        why="A text waiting for the worker to send it, or, to a WhatsApp child outside "
        "WhatsApp's 24-hour window, for the child's next message; emptied once sent.",
    ),
    ServerSealedField(
        "intake.InboundMedia",
        "draft_content",
        table="inbound_media",
        row_key="pk",
        why="A photo or voice message sent before its case was filed, kept with the "
        "conversation's draft only until the case is filed (it is then sealed to the case "
        "key, as the draft text is) or the conversation expires.",
        binary=True,
    ),
    ServerSealedField(
        "complaints.Case",
        "delivery_email",
        table="case",
        row_key="pk",
        why="The address a web child asked to be told at by email: the sweep sends late "
        "notices with nobody signed in. Staff read the child's own words under the case key.",
    ),
)

_BY_MODEL_FIELD = {(entry.model, entry.field): entry for entry in SERVER_SEALED}


def _entry(instance: models.Model, field_name: str) -> ServerSealedField:
    try:
        return _BY_MODEL_FIELD[(instance._meta.label, field_name)]
    except KeyError:
        raise LookupError(
            f"{instance._meta.label}.{field_name} is not in vault.server_sealed.SERVER_SEALED"
        ) from None


def _context(entry: ServerSealedField, instance: models.Model) -> bytes:
    row = getattr(instance, entry.row_key)
    if row is None and entry.legacy_row_key:
        row = getattr(instance, entry.legacy_row_key)
    return crypto.field_context(entry.table, row, entry.field)


def seal(instance: models.Model, field_name: str, plaintext: str) -> None:
    """Set the field to `plaintext` sealed under the key ring's primary key (not saved)."""
    entry = _entry(instance, field_name)
    setattr(instance, field_name, crypto.server_seal(plaintext, context=_context(entry, instance)))


def sealed(instance: models.Model, field_name: str, plaintext: str) -> bytes:
    """The sealed value, for a caller that writes it with an UPDATE of its own."""
    entry = _entry(instance, field_name)
    return crypto.server_seal(plaintext, context=_context(entry, instance))


def seal_bytes(instance: models.Model, field_name: str, plaintext: bytes) -> None:
    """seal() for a binary field (a photo, a voice message)."""
    entry = _entry(instance, field_name)
    setattr(
        instance, field_name, crypto.server_seal_bytes(plaintext, context=_context(entry, instance))
    )


def open_bytes(instance: models.Model, field_name: str) -> bytes:
    """open_field() for a binary field; b"" when nothing is sealed in it."""
    entry = _entry(instance, field_name)
    blob = getattr(instance, field_name)
    if not blob:
        return b""
    return crypto.server_open_bytes(bytes(blob), context=_context(entry, instance))


def open_field(instance: models.Model, field_name: str) -> str:
    """The field's plaintext; "" when nothing is sealed in it (NULL, or emptied once used)."""
    entry = _entry(instance, field_name)
    blob = getattr(instance, field_name)
    if not blob:
        return ""
    return crypto.server_open(bytes(blob), context=_context(entry, instance))


def reseal_all(*, batch_size: int = 500) -> int:
    """Re-seal every server-sealed value under the primary key, batch by batch (each
    batch commits, so an interrupted run resumes: values already under the primary key
    are left as they are). Returns how many values changed."""
    primary = crypto.get_keyring().primary_id
    resealed = 0
    for entry in SERVER_SEALED:
        model = apps.get_model(entry.model)
        rows = model._default_manager.exclude(**{entry.field: None})
        for batch in iter_batches(rows, batch_size):
            with transaction.atomic():
                resealed += sum(_reseal_row(entry, row, primary) for row in batch)
    return resealed


def _reseal_row(entry: ServerSealedField, row: models.Model, primary: str) -> int:
    blob = getattr(row, entry.field)
    # Nothing sealed: a text once sent keeps an empty body.
    if not blob or crypto.server_sealed_key_id(blob) == primary:
        return 0
    if entry.binary:
        fresh = crypto.server_seal_bytes(open_bytes(row, entry.field), context=_context(entry, row))
    else:
        fresh = sealed(row, entry.field, open_field(row, entry.field))
    # Only if the value is still the one read: a text sent or a draft extended meanwhile
    # keeps its new value (sealed under the primary key already).
    updated: int = (
        type(row)
        ._default_manager.filter(pk=row.pk, **{entry.field: bytes(blob)})
        .update(**{entry.field: fresh})
    )
    return updated


def blind_index(value: str, *, purpose: str) -> str:
    """A keyed hash of `value` for `purpose`: finds or counts it again without storing it
    (a phone number, a client address in a throttle, a login name)."""
    return crypto.blind_index(value, purpose=purpose)


def fields_unopenable() -> list[str]:
    """The server-sealed fields (as "model.field") of which a stored value does not open
    with the running key ring: a ring that lacks the key it was sealed under, or another
    deployment's ring. One value per field is tried and dropped unread. For
    deploy/backup_drill.py."""
    unopenable = []
    for entry in SERVER_SEALED:
        model = apps.get_model(entry.model)
        row = (
            model._default_manager.exclude(**{entry.field: None})
            .exclude(**{entry.field: b""})
            .order_by("pk")
            .first()
        )
        if row is None:
            continue
        try:
            (open_bytes if entry.binary else open_field)(row, entry.field)
        except crypto.CryptoError:
            unopenable.append(f"{entry.model}.{entry.field}")
    return unopenable
