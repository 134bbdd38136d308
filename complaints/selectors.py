"""Reads on cases. Every decryption for staff goes through case_content_for_staff(),
which writes an audit event first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone

from access.cases import cases_for_focal_point
from complaints import crypto
from complaints.audit import audit_record
from complaints.models import Case, CaseKey, CaseLastOpened, Message
from policies.selectors import focal_point_unit_ids


class CaseLocked(Exception):
    """Nobody present holds a key to this case: the person waits for a grant."""


def message_context(message: Message) -> bytes:
    return crypto.field_context("message", f"{message.case_id}/{message.id}", "body")


@dataclass(frozen=True)
class DecryptedMessage:
    author_kind: str
    author_label: str
    body: str
    created_at: object


@dataclass(frozen=True)
class CaseContent:
    narrative: str
    contact_detail: str
    messages: list[DecryptedMessage]


def _decrypt_messages(case: Case, data_key: bytes, *, notes: bool) -> list[DecryptedMessage]:
    messages = case.messages.order_by("created_at")
    if not notes:
        messages = messages.exclude(author_kind=Message.Author.NOTE)
    return [
        DecryptedMessage(
            author_kind=m.author_kind,
            author_label=m.get_author_kind_display(),
            body=crypto.decrypt_text(data_key, m.body, context=message_context(m)),
            created_at=m.created_at,
        )
        for m in messages
    ]


def _data_key_from_own_copy(case: Case, actor, private_key: bytes | None) -> bytes | None:
    if private_key is None or actor is None:
        return None
    envelope = CaseKey.objects.filter(
        case=case, holder_kind=CaseKey.HolderKind.USER, holder_id=str(actor.pk)
    ).first()
    if envelope is None:
        return None
    return crypto.unwrap_data_key_with_private(
        envelope.wrapped_key, private_key, case_id=case.id, holder=f"user:{actor.pk}"
    )


def case_data_key_for(*, case: Case, actor, private_key: bytes | None) -> bytes | None:
    """The case's data key from the actor's own copy; None when they hold none or their
    key is not in this session. Opens no content."""
    return _data_key_from_own_copy(case, actor, private_key)


def case_content_for_staff(*, case: Case, actor, private_key: bytes | None = None) -> CaseContent:
    """Decrypt a case for a staff member who may read it, with their own copy of the
    data key and the private key from their session; audited before decrypting.
    CaseLocked when they hold no copy (yet) or their key is not in this session."""
    data_key = _data_key_from_own_copy(case, actor, private_key)
    if data_key is None:
        raise CaseLocked("no copy of this case's key is open in this session")
    audit_record(
        action="complaints.case.decrypted", actor=actor, case=case, data={"via": "own key"}
    )
    contact = ""
    if case.contact_detail:
        contact = crypto.decrypt_text(
            data_key, case.contact_detail, context=crypto.field_context("case", case.id, "contact")
        )
    return CaseContent(
        narrative=crypto.decrypt_text(
            data_key, case.narrative, context=crypto.field_context("case", case.id, "narrative")
        ),
        contact_detail=contact,
        messages=_decrypt_messages(case, data_key, notes=True),
    )


def case_contact_for_staff(*, case: Case, actor, private_key: bytes | None = None) -> str:
    """The contact detail the child typed (the number to call, say), for a staff member
    who may read the case, with their own key: an audit event of its own, so who saw a
    child's number, and when, is on the record. CaseLocked as case_content_for_staff."""
    data_key = _data_key_from_own_copy(case, actor, private_key)
    if data_key is None:
        raise CaseLocked("no copy of this case's key is open in this session")
    audit_record(
        action="complaints.case.contact_revealed",
        actor=actor,
        case=case,
        data={"preference": case.contact_preference},
    )
    if not case.contact_detail:
        return ""
    return crypto.decrypt_text(
        data_key, case.contact_detail, context=crypto.field_context("case", case.id, "contact")
    )


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
    if envelope is None:
        raise CaseLocked("the child's key to this case is not at hand")
    data_key = crypto.unwrap_data_key_with_private(
        envelope.wrapped_key, reporter_private, case_id=case.id, holder="reporter"
    )
    return _decrypt_messages(case, data_key, notes=False)


