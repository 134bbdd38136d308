"""The lifecycle of a complaint, and what the child is told along it.

received -> acknowledged -> assessing -> investigating -> substantiated | unsubstantiated
                                 \\-> referred
any open state -> withdrawn;     every decided state -> closed
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from complaints.audit import audit_record
from complaints.models import Case, CaseEvent, Message
from complaints.services import ComplaintError, message_create
from notifications.sms import render_sms, sms_queue

S = Case.Status

TRANSITIONS: dict[str, set[str]] = {
    S.RECEIVED: {S.ACKNOWLEDGED, S.WITHDRAWN},
    S.ACKNOWLEDGED: {S.ASSESSING, S.WITHDRAWN},
    S.ASSESSING: {S.INVESTIGATING, S.REFERRED, S.WITHDRAWN},
    S.INVESTIGATING: {S.SUBSTANTIATED, S.UNSUBSTANTIATED, S.WITHDRAWN},
    S.SUBSTANTIATED: {S.CLOSED},
    S.UNSUBSTANTIATED: {S.CLOSED},
    S.REFERRED: {S.CLOSED},
    S.WITHDRAWN: {S.CLOSED},
    S.CLOSED: set(),
}
# Deciding something needs a reason on the record.
NEEDS_REASON = {*Case.DECIDED_STATUSES, S.CLOSED}
# The child hears about these steps in their language, over their channel.
TELL_CHILD = {S.ACKNOWLEDGED, S.SUBSTANTIATED, S.UNSUBSTANTIATED, S.REFERRED}


class TransitionRefused(ComplaintError):
    """A step the lifecycle does not allow; the message is for staff (English)."""


def allowed_transitions(case: Case) -> list[str]:
    return [s for s in S.values if s in TRANSITIONS.get(case.status, set())]


@transaction.atomic
def case_transition(*, case: Case, actor, to_status: str, reason: str = "",
                    breaches_recorded: bool = False) -> CaseEvent:
    """Move a case along its lifecycle: validated, recorded (event and audit), and
    told to the child where the step concerns them."""
    case = Case.objects.select_for_update(of=("self",)).select_related(
        "unit", "policy", "sms_reporter"
    ).get(
        pk=case.pk
    )
    reason = " ".join(reason.split())[:200]
    if to_status not in TRANSITIONS.get(case.status, set()):
        target = S(to_status).label.lower() if to_status in S.values else to_status
        raise TransitionRefused(
            f"A case that is {case.get_status_display().lower()} cannot become {target}."
        )
    if to_status == S.SUBSTANTIATED and not breaches_recorded:
        # competencies.services.case_substantiate records whom and which competencies.
        raise TransitionRefused(
            "Substantiate from the decision form: pick the staff member and the breached competencies."
        )
    if to_status in NEEDS_REASON and not reason:
        raise TransitionRefused("Please give the reason for this decision.")
    now = timezone.now()
    if to_status == S.CLOSED:
        reason = _close_check(case, now, reason)

    event = CaseEvent.objects.create(
        case=case, at=now, actor=actor, from_status=case.status, to_status=to_status, reason=reason
    )
    case.status = to_status
    if to_status == S.ACKNOWLEDGED:
        case.acknowledged_at = now
    if to_status in Case.DECIDED_STATUSES:
        case.decided_at = now
        case.outcome = to_status
    if to_status == S.CLOSED:
        case.closed_at = now
    case.next_due_at = case.current_next_due()
    case.save(update_fields=["status", "acknowledged_at", "decided_at", "outcome", "closed_at",
                             "next_due_at"])
    audit_record(action="complaints.case.transitioned", actor=actor, case=case,
                 data={"from": event.from_status, "to": to_status})
    if to_status in TELL_CHILD:
        tell_child(case=case, status=to_status)
    return event


def _close_check(case: Case, now, reason: str) -> str:
    """A case closes only once the child was told the outcome, or chose no contact
    and did not come back within the policy's wait (which the record then says)."""
    if case.outcome_told_at or case.status == S.WITHDRAWN:
        return reason
    waited = case.decided_at and now - case.decided_at >= timedelta(days=case.policy.outcome_wait_days)
    came_back = case.reporter_seen_at and case.decided_at and case.reporter_seen_at >= case.decided_at
    if case.contact_preference == Case.ContactPreference.NONE and waited and not came_back:
        return (f"{reason} [closed untold: the child chose no contact and did not come back "
                f"within {case.policy.outcome_wait_days} days]")[:200]
    raise TransitionRefused(
        "The child has not been told the outcome yet. Close the case once they have read it."
    )


def tell_child(*, case: Case, status: str) -> Message:
    """A short message in the child's language: on the follow-up page, and by SMS for a
    child who wrote by SMS. An SMS marks the outcome told once it is sent."""
    with translation.override(case.language):
        text = render_to_string("complaints/child_update.txt", {"status": status, "case": case}).strip()
    message = message_create(case=case, author_kind=Message.Author.STAFF, body=text)
    if case.sms_reporter_id:
        sms_queue(
            reporter=case.sms_reporter,
            case=case,
            body=render_sms("case_update", case.language, status=status, case=case),
            carries_outcome=status in Case.DECIDED_STATUSES,
        )
    return message


def reporter_viewed(case: Case) -> None:
    """The child opened the follow-up page: anything posted before now has been seen."""
    now = timezone.now()
    updates = {"reporter_seen_at": now}
    if case.decided_at and not case.outcome_told_at:
        updates["outcome_told_at"] = now
    Case.objects.filter(pk=case.pk).update(**updates)
