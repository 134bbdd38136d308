"""Writes on cases. Both intake channels end in complaint_receive()."""

from __future__ import annotations

import re
import secrets
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.cases import case_readers
from complaints.audit import audit_record
from complaints.danger import Danger, danger_in
from complaints.models import Case, CaseEvent, CaseExclusion, CaseLastOpened, Message
from complaints.throttles import (
    Claim,
    Limit,
    throttle_claim,
    throttle_count,
    throttle_prune,
    throttle_release,
)
from intake.models import SmsReporter
from notifications.child_email import child_email_queue
from notifications.gsm import is_gsm, segments
from notifications.models import Notification
from notifications.services import notify_case_handlers, notify_users
from notifications.sms import render_sms, sms_queue
from policies.models import DEADLINE_STEPS, URGENCY_RANK, Unit, Urgency
from policies.routing import route
from policies.selectors import staff_snapshot, unit_current_policy
from vault import server_sealed
from vault.cases import case_copies_issue, case_seal_new, followup_code_check, message_seal

MAX_TEXT_LENGTH = 5000
# No 0/O, 1/I/L, 2/Z, 5/S? (S is out, 5 stays), 8/B or U/V: easy to read aloud and copy.
REFERENCE_ALPHABET = "ACDEFGHJKMNPQRTVWXY345679"
REFERENCE_LENGTH = 8
FOLLOWUP_CODE_DIGITS = 12
CONTACT_NEEDS_DETAIL = {
    Case.ContactPreference.SMS,
    Case.ContactPreference.PHONE,
    Case.ContactPreference.EMAIL,
}


def international_phone(value: str) -> str | None:
    """A number a text can be sent to, as "+" and digits (E.164), or None. The unit's
    country is not known here, so the number must start with + (or 00) and its
    country code; spaces, dashes, dots and brackets are allowed."""
    compact = re.sub(r"[\s\-.()/]", "", value or "")
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    digits = compact.removeprefix("+")
    if compact.startswith("+") and digits.isdigit() and 8 <= len(digits) <= 15 and digits[0] != "0":
        return "+" + digits
    return None


class ComplaintError(Exception):
    """An error a reporter may see: the message is safe and translatable."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class FollowUpDenied(ComplaintError):
    pass


class FollowUpThrottled(ComplaintError):
    pass


@dataclass(frozen=True)
class Receipt:
    case: Case
    # Shown to the child once, never stored; empty when the submission was a repeat.
    followup_code: str
    duplicate: bool = False

    @property
    def display_code(self) -> str:
        code = self.followup_code
        return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


def clean_text(text: str) -> str:
    """Normalise what a person typed: no NUL or other control characters, no lone
    surrogates, Unix newlines, no surrounding blank space."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    return text.strip()


def normalise_reference(value: str) -> str:
    return re.sub(r"[\s\-]", "", value or "").upper()


def normalise_code(value: str) -> str:
    return re.sub(r"[\s\-]", "", value or "")


def _new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def _new_followup_code() -> str:
    return f"{secrets.randbelow(10**FOLLOWUP_CODE_DIGITS):0{FOLLOWUP_CODE_DIGITS}d}"


def _validated_text(text: str, *, empty_message) -> str:
    text = clean_text(text)
    if not text:
        raise ComplaintError(empty_message)
    if len(text) > MAX_TEXT_LENGTH:
        raise ComplaintError(
            _("Please keep it under %(max)d characters. You can add more after sending.")
            % {"max": MAX_TEXT_LENGTH}
        )
    return text


