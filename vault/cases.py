"""A case's content: sealing it when the case is filed, adding to it later, and opening
it for the staff who hold a copy of its key (audited) or for the child.

Who can open what:
- The narrative and the contact detail are AES-256-GCM under the case's own random
  data key, bound to the case and the field (vault/crypto.py).
- Messages added later (the child's, replies, notes) are sealed to the case's public
  key: the server writes them but cannot read them.
- The data key is stored only wrapped, one CaseKey per holder: each staff member the
  case is routed to, the unit's offline recovery key, and the child's follow-up code.
  The server's key ring wraps no data key (vault/server_sealed.py says what it seals).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from django.utils import timezone

from complaints.audit import audit_record
from complaints.models import Case, Message
from vault import crypto
from vault.epoch_calendar import CLOSED, OPEN
from vault.epochs import case_epoch_start, case_epochs_forget, epoch_choose
from vault.keys import case_copy, case_keys_for_holders, user_copy, user_holder
from vault.models import CaseEpoch, CaseKey

REPORTER_HOLDER = "reporter"


class CaseLocked(Exception):
    """Nobody present holds a key to this case: the person waits for a grant."""


@dataclass(frozen=True)
class DecryptedMessage:
    author_kind: str
    author_label: str
    body: str
    created_at: datetime


@dataclass(frozen=True)
class CaseContent:
    narrative: str
    contact_detail: str
    messages: list[DecryptedMessage]


def _case_context(case_id: object, field_name: str) -> bytes:
    return crypto.field_context("case", case_id, field_name)


def _message_context(message: Message) -> bytes:
    return crypto.field_context("message", f"{message.case_id}/{message.id}", "body")


# --- Sealing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NewCaseKey:
    """A new case's data key, held in memory only until its copies are issued."""

    data_key: bytes = field(repr=False)


def case_seal_new(
    case: Case,
    *,
    narrative: str,
    contact_detail: str,
    followup_code: str,
    same_child_as: Case | None = None,
) -> NewCaseKey:
    """Seal a case that is not saved yet: its narrative and contact detail under a new
    data key, its public key for what is added later, and the child's key from their
    follow-up code (for a referral, the child of `same_child_as` keeps their code).
    After the case is saved, case_copies_issue() wraps the data key to its holders."""
    data_key = crypto.new_data_key()
    case.narrative = crypto.encrypt_text(
        data_key, narrative, context=_case_context(case.id, "narrative")
    )
    if contact_detail:
        case.contact_detail = crypto.encrypt_text(
            data_key, contact_detail, context=_case_context(case.id, "contact")
        )
    case.public_key = crypto.case_keypair(data_key)[0]
    if same_child_as is not None:
        case.followup_code_hash = same_child_as.followup_code_hash
        case.reporter_public_key = same_child_as.reporter_public_key
    else:
        secret = crypto.followup_secret_new(followup_code)
        case.followup_code_hash = secret.stored
        case.reporter_public_key = secret.reporter_public
    return NewCaseKey(data_key=data_key)


def case_copies_issue(case: Case, key: NewCaseKey, *, readers: list[int]) -> None:
    """The copies of a new case's data key: the child's, each reader's who has a key
    pair, and the unit's recovery key. The server keeps none."""
    if case.reporter_public_key is None:
        raise ValueError("the case was not sealed by case_seal_new")
    epoch = case_epoch_start(case)
    case_copy(
        case_id=case.id,
        holder_kind=CaseKey.HolderKind.REPORTER,
        holder_id=REPORTER_HOLDER,
        data_key=key.data_key,
        public_key=case.reporter_public_key,
        epoch=epoch,
    ).save()
    case_keys_for_holders(case=case, data_key=key.data_key, readers=readers)


def message_seal(message: Message, case: Case, body: str) -> None:
    """Seal a message added to a case (not saved): to the case's public key, so the
    server writes it but cannot read it."""
    if case.public_key is None:
        raise ValueError("the case was not sealed by case_seal_new")
    message.body = crypto.seal_to_case(body, case.public_key, context=_message_context(message))


# --- Opening ---------------------------------------------------------------------------


def _decrypt_messages(case: Case, data_key: bytes, *, notes: bool) -> list[DecryptedMessage]:
    messages = case.messages.order_by("created_at")
    if not notes:
        messages = messages.exclude(author_kind=Message.Author.NOTE)
    return [
        DecryptedMessage(
            author_kind=m.author_kind,
            author_label=m.get_author_kind_display(),
            body=crypto.decrypt_text(data_key, m.body, context=_message_context(m)),
            created_at=m.created_at,
        )
        for m in messages
    ]


def case_data_key_for(*, case: Case, actor: Any, private_key: bytes | None) -> bytes | None:
    """The case's data key from the actor's own copy; None when they hold none or their
    key is not in this session. Opens no content."""
    if private_key is None or actor is None:
        return None
    envelope = CaseKey.objects.filter(
        case=case, holder_kind=CaseKey.HolderKind.USER, holder_id=str(actor.pk)
    ).first()
    if envelope is None:
        return None
    return crypto.unwrap_data_key_with_private(
        envelope.wrapped_key, private_key, case_id=case.id, holder=user_holder(actor.pk)
    )


