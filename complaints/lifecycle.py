"""The lifecycle of a complaint, and what the child is told along it.

received -> acknowledged -> assessing -> investigating -> substantiated | unsubstantiated
                                 \\-> referred
any open state -> withdrawn;     every decided state -> closed
"""

from __future__ import annotations

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from access.cases import case_readers
from complaints.audit import audit_record
from complaints.models import Case, CaseEvent, Message
from complaints.services import ComplaintError, case_note, message_create
from notifications.child_email import child_email_queue
from notifications.models import Notification, OutboundEmail, OutboundSms
from notifications.services import notify_users
from notifications.sms import render_sms, sms_queue

S = Case.Status

TRANSITIONS: dict[str, set[str]] = {
    S.RECEIVED: {S.ACKNOWLEDGED, S.WITHDRAWN},
    S.ACKNOWLEDGED: {S.ASSESSING, S.WITHDRAWN, S.UPHELD, S.CHANGED},
    S.ASSESSING: {S.INVESTIGATING, S.REFERRED, S.WITHDRAWN, S.UPHELD, S.CHANGED},
    S.INVESTIGATING: {S.SUBSTANTIATED, S.UNSUBSTANTIATED, S.WITHDRAWN, S.UPHELD, S.CHANGED},
    S.UPHELD: {S.CLOSED},
    S.CHANGED: {S.CLOSED},
    S.SUBSTANTIATED: {S.CLOSED},
    S.UNSUBSTANTIATED: {S.CLOSED},
    S.REFERRED: {S.CLOSED},
    S.WITHDRAWN: {S.CLOSED},
    S.CLOSED: set(),
}
# Deciding something needs a reason on the record.
NEEDS_REASON = {*Case.DECIDED_STATUSES, S.CLOSED}
# The child hears about these steps in their language, over their channel.
TELL_CHILD = {S.ACKNOWLEDGED, S.SUBSTANTIATED, S.UNSUBSTANTIATED, S.REFERRED, S.UPHELD, S.CHANGED}
# A review (complaints.reviews) decides whether the first decision stands; it is not a
# new investigation of staff, so it neither substantiates nor refers. Other cases never
# take a review's decisions.
REVIEW_ONLY = {S.UPHELD, S.CHANGED}
NOT_FOR_REVIEWS = {S.SUBSTANTIATED, S.UNSUBSTANTIATED, S.REFERRED}
Contact = Case.ContactPreference
# The child reads the outcome on the follow-up page and nowhere else: it is told once
# it is there (the record says whether they came back to read it).
PAGE_ONLY = {Contact.FOLLOW_UP_PAGE, Contact.NONE}


class TransitionRefused(ComplaintError):
    """A step the lifecycle does not allow; the message is for staff (in their language)."""


# Withdrawing is the child's act (case_withdraw: the follow-up page or WITHDRAW by SMS,
# after a confirmation). A focal point who could pick it would close a child's complaint
# without the child, the manager or the compliance review hearing of it.
CHILD_ONLY = {S.WITHDRAWN}


def allowed_transitions(case: Case) -> list[str]:
    """The steps staff may take on this case now."""
    return [
        s
        for s in S.values
        if s in TRANSITIONS.get(case.status, set())
        and s not in CHILD_ONLY
        and s not in _kind_excluded(case)
    ]


def _kind_excluded(case: Case) -> set[str]:
    """The decisions that do not fit this kind of case (a review, or not)."""
    return NOT_FOR_REVIEWS if case.review_of_id else REVIEW_ONLY


@transaction.atomic
def case_transition(
    *, case: Case, actor, to_status: str, reason: str = "", breaches_recorded: bool = False
) -> CaseEvent:
    """Move a case along its lifecycle: validated, recorded (event and audit), and
    told to the child where the step concerns them."""
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("unit", "policy", "sms_reporter")
        .get(pk=case.pk)
    )
    reason = " ".join(reason.split())[:200]
    if to_status not in TRANSITIONS.get(case.status, set()):
        target = S(to_status).label.lower() if to_status in S.values else to_status
        raise TransitionRefused(
            gettext("A case that is %(status)s cannot become %(target)s.")
            % {"status": case.get_status_display().lower(), "target": target}
        )
    if to_status in CHILD_ONLY and actor is not None:
        raise TransitionRefused(
            gettext(
                "Only the child can withdraw a complaint: from the follow-up page, or by texting "
                "WITHDRAW. Tell them how if they ask you."
            )
        )
    if to_status in _kind_excluded(case):
        raise TransitionRefused(
            gettext("A review is decided as upheld or changed; other cases are not.")
            if case.review_of_id
            else gettext("Only a review is decided as upheld or changed.")
        )
    if to_status == S.SUBSTANTIATED and not breaches_recorded:
        # competencies.services.case_substantiate records whom and which competencies.
        raise TransitionRefused(
            gettext(
                "Substantiate from the decision form: pick the staff member and the breached competencies."
            )
        )
    if to_status in NEEDS_REASON and not reason:
        raise TransitionRefused(gettext("Please give the reason for this decision."))
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
        # Nothing more is sent once a case is closed: its email address goes.
        case.delivery_email = None
    case.next_due_at = case.current_next_due()
    case.save(
        update_fields=[
            "status",
            "acknowledged_at",
            "decided_at",
            "outcome",
            "closed_at",
            "next_due_at",
            "delivery_email",
        ]
    )
    audit_record(
        action="complaints.case.transitioned",
        actor=actor,
        case=case,
        data={"from": event.from_status, "to": to_status},
    )
    if to_status in TELL_CHILD:
        child_tell(
            case=case,
            notice="update",
            status=to_status,
            carries_outcome=to_status in Case.DECIDED_STATUSES,
        )
    return event