@transaction.atomic
def complaint_receive(
    *,
    unit: Unit,
    channel: str,
    language: str,
    narrative: str,
    category: str,
    in_danger: bool,
    about_staff_answer: str,
    contact_preference: str,
    contact_detail: str = "",
    submission_token: str | None = None,
    sms_reporter=None,
    same_child_as: Case | None = None,
    filed_for: str = Case.FiledFor.SELF,
    review_of: Case | None = None,
) -> Receipt:
    """Store a new complaint encrypted, route it under the unit's policy, and queue the
    focal points' notifications. A repeated submission_token returns the first case.
    `about_staff_answer`: the child's Case.AboutStaff answer, "" when nobody asked."""
    if submission_token:
        existing = Case.objects.filter(submission_token=submission_token).first()
        if existing:
            return Receipt(case=existing, followup_code="", duplicate=True)

    narrative = _validated_text(narrative, empty_message=_("Please tell us what happened."))
    contact = _contact_checked(contact_preference, contact_detail, sms_reporter=sms_reporter)
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    if filed_for not in Case.FiledFor.values:
        filed_for = Case.FiledFor.SELF
    if about_staff_answer not in ("", *Case.AboutStaff.values):
        raise ValueError(
            f"about_staff_answer must be a Case.AboutStaff value or '', not {about_staff_answer!r}"
        )
    policy = unit_current_policy(unit)
    if policy is None or not unit.is_active:
        raise ComplaintError(
            _("This place cannot receive complaints online right now. Please choose another.")
        )

    now = timezone.now()
    staff = staff_snapshot(policy)
    decision = route(
        policy=policy,
        category=category,
        in_danger=in_danger,
        received_at=now,
        staff=staff,
        about_staff_answer=about_staff_answer,
    )
    case = _case_routed(
        decision,
        unit=unit,
        policy=policy,
        channel=channel,
        language=language,
        category=category,
        in_danger=in_danger,
        about_staff_answer=about_staff_answer,
        filed_for=filed_for,
        contact_preference=contact.preference,
        received_at=now,
        submission_token=submission_token or None,
        sms_reporter=sms_reporter,
        review_of=review_of,
    )
    # Where the server tells the child with nobody present (a late notice from the
    # sweep): sealed under the server key ring, like an SMS child's number. The copy
    # under the case key is what staff read.
    if contact.text_to:
        case.sms_reporter = _sms_reporter_for(contact.text_to, language=language)
    if contact.preference == Case.ContactPreference.EMAIL and contact.detail:
        server_sealed.seal(case, "delivery_email", contact.detail)
    # A referral: the child keeps their reference's code, and their key opens this too.
    followup_code = "" if same_child_as is not None else _new_followup_code()
    case_key = case_seal_new(
        case,
        narrative=narrative,
        contact_detail=contact.detail,
        followup_code=followup_code,
        same_child_as=same_child_as,
    )
    won_by = _save_with_new_reference(case, submission_token)
    if won_by is not None:
        return Receipt(case=won_by, followup_code="", duplicate=True)

    case_copies_issue(case, case_key, readers=_first_readers(staff, decision, unit))
    # Recorded, so that re-routing, grants and the queue keep them away too.
    CaseExclusion.objects.bulk_create(
        [
            CaseExclusion(case=case, user_id=user_id, reason=CaseExclusion.Reason.POLICY)
            for user_id in decision.policy_excluded_ids
        ]
    )
    CaseEvent.objects.create(
        case=case, at=now, to_status=Case.Status.RECEIVED, reason=f"Received by {channel}."
    )
    notify_users(case=case, user_ids=decision.alert_ids, kind=Notification.Kind.NEW_CASE)
    notify_users(
        case=case, user_ids=decision.manager_notice_ids, kind=Notification.Kind.ABOUT_STAFF
    )
    return Receipt(case=case, followup_code=followup_code)


@dataclass(frozen=True)
class _Contact:
    preference: str
    detail: str  # "" unless the preference needs one
    text_to: str | None  # the E.164 number a web child asked to be texted at


def _contact_checked(preference: str, detail: str, *, sms_reporter) -> _Contact:
    detail = clean_text(detail)
    if preference not in Case.ContactPreference.values:
        raise ComplaintError(_("Please choose how we can contact you."))
    if preference in CONTACT_NEEDS_DETAIL and not detail and not sms_reporter:
        raise ComplaintError(_("Please give the number or email we can use to contact you."))
    if preference not in CONTACT_NEEDS_DETAIL:
        detail = ""
    text_to = None
    if preference == Case.ContactPreference.SMS and not sms_reporter:
        text_to = international_phone(detail)
        if text_to is None:
            raise ComplaintError(
                _("Please write your number with + and the country code, like +221 77 123 45 67.")
            )
    return _Contact(preference=preference, detail=detail, text_to=text_to)