@dataclass(frozen=True)
class QueueFilters:
    """What a focal point narrowed their queue to. Metadata only: these values travel
    in the queue's URL."""

    # Scope: assigned to me; handled by a unit I am a focal point of; everything I may
    # read (for an oversight focal point, also other units' cases escalated to them).
    MINE, UNITS, READABLE = "mine", "units", "all"
    ALL = "all"  # status: closed cases too
    BY_DEADLINE, BY_RECEIVED = "deadline", "received"

    scope: str = READABLE
    status: str = ""  # "": not closed yet (TO_HANDLE_STATUSES); ALL; or one Case.Status
    urgency: str = ""
    category: str = ""
    channel: str = ""
    overdue: bool = False
    new_messages: bool = False
    reference: str = ""  # normalised (complaints.services.normalise_reference): a prefix
    sort: str = BY_DEADLINE


def queue_cases(user, *, filters: QueueFilters, now: datetime | None = None) -> QuerySet[Case]:
    """A focal point's queue, filtered and sorted. The default order (open cases of a
    unit by urgency rank, then deadline) is served by the partial index
    case_open_queue_idx, "received" by case_handling_received_idx. The page shown is
    then marked by with_queue_markers()."""
    now = now or timezone.now()
    cases = cases_for_focal_point(user)
    if filters.scope == QueueFilters.MINE:
        cases = cases.filter(assignee=user)
    elif filters.scope == QueueFilters.UNITS:
        cases = cases.filter(handling_unit_id__in=focal_point_unit_ids(user))
    if filters.reference:
        cases = cases.filter(reference__startswith=filters.reference)
    if filters.status == QueueFilters.ALL:
        pass
    elif filters.status:
        cases = cases.filter(status=filters.status)
    elif not filters.reference:  # a reference is looked for in closed cases too
        cases = cases.filter(status__in=Case.TO_HANDLE_STATUSES)
    for field in ("urgency", "category", "channel"):
        if getattr(filters, field):
            cases = cases.filter(**{field: getattr(filters, field)})
    if filters.overdue:
        cases = cases.filter(next_due_at__lt=now)  # none once decided
    if filters.new_messages:
        cases = cases.filter(_new_from_child(user))
    if filters.sort == QueueFilters.BY_RECEIVED:
        order = [F("received_at").desc(), "reference"]
    else:
        order = [
            "queue_priority",
            F("next_due_at").asc(nulls_last=True),
            "received_at",
            "reference",
        ]
    return (
        cases.select_related("unit", "assignee")
        .order_by(*order)
        .only(
            "id",
            "reference",
            "unit__code",
            "unit__name",
            "category",
            "urgency",
            "status",
            "channel",
            "language",
            "in_danger",
            "received_at",
            "next_due_at",
            "acknowledged_at",
            "decided_at",
            "outcome_told_at",
            "contact_preference",
            "assignee__username",
            "assignee__first_name",
            "assignee__last_name",
        )
    )


def _new_from_child(user) -> Exists:
    """The child wrote after this person last opened the case (or they never did)."""
    opened_since = CaseLastOpened.objects.filter(
        case=OuterRef("case"), user=user, opened_at__gte=OuterRef("created_at")
    )
    return Exists(
        Message.objects.filter(case=OuterRef("pk"), author_kind=Message.Author.REPORTER).exclude(
            Exists(opened_since)
        )
    )


def with_queue_markers(user, cases: list[Case]) -> list[Case]:
    """Marks the cases of one queue page: `readable` (the person holds an open copy of
    its key) and `new_from_child`. One query for the page, whatever its size; computed
    for the page only, not for every case the sort goes through."""
    if not cases:
        return cases
    own_copy = CaseKey.objects.filter(
        case=OuterRef("pk"), holder_kind=CaseKey.HolderKind.USER, holder_id=str(user.pk)
    )
    marks = {
        pk: (readable, new)
        for pk, readable, new in Case.objects.filter(pk__in=[c.pk for c in cases])
        .annotate(readable=Exists(own_copy), new_from_child=_new_from_child(user))
        .values_list("pk", "readable", "new_from_child")
    }
    for case in cases:
        case.readable, case.new_from_child = marks[case.pk]
    return cases
