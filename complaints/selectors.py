"""Reads on cases: metadata only. Content is opened by vault.cases, which audits every
staff read before decrypting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone

from access.cases import cases_for_focal_point
from complaints.models import Case, CaseLastOpened, Message
from policies.selectors import focal_point_unit_ids
from vault.models import CaseKey


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