def _case_routed(decision, *, received_at, **fields) -> Case:
    """The new case (not saved) with what routing decided: handling unit, assignee,
    urgency and the deadlines counted from `received_at`."""
    return Case(
        id=uuid.uuid4(),
        urgency=decision.urgency,
        routing=decision.as_record(),
        handling_unit_id=decision.handling_unit_id,
        assignee_id=decision.assignee_id,
        received_at=received_at,
        acknowledge_due_at=decision.deadlines.get("acknowledge"),
        next_due_at=decision.deadlines.get("acknowledge"),
        queue_priority=URGENCY_RANK.get(decision.urgency, 2),
        assess_due_at=decision.deadlines.get("assess"),
        resolve_due_at=decision.deadlines.get("resolve"),
        **fields,
    )


def _save_with_new_reference(case: Case, submission_token: str | None) -> Case | None:
    """Insert the case under a new random reference. When the same form won a race in
    another request, that request's case, and nothing is saved: one case, not two."""
    for _attempt in range(5):
        case.reference = _new_reference()
        try:
            with transaction.atomic():
                case.save(force_insert=True)
            return None
        except IntegrityError:
            if submission_token and Case.objects.filter(submission_token=submission_token).exists():
                return Case.objects.get(submission_token=submission_token)
    # 25^8 references; five collisions in a row is a bug
    raise RuntimeError("could not allocate a case reference")  # pragma: no cover


def _first_readers(staff, decision, unit: Unit) -> list[int]:
    """Who gets a copy of the case key at once: the focal points it is routed to. The
    oversight unit gets its copies only once a case escalates to it, from a colleague's
    next sign-in: a copy made now could be opened with the database and one oversight
    password."""
    pool = (
        staff.oversight_focal_points if decision.handling_unit_id != unit.pk else staff.focal_points
    )
    return [fp.user_id for fp in pool if fp.user_id not in decision.excluded_ids]


def _sms_reporter_for(phone: str, *, language: str):
    """The SmsReporter of the number a web child asked to be texted at: its texts go
    through the SMS pipeline, and a STOP from that number is honoured. A number new to
    the service answers keywords (STATUS, HELP...) in the language the child filed in."""
    try:
        with transaction.atomic():
            reporter = SmsReporter.for_phone(phone)[0]
    except IntegrityError:  # the number's first text arrived at the same moment
        reporter = SmsReporter.objects.get(phone_index=SmsReporter.index_for(phone))
    SmsReporter.objects.filter(pk=reporter.pk, language="").update(language=language)
    return reporter


# --- Reporter follow-up -------------------------------------------------------------------


@dataclass(frozen=True)
class FollowupAccess:
    case: Case
    reporter_private: bytes


FOLLOWUP_SCOPES = ("reference", "client")


def submission_claim(*, client_key: str) -> Claim:
    """Count a web complaint against the per-client limit before it is filed, or refuse
    to when the limit is reached (the caller then asks the human-check question).
    Release the claim when nothing is filed."""
    window = timedelta(minutes=settings.SUBMISSION_THROTTLE_WINDOW_MINUTES)
    claim = throttle_claim(
        limits=[Limit(scope="submit", key=client_key, maximum=settings.SUBMISSIONS_PER_CLIENT)],
        window=window,
    )
    throttle_prune(scopes=("submit",), window=window)
    return claim


def submission_count(*, client_key: str) -> None:
    """Count a complaint filed past the limit (a child in danger, or after the question)."""
    throttle_count(scope="submit", key=client_key)