def _close_check(case: Case, now, reason: str) -> str:
    """A case closes once the child was told the outcome the way they chose: the text
    or the email carrying it was sent, the focal point recorded the call, or they read
    it on the follow-up page. A child who chose the follow-up page only, or no
    contact, has it there from the decision on. A withdrawn case closes at once."""
    if case.outcome_told_at or case.status == S.WITHDRAWN:
        return reason
    if case.contact_preference in PAGE_ONLY and case.decided_at:
        return f"{reason} [closed with the outcome on the follow-up page, not read yet]"[:200]
    if _outcome_undeliverable(case):
        return (
            f"{reason} [closed: the outcome could not be sent (STOP or a failed "
            f"delivery); it is on the follow-up page]"
        )[:200]
    if case.contact_preference == Contact.PHONE:
        raise TransitionRefused(
            gettext(
                "The child asked to be called and has not been told the outcome "
                "yet. Call them, then press “Told the child by phone”."
            )
        )
    raise TransitionRefused(
        gettext(
            "The child has not been told the outcome yet. Close the case once they have read it."
        )
    )


def _outcome_undeliverable(case: Case) -> bool:
    """The text or email carrying the outcome ended without reaching the child (their
    number sent STOP, or every try failed) and nothing else is on its way: waiting
    would never close the case."""
    texts = OutboundSms.objects.filter(case=case, carries_outcome=True)
    emails = OutboundEmail.objects.filter(case=case, carries_outcome=True)
    lost_text = {
        OutboundSms.Status.SUPPRESSED,
        OutboundSms.Status.FAILED,
        OutboundSms.Status.UNDELIVERED,
    }
    lost_email = {OutboundEmail.Status.FAILED, OutboundEmail.Status.SKIPPED}
    lost = (
        texts.filter(status__in=lost_text).exists() or emails.filter(status__in=lost_email).exists()
    )
    on_its_way = (
        texts.exclude(status__in=lost_text).exists()
        or emails.exclude(status__in=lost_email).exists()
    )
    return lost and not on_its_way


# What the child can be told: the follow-up page's text, and the SMS text.
NOTICES = {
    "update": ("complaints/child_update.txt", "case_update"),
    "late": ("complaints/child_late.txt", "late"),
    "referred": ("complaints/child_referred.txt", "referred"),
}


def child_tell(*, case: Case, notice: str, carries_outcome: bool = False, **context) -> Message:
    """Tell the child something, in their language: always on the follow-up page (the
    record of what they were told), and over the channel they chose:
    - a text, to an SMS child or a web child who chose "text me": the SMS pipeline
      (retries, STOP honoured); a sent text that carries the outcome tells it;
    - an email, to a web child who chose "email me": only that there is news and how
      to read it (notifications/child_email.py); sent, it tells the outcome;
    - a call: nothing is sent; the staff case page shows the call task;
    - the follow-up page only, or no contact: the page."""
    page_template, sms_name = NOTICES[notice]
    with translation.override(case.language):
        text = render_to_string(page_template, {"case": case, **context}).strip()
    message = message_create(case=case, author_kind=Message.Author.STAFF, body=text)
    if case.sms_reporter_id:
        sms_queue(
            reporter=case.sms_reporter,
            case=case,
            carries_outcome=carries_outcome,
            body=render_sms(sms_name, case.text_language, case=case, **context),
        )
    elif case.contact_preference == Contact.EMAIL and case.delivery_email:
        child_email_queue(case=case, carries_outcome=carries_outcome)
    return message


@transaction.atomic
def case_told_by_phone(*, case: Case, actor, note: str = "") -> CaseEvent:
    """The focal point called a child who asked to be called, and told them the
    outcome: recorded (history, audit), and the close gate is satisfied. What was
    said, if written, is an encrypted note."""
    case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    if case.contact_preference != Contact.PHONE:
        raise TransitionRefused(gettext("The child did not ask to be called."))
    if not case.decided_at:
        raise TransitionRefused(gettext("There is no outcome to tell yet: decide the case first."))
    now = timezone.now()
    Case.outcome_told(case.pk, at=now)
    outcome = case.outcome_label.lower()
    event = CaseEvent.objects.create(
        case=case,
        at=now,
        actor=actor,
        from_status=case.status,
        to_status=case.status,
        reason=f"Told the child the outcome ({outcome}) by phone.",
    )
    audit_record(
        action="complaints.case.told_by_phone",
        actor=actor,
        case=case,
        data={"outcome": case.outcome},
    )
    if " ".join(note.split()):
        case_note(case=case, actor=actor, body=f"Phone call: {note}")
    return event


class WithdrawRefused(ComplaintError):
    """The case is no longer open: the message is for the child (translatable)."""


@transaction.atomic
def case_withdraw(*, case: Case, channel: str) -> CaseEvent:
    """The child withdraws their complaint, after confirming. The handling focal points
    are told (reference and unit only). A finished case cannot be withdrawn."""
    case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    if not case.is_open:
        raise WithdrawRefused(_("This complaint is already finished, so you cannot stop it."))
    event = case_transition(
        case=case,
        actor=None,
        to_status=S.WITHDRAWN,
        reason=f"The child withdrew the complaint ({channel}).",
    )
    notify_users(case=case, user_ids=case_readers(case), kind=Notification.Kind.WITHDRAWN)
    return event


def reporter_viewed(case: Case) -> None:
    """The child opened the follow-up page: anything posted before now has been seen."""
    now = timezone.now()
    updates = {"reporter_seen_at": now}
    if case.decided_at and not case.outcome_told_at:
        updates["outcome_told_at"] = now
    Case.objects.filter(pk=case.pk).update(**updates)
    for name, value in updates.items():  # the page being drawn reads them too
        setattr(case, name, value)