def _own_data_key(case: Case, actor: Any, private_key: bytes | None) -> bytes:
    data_key = case_data_key_for(case=case, actor=actor, private_key=private_key)
    if data_key is None:
        raise CaseLocked("no copy of this case's key is open in this session")
    return data_key


def _contact(case: Case, data_key: bytes) -> str:
    if not case.contact_detail:
        return ""
    return crypto.decrypt_text(
        data_key, case.contact_detail, context=_case_context(case.id, "contact")
    )


def case_content_for_staff(
    *, case: Case, actor: Any, private_key: bytes | None = None
) -> CaseContent:
    """Decrypt a case for a staff member who may read it, with their own copy of the
    data key and the private key from their session; audited before decrypting.
    CaseLocked when they hold no copy (yet) or their key is not in this session."""
    data_key = _own_data_key(case, actor, private_key)
    audit_record(
        action="complaints.case.decrypted", actor=actor, case=case, data={"via": "own key"}
    )
    return CaseContent(
        narrative=crypto.decrypt_text(
            data_key, case.narrative, context=_case_context(case.id, "narrative")
        ),
        contact_detail=_contact(case, data_key),
        messages=_decrypt_messages(case, data_key, notes=True),
    )


def case_contact_for_staff(*, case: Case, actor: Any, private_key: bytes | None = None) -> str:
    """The contact detail the child typed (the number to call, say), for a staff member
    who may read the case, with their own key: an audit event of its own, so who saw a
    child's number, and when, is on the record. CaseLocked as case_content_for_staff."""
    data_key = _own_data_key(case, actor, private_key)
    audit_record(
        action="complaints.case.contact_revealed",
        actor=actor,
        case=case,
        data={"preference": case.contact_preference},
    )
    return _contact(case, data_key)


def followup_code_check(case: Case | None, code: str) -> bytes | None:
    """The child's private key when `code` is their case's follow-up code; None
    otherwise. An unknown case is checked against a dummy verifier, so a wrong
    reference and a wrong code take the same time."""
    stored = case.followup_code_hash if case else crypto.dummy_followup_stored()
    secret = crypto.followup_secret_check(code, stored) if code.isdigit() else None
    if secret is None or case is None:
        return None
    return secret.reporter_private


def case_messages_for_reporter(
    case: Case, *, reporter_private: bytes | None = None
) -> list[DecryptedMessage]:
    """What the child reads, through their own copy of the case key (opened by the key
    their follow-up code derives). CaseLocked when that key is not at hand."""
    envelope = None
    if reporter_private is not None:
        envelope = CaseKey.objects.filter(
            case=case, holder_kind=CaseKey.HolderKind.REPORTER
        ).first()
    if envelope is None or reporter_private is None:
        raise CaseLocked("the child's key to this case is not at hand")
    data_key = crypto.unwrap_data_key_with_private(
        envelope.wrapped_key, reporter_private, case_id=case.id, holder=REPORTER_HOLDER
    )
    return _decrypt_messages(case, data_key, notes=False)


def synthetic_cases_seal(
    cases: list[tuple[Case, str]], *, reader_public_keys: dict[int, bytes]
) -> tuple[list[CaseKey], list[CaseEpoch]]:
    """For volume benchmarks only (seed_volume): seal each unsaved case's narrative under
    its own data key, wrapped to the given readers under this month's epoch (open or
    closed, as the case is), and give every case one shared follow-up verifier (one
    Argon2 run in all, not one per case; no child's copy is made, so that code opens
    nothing). Returns the copies and epochs, to bulk-create after the cases."""
    now = timezone.now()
    epoch_of = {family: epoch_choose(family, now) for family in (OPEN, CLOSED)}
    copies: list[CaseKey] = []
    epochs: list[CaseEpoch] = []
    for case, narrative in cases:
        data_key = crypto.new_data_key()
        case.followup_code_hash = crypto.dummy_followup_stored()
        case.public_key = crypto.case_keypair(data_key)[0]
        case.narrative = crypto.encrypt_text(
            data_key, narrative, context=_case_context(case.id, "narrative")
        )
        epoch = epoch_of[CLOSED if case.closed_at else OPEN]
        if epoch is not None:
            epochs.append(CaseEpoch(case_id=case.id, epoch=epoch, current=True))
        copies.extend(
            user_copy(
                case_id=case.id,
                user_id=user_id,
                data_key=data_key,
                public_key=public_key,
                epoch=epoch,
            )
            for user_id, public_key in reader_public_keys.items()
        )
    return copies, epochs


# --- Forgetting ------------------------------------------------------------------------


def case_secrets_forget(case_ids: list[UUID]) -> int:
    """Everything that could open these cases, gone: every copy of their data key (staff,
    recovery, the child's), the case's public key, the child's key and follow-up
    verifier, and the sealed fields (narrative, contact detail, delivery email). Their
    messages are the caller's to delete (complaints.retention). Metadata is kept.
    Returns the number of key copies deleted."""
    deleted, _ = CaseKey.objects.filter(case_id__in=case_ids).delete()
    case_epochs_forget(case_ids)
    Case.objects.filter(pk__in=case_ids).update(
        narrative=b"",
        contact_detail=None,
        delivery_email=None,
        public_key=None,
        reporter_public_key=None,
        followup_code_hash="",
    )
    return deleted