def followup_open(*, reference: str, code: str, client_key: str) -> FollowupAccess:
    """Check a reference and follow-up code. Every try is counted per reference and per
    client before the code is derived, so that a burst of simultaneous tries gets no
    more Argon2 checks than the limits allow; a right code is then not counted. Past the
    limit every try, right or wrong, is refused until the window passes."""
    reference = normalise_reference(reference)
    code = normalise_code(code)
    window = timedelta(minutes=settings.FOLLOWUP_THROTTLE_WINDOW_MINUTES)
    claim = throttle_claim(
        limits=[
            Limit(
                scope="reference",
                key=reference[:64],
                maximum=settings.FOLLOWUP_MAX_FAILURES_PER_REFERENCE,
            ),
            Limit(
                scope="client", key=client_key, maximum=settings.FOLLOWUP_MAX_FAILURES_PER_CLIENT
            ),
        ],
        window=window,
    )
    if not claim.granted:
        raise FollowUpThrottled(
            _("Too many tries. For your safety, please wait %(minutes)d minutes and try again.")
            % {"minutes": settings.FOLLOWUP_THROTTLE_WINDOW_MINUTES}
        )

    case = Case.objects.filter(reference=reference).first() if reference else None
    reporter_private = followup_code_check(case, code)
    if reporter_private is not None and case is not None:
        throttle_release(claim)
        return FollowupAccess(case=case, reporter_private=reporter_private)

    # Only the follow-up scopes: "submit" events count over their own, longer window.
    throttle_prune(scopes=FOLLOWUP_SCOPES, window=window)
    raise FollowUpDenied(
        _("We could not find a complaint with that reference and code. Please check and try again.")
    )


@dataclass(frozen=True)
class Added:
    """A child's message stored on their case, and whether it spoke of danger."""

    message: Message | None  # None: photos or voice messages only (intake.sms)
    danger: Danger


@transaction.atomic
def followup_add_message(*, case: Case, body: str, channel: str = Case.Channel.WEB) -> Added:
    """The child adds information to their case. A message that says they are in
    danger now makes the case an emergency and alerts every focal point at once; one
    that may say so is stored as usual, and the caller asks the child."""
    if not case.is_open:
        raise ComplaintError(
            _("This complaint is finished, so you cannot add to it. You can send a new one.")
        )
    body = _validated_text(body, empty_message=_("Please write your message first."))
    message = message_create(case=case, author_kind=Message.Author.REPORTER, body=body)
    danger = danger_in(body)
    if danger is Danger.NOW:
        case_danger_reported(case=case, channel=channel)
    else:
        notify_case_handlers(case=case, kind=Notification.Kind.CASE_UPDATED)
    return Added(message=message, danger=danger)


@transaction.atomic
def case_danger_reported(*, case: Case, channel: str) -> Case:
    """The child says they are in danger now, after filing. The case becomes an
    emergency: its deadlines and the escalation ladder follow the policy's emergency
    deadlines from now (never later than they were), and every focal point and backup
    who may read it is alerted at once by email and SMS, with metadata only. Said
    again, it alerts again: each time may be a new danger."""
    case = Case.objects.select_for_update().select_related("policy", "unit").get(pk=case.pk)
    now = timezone.now()
    policy = case.policy
    emergency = str(Urgency.EMERGENCY)
    for step in DEADLINE_STEPS:
        hours = policy.deadline_hours(emergency, step)
        if hours is None:
            continue
        field = f"{step}_due_at"
        due = now + timedelta(hours=hours)
        current = getattr(case, field)
        setattr(case, field, min(current, due) if current else due)
    was = case.urgency
    case.in_danger = True
    case.urgency = emergency
    case.queue_priority = URGENCY_RANK[Urgency.EMERGENCY]
    case.next_due_at = case.current_next_due()
    # The ladder's next step waits the emergency acknowledge window, counted from now.
    case.escalated_at = now if case.escalation_level else None
    case.routing = {
        **case.routing,
        "urgency": emergency,
        "reasons": [
            *case.routing.get("reasons", []),
            f"The child said they are in danger now ({channel}, after filing): emergency; "
            "every focal point is alerted at once.",
        ],
    }
    case.save(
        update_fields=[
            "in_danger",
            "urgency",
            "queue_priority",
            "acknowledge_due_at",
            "assess_due_at",
            "resolve_due_at",
            "next_due_at",
            "escalated_at",
            "routing",
        ]
    )
    CaseEvent.objects.create(
        case=case,
        at=now,
        from_status=case.status,
        to_status=case.status,
        reason=f"The child said they are in danger now ({channel}). Urgency {was} -> emergency.",
    )
    audit_record(
        action="complaints.case.danger_reported",
        case=case,
        data={"channel": channel, "urgency_was": was},
    )
    notify_users(case=case, user_ids=case_readers(case), kind=Notification.Kind.DANGER)
    return case


