"""Review (appeal): a child told the outcome asks the oversight unit to look at the
decision again, within the policy's review window.

The review is a case of its own at the oversight unit (`Case.review_of` names the
case it reviews), filed through complaint_receive like any complaint: routed under the
oversight unit's own policy and deadlines (policies.routing.route), its key wrapped to
the oversight unit's focal points and to the child's code (`same_child_as`), never to
the first unit's focal points, whose work may be what the child contests. The child
follows it with the reference and code they already have: the follow-up page of the
first case shows the review, and texts about it name the first reference
(`Case.reporter_reference`). The reason, if given, is the review's narrative, sealed
like any complaint.

Which policy decides: the window and the oversight unit come from the policy version
the first case was routed under, the one the child was told about.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from access.cases import case_readers
from complaints.audit import audit_record
from complaints.danger import Danger, danger_in
from complaints.models import Case, CaseEvent
from complaints.services import (
    MAX_TEXT_LENGTH,
    ComplaintError,
    clean_text,
    complaint_receive,
)
from notifications.models import Notification
from notifications.services import notify_users
from policies.models import Unit
from policies.selectors import unit_time_zone
from vault import server_sealed

S = Case.Status


class ReviewRefused(ComplaintError):
    """No review can be asked for this case now; the message is for the child, in the
    active language."""


@dataclass(frozen=True)
class ReviewOffer:
    """What the follow-up page and the SMS say about a review of this case."""

    review: Case | None  # the review already asked for
    can_ask: bool
    last_day: date | None  # the last day to ask, in the unit's calendar
    refusal: str  # why not, for the child ("" when they can ask, or asked)


@dataclass(frozen=True)
class Requested:
    review: Case
    created: bool  # False: asked before (a double click, a second text)
    in_danger: bool = False  # the reason said the child is in danger now


def review_oversight_unit(case: Case) -> Unit | None:
    """Where a review of this case goes: the oversight unit of its policy version."""
    return case.policy.oversight_unit if case.policy.oversight_unit_id else None


def review_last_day(case: Case) -> date | None:
    """The last day, in the unit's calendar, the child may ask for a review."""
    if case.outcome_told_at is None:
        return None
    told = timezone.localdate(case.outcome_told_at, unit_time_zone(case.unit))
    return told + timedelta(days=case.policy.review_window_days)


def _refusal(case: Case, *, now) -> str:
    """Why this case cannot be reviewed now ("" when it can), in the active language."""
    if case.review_of_id:
        return gettext("This is already a review: there is no review of a review.")
    if case.status == S.WITHDRAWN or case.outcome == S.WITHDRAWN:
        return gettext("You stopped this complaint, so there is no decision to review.")
    if case.outcome == S.REFERRED:
        return gettext(
            "Your complaint was passed to another service, so there is no decision here to review."
        )
    if case.outcome not in Case.REVIEWABLE_OUTCOMES or case.outcome_told_at is None:
        return gettext("You can ask for a review once we have told you what we decided.")
    if review_oversight_unit(case) is None:
        return gettext(
            "Nobody else reviews the decisions of this place here. If something new "
            "happened, you can make a new complaint."
        )
    last_day = review_last_day(case)
    if timezone.localdate(now, unit_time_zone(case.unit)) > last_day:
        return gettext("The time to ask for a review ended on %(date)s.") % {
            "date": formats.date_format(last_day, "DATE_FORMAT")
        }
    return ""


def review_offer(case: Case, *, now=None) -> ReviewOffer:
    """Whether the child may ask for a review of this case now, or already did."""
    now = now or timezone.now()
    review = Case.objects.filter(review_of=case).first()
    if review is not None:
        return ReviewOffer(review=review, can_ask=False, last_day=None, refusal="")
    refusal = _refusal(case, now=now)
    return ReviewOffer(
        review=None,
        can_ask=not refusal,
        last_day=None if refusal else review_last_day(case),
        refusal=refusal,
    )


# What the review's narrative says when the child gave no reason: staff read it, in
# the oversight unit's language.
NO_REASON = _("The child asked for a review of the decision and gave no reason.")


@transaction.atomic
def review_request(*, case: Case, reason: str = "", channel: str, now=None) -> Requested:
    """The child asks for a review of `case`'s decision: a linked case at the oversight
    unit, once. A second request returns the first review and changes nothing. Outside
    the window, before the outcome or for a withdrawn case: ReviewRefused, nothing
    stored."""
    now = now or timezone.now()
    # Locked, so two requests at once (two tabs, a text and a click) make one review.
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("unit", "policy__oversight_unit", "sms_reporter")
        .get(pk=case.pk)
    )
    existing = Case.objects.filter(review_of=case).first()
    if existing is not None:
        return Requested(review=existing, created=False)
    refusal = _refusal(case, now=now)
    if refusal:
        raise ReviewRefused(refusal)
    oversight = review_oversight_unit(case)
    reason = clean_text(reason)
    if len(reason) > MAX_TEXT_LENGTH:
        raise ComplaintError(
            gettext("Please keep it under %(max)d characters.") % {"max": MAX_TEXT_LENGTH}
        )
    if not reason:
        with translation.override(oversight.default_language):
            reason = str(NO_REASON)
    preference, detail = _contact_for_review(case)
    # A reason that says the child is in danger now files the review as an emergency.
    in_danger = danger_in(reason) is Danger.NOW
    try:
        review = complaint_receive(
            unit=oversight,
            channel=channel,
            language=case.language,
            narrative=reason,
            category=case.category,
            in_danger=in_danger,
            about_staff_answer="",
            contact_preference=preference,
            contact_detail=detail,
            sms_reporter=case.sms_reporter,
            same_child_as=case,
            filed_for=case.filed_for,
            review_of=case,
        ).case
    except ComplaintError:
        # The oversight unit takes no complaints now (closed, no policy in force).
        raise ReviewRefused(
            gettext(
                "We cannot send a review to the office above this place right now. "
                "Please try again in a few days."
            )
        ) from None
    CaseEvent.objects.create(
        case=case,
        at=now,
        from_status=case.status,
        to_status=case.status,
        reason=(
            f"The child asked for a review ({channel}): case {review.display_reference} "
            f"at unit {oversight.code}."
        )[:200],
    )
    audit_record(
        action="complaints.case.review_requested",
        case=case,
        data={"review": review.reference, "oversight_unit": oversight.code, "channel": channel},
    )
    # The first unit's focal points hear that a review was asked (metadata only); they
    # hold no key to the review.
    notify_users(case=case, user_ids=case_readers(case), kind=Notification.Kind.REVIEW_REQUESTED)
    return Requested(review=review, created=True, in_danger=in_danger)


def _contact_for_review(case: Case) -> tuple[str, str]:
    """How the child hears about the review: by text when the first case texted them,
    by email while its address is still kept, else on the follow-up page (a child who
    asked to be called: the number is sealed under the first case's key, which the
    server cannot open; the oversight unit reads the review on the page they follow)."""
    contact = Case.ContactPreference
    if case.sms_reporter_id:
        return contact.SMS, ""
    if case.contact_preference == contact.EMAIL and case.delivery_email:
        return contact.EMAIL, server_sealed.open_field(case, "delivery_email")
    return contact.FOLLOW_UP_PAGE, ""