@dataclass(frozen=True)
class SmsReplyCost:
    """What a reply to a child who wrote by SMS costs, counted on the text actually
    sent (the staff_reply SMS template around it, folded into GSM-7 where it can be)."""

    segments: int
    unicode: bool  # UCS-2: 67 characters a segment instead of 153
    limit: int

    @property
    def over_limit(self) -> bool:
        return self.segments > self.limit


# Stands for the reply in the SMS template, so the browser can count what surrounds it.
REPLY_MARK = "@@REPLY@@"


def reply_sms_text(*, case: Case, body: str) -> str:
    return render_sms("staff_reply", case.text_language, case=case, body=body)


def reply_sms_cost(*, case: Case, body: str) -> SmsReplyCost | None:
    """None when the child does not hear back by SMS (WhatsApp has no segments)."""
    if not case.sms_reporter_id or case.channel == Case.Channel.WHATSAPP:
        return None
    text = reply_sms_text(case=case, body=clean_text(body))
    return SmsReplyCost(
        segments=segments(text),
        unicode=not is_gsm(text),
        limit=settings.STAFF_SMS_REPLY_MAX_SEGMENTS,
    )


def reply_sms_frame(*, case: Case) -> tuple[str, str]:
    """The SMS text before and after the reply, for the counter in the browser."""
    before, _mark, after = reply_sms_text(case=case, body=REPLY_MARK).partition(REPLY_MARK)
    return before, after


class ReplyAlreadySent(ComplaintError):
    """The same reply box was sent before (another tab, Back then Send): nothing is
    sent again."""


@transaction.atomic
def case_reply(*, case: Case, actor, body: str, message_id: uuid.UUID | None = None) -> Message:
    """A focal point answers the child: on the follow-up page; by SMS to a child texted
    (within STAFF_SMS_REPLY_MAX_SEGMENTS segments); an email child is told there is news."""
    body = _validated_text(body, empty_message=_("The reply is empty."))
    cost = reply_sms_cost(case=case, body=body)
    if cost is not None and cost.over_limit:
        raise ComplaintError(
            _(
                "By SMS this reply would be %(segments)d text messages; the limit is %(limit)d. "
                "Shorten it, or send the rest in a second reply."
            )
            % {"segments": cost.segments, "limit": cost.limit}
        )
    try:
        with transaction.atomic():
            message = message_create(
                case=case,
                author_kind=Message.Author.STAFF,
                body=body,
                author=actor,
                message_id=message_id,
            )
    except IntegrityError:
        raise ReplyAlreadySent(
            _(
                "This reply was already sent (from another tab, or before "
                "going Back): it was not sent again."
            )
        ) from None
    if case.sms_reporter_id:
        sms_queue(
            reporter=case.sms_reporter,
            case=case,
            body=render_sms("staff_reply", case.text_language, case=case, body=body),
        )
    elif case.contact_preference == Case.ContactPreference.EMAIL and case.delivery_email:
        child_email_queue(case=case)
    audit_record(
        action="complaints.case.replied",
        actor=actor,
        case=case,
        data={"message_id": str(message.id)},
    )
    return message


@transaction.atomic
def case_note(*, case: Case, actor, body: str) -> Message:
    """An internal note, encrypted like everything else; the child never sees it."""
    body = _validated_text(body, empty_message=_("The note is empty."))
    message = message_create(case=case, author_kind=Message.Author.NOTE, body=body, author=actor)
    audit_record(
        action="complaints.case.noted", actor=actor, case=case, data={"message_id": str(message.id)}
    )
    return message


def case_opened(*, case: Case, user, at) -> None:
    """`user` opened the case's page at `at` (taken before its content was read, so a
    message the child sends meanwhile still counts as new): one upsert."""
    CaseLastOpened.objects.bulk_create(
        [CaseLastOpened(case=case, user=user, opened_at=at)],
        update_conflicts=True,
        unique_fields=["case", "user"],
        update_fields=["opened_at"],
    )


def message_create(
    *, case: Case, author_kind: str, body: str, author=None, message_id: uuid.UUID | None = None
) -> Message:
    message = Message(
        id=message_id or uuid.uuid4(), case=case, author_kind=author_kind, author=author
    )
    message_seal(message, case, body)
    message.save(force_insert=True)
    return message
