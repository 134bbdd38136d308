"""Staff notifications: rows are written in the caller's transaction, delivery runs
in django-q2 tasks that carry the notification id only."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from access.cases import case_readers
from notifications.backends import get_sms_backend
from notifications.delivery import Done, RetryPolicy, delivery_attempt, email_send
from notifications.gsm import to_gsm
from notifications.models import Notification
from policies.models import Membership, StaffProfile
from policies.selectors import unit_current_policy
from policies.staff_locale import staff_locale_for, staff_locale_override, staff_time

# Normal notices: 30 s doubling to an hour, 12 attempts (about five hours).
MAX_ATTEMPTS = 12
RETRY = RetryPolicy(max_attempts=MAX_ATTEMPTS)
# Urgent notices: every five minutes at most, for about as long.
URGENT_RETRY = RetryPolicy(max_attempts=60, max_delay=timedelta(minutes=5))


def notify_users(*, case, user_ids, kind: str, assignment=None) -> list[Notification]:
    """Email each person; for a new emergency case or a child who says they are in
    danger now, also an SMS to those with an alert phone."""
    rows = [
        Notification(case=case, assignment=assignment, recipient_id=user_id, kind=kind)
        for user_id in user_ids
    ]
    urgent = kind == Notification.Kind.DANGER or (
        kind == Notification.Kind.NEW_CASE and case is not None and case.urgency == "emergency"
    )
    if urgent:
        with_phone = StaffProfile.objects.filter(user_id__in=user_ids).exclude(alert_phone="")
        rows += [
            Notification(case=case, recipient_id=uid, kind=kind, channel=Notification.Channel.SMS)
            for uid in with_phone.values_list("user_id", flat=True)
        ]
    notifications = Notification.objects.bulk_create(rows)
    ids = [n.pk for n in notifications]
    transaction.on_commit(lambda: [enqueue_delivery(pk) for pk in ids])
    return notifications


def notify_new_reader(*, membership) -> list[Notification]:
    """Every new focal point is told to the unit's managers and to the focal points of
    the oversight unit its policy names (metadata only)."""
    policy = unit_current_policy(membership.unit)
    units = [membership.unit_id] + (
        [policy.oversight_unit_id] if policy and policy.oversight_unit_id else []
    )
    people = set(
        Membership.objects.filter(
            unit_id=membership.unit_id, role=Membership.Role.MANAGER, is_active=True
        ).values_list("user_id", flat=True)
    )
    people |= set(
        Membership.objects.filter(
            unit_id__in=units[1:], role=Membership.Role.FOCAL_POINT, is_active=True
        ).values_list("user_id", flat=True)
    )
    people.discard(membership.user_id)
    rows = Notification.objects.bulk_create(
        [
            Notification(membership=membership, recipient_id=uid, kind=Notification.Kind.NEW_READER)
            for uid in sorted(people)
        ]
    )
    ids = [n.pk for n in rows]
    transaction.on_commit(lambda: [enqueue_delivery(pk) for pk in ids])
    return rows


def notify_case_handlers(*, case, kind: str) -> list[Notification]:
    """The assignee, or, when nobody is assigned, every focal point who may see it."""
    user_ids = [case.assignee_id] if case.assignee_id else case_readers(case)
    return notify_users(case=case, user_ids=user_ids, kind=kind)


def enqueue_delivery(notification_id: int) -> None:
    async_task(
        "notifications.tasks.deliver_notification",
        notification_id,
        task_name=f"notification-{notification_id}",
        save=False,
    )


def _new_case(case, facts: dict) -> tuple[str, list[str]]:
    """A case routed to this person as it was filed."""
    subject = _("[Recourse] New case %(reference)s (%(unit_code)s, %(urgency)s)") % facts
    lines = [_("A new case was received for %(unit)s.") % facts, ""]
    if case.acknowledge_due_at:
        lines.append(_("Acknowledge it by %(due)s.") % {"due": staff_time(case.acknowledge_due_at)})
    return subject, lines


def _routed_to_you(case, facts: dict) -> tuple[str, list[str]]:
    """Not a new case: it was acknowledged, or decided, before it came to this person."""
    facts["status"] = case.get_status_display()
    subject = _("[Recourse] Case %(reference)s (%(unit_code)s) was routed to you") % facts
    if case.is_open:
        lines = [
            _(
                "A case of %(unit)s that is already under way (%(status)s) was routed "
                "to you. It is not a new case: read its history before you act."
            )
            % facts,
            "",
        ]
        due_at = case.current_next_due()
        if due_at:
            lines.append(_("Its next deadline: %(due)s.") % {"due": staff_time(due_at)})
    else:
        lines = [
            _(
                "A case of %(unit)s that is already decided (%(status)s) was routed to "
                "you. It is not a new case and no deadline runs on it."
            )
            % facts,
            "",
        ]
    return subject, lines


def _danger_now(case, facts: dict) -> tuple[str, list[str]]:
    """The child says they are in danger now."""
    subject = _("[Recourse] DANGER NOW: case %(reference)s (%(unit_code)s)") % facts
    lines = [
        _(
            "The child who filed this case says they are in danger now. It is an "
            "emergency case of %(unit)s: contact them at once, as the emergency "
            "protocol of the policy says."
        )
        % facts,
        "",
    ]
    return subject, lines


def _access_needed(case, facts: dict) -> tuple[str, list[str]]:
    """A reader waits for a copy of the key this person holds."""
    subject = _("[Recourse] Sign in: someone waits to read case %(reference)s") % facts
    lines = [
        _(
            "Someone the policy says must read this case (the oversight unit after an "
            "escalation, or a colleague of %(unit)s) cannot open it yet. Your next "
            "sign-in passes them the key: please sign in now."
        )
        % facts,
        "",
    ]
    return subject, lines


def _withdrawn(case, facts: dict) -> tuple[str, list[str]]:
    """The child withdrew the complaint."""
    subject = _("[Recourse] Case %(reference)s (%(unit_code)s) withdrawn by the child") % facts
    lines = [
        _(
            "The child withdrew this complaint. Nothing more is needed from you but to "
            "close the case when your unit's practice allows."
        ),
        "",
    ]
    return subject, lines


def _escalated(case, facts: dict) -> tuple[str, list[str]]:
    """A deadline passed and the case climbed to this person."""
    subject = _("[Recourse] Deadline missed on case %(reference)s (%(urgency)s)") % facts
    lines = [
        _(
            "A deadline set by the child protection policy of %(unit)s has passed, "
            "and the case was escalated to you."
        )
        % facts,
        "",
    ]
    return subject, lines


def _news_from_child(case, facts: dict) -> tuple[str, list[str]]:
    """The child added to their case."""
    subject = _("[Recourse] New information on case %(reference)s") % facts
    lines = [_("The reporter added information to this case."), ""]
    return subject, lines


def _reprisal_concern(case, facts: dict) -> tuple[str, list[str]]:
    """A child told the outcome said they did not feel safe making the complaint."""
    subject = _("[Recourse] Possible reprisal: case %(reference)s (%(unit_code)s)") % facts
    lines = [
        _(
            "After being told the outcome, the child who filed this complaint about "
            "%(unit)s said they did not feel safe making it. They may be facing "
            "reprisal. The case's focal points and the oversight unit are told. Check "
            "that the child is safe, as the emergency protocol of the policy says; the "
            "child was given the emergency numbers."
        )
        % facts,
        "",
    ]
    return subject, lines


def _review_requested(case, facts: dict) -> tuple[str, list[str]]:
    """The child asked the oversight unit to review this case's decision."""
    subject = _("[Recourse] Review asked for case %(reference)s (%(unit_code)s)") % facts
    lines = [
        _(
            "The child asked the oversight unit to review the decision on this case. "
            "The oversight unit handles the review; it may contact your unit. Nothing "
            "more is needed from you now."
        ),
        "",
    ]
    return subject, lines


_CASE_MESSAGES = {
    Notification.Kind.NEW_CASE: _new_case,
    Notification.Kind.ROUTED_TO_YOU: _routed_to_you,
    Notification.Kind.DANGER: _danger_now,
    Notification.Kind.ACCESS_NEEDED: _access_needed,
    Notification.Kind.WITHDRAWN: _withdrawn,
    Notification.Kind.ESCALATION: _escalated,
    Notification.Kind.REPRISAL_CONCERN: _reprisal_concern,
    Notification.Kind.REVIEW_REQUESTED: _review_requested,
}


def _message(notification: Notification) -> tuple[str, str]:
    """Subject and body, in the active language and zone (the recipient's: _send)."""
    if notification.kind in (Notification.Kind.RETRAINING, Notification.Kind.RETRAINING_OVERDUE):
        return _retraining_message(notification)
    if notification.kind == Notification.Kind.NEW_READER:
        return _new_reader_message(notification)
    if notification.kind == Notification.Kind.ABOUT_STAFF:
        return _about_staff_message(notification)
    case = notification.case
    link = settings.PUBLIC_BASE_URL + reverse("staff:case", args=[case.reference])
    facts = {
        "reference": case.display_reference,
        "unit": case.unit.name,
        "unit_code": case.unit.code,
        "urgency": case.get_urgency_display(),
    }
    subject, lines = _CASE_MESSAGES.get(notification.kind, _news_from_child)(case, facts)
    lines += [
        "",
        _("Open the case after signing in: %(link)s") % {"link": link},
        "",
        _("This message never contains what the child wrote."),
    ]
    return subject, "\n".join(lines)


def _new_reader_message(notification: Notification) -> tuple[str, str]:
    """To the unit's managers and its oversight unit: who became a reader, where."""
    membership = notification.membership
    unit = membership.unit
    facts = {
        "person": membership.user.get_username(),
        "unit": unit.name,
        "unit_code": unit.code,
        "link": settings.PUBLIC_BASE_URL + reverse("policies:readers", args=[unit.code]),
    }
    subject = _("[Recourse] New focal point at %(unit_code)s: %(person)s") % facts
    body = (
        _(
            "%(person)s is now a focal point of %(unit)s. New cases reach them from now "
            "on. The unit's earlier cases stay closed to them until a manager of the "
            "unit, or a focal point who already reads them, approves: %(link)s"
        )
        % facts
        + "\n\n"
        + _("If you did not expect this, tell your administrator and the oversight body at once.")
        + "\n"
    )
    return subject, body


def _about_staff_message(notification: Notification) -> tuple[str, str]:
    """To a unit's managers, as its policy asks: a child says a complaint is about someone
    who works there, or is not sure. Reference, unit, urgency, deadline: managers read
    no complaint, so no link to it."""
    case = notification.case
    facts = {
        "reference": case.display_reference,
        "unit": case.unit.name,
        "unit_code": case.unit.code,
        "urgency": case.get_urgency_display(),
    }
    subject = _("[Recourse] Complaint about someone at %(unit_code)s: case %(reference)s") % facts
    lines = [
        _(
            "A child filed a complaint (%(urgency)s) with %(unit)s and says it is about "
            "someone who works there, or is not sure. Your child protection policy asks "
            "that you be told."
        )
        % facts,
        "",
    ]
    if case.resolve_due_at:
        lines.append(
            _("It must be resolved by %(due)s.") % {"due": staff_time(case.resolve_due_at)}
        )
    roster = settings.PUBLIC_BASE_URL + reverse("competencies:roster", args=[case.unit.code])
    lines += [
        _(
            "Whom it is about is not known yet: the focal point who reads it marks the "
            "person on the roster, and that person is then kept away from it. Keep your "
            "roster complete, with staff accounts linked: %(link)s"
        )
        % {"link": roster},
        "",
        _("This message never contains what the child wrote."),
    ]
    return subject, "\n".join(lines)


def _retraining_message(notification: Notification) -> tuple[str, str]:
    """To managers: a case reference or an assignment, a link; no child's words."""
    if notification.kind == Notification.Kind.RETRAINING:
        case = notification.case
        unit_code = case.unit.code
        subject = _("[Recourse] Retraining assigned after case %(reference)s") % {
            "reference": case.display_reference
        }
        intro = _(
            "A complaint was substantiated; retraining on the breached competencies is assigned."
        )
    else:
        assignment = notification.assignment
        unit_code = assignment.staff_member.unit.code
        subject = _("[Recourse] A retraining assignment is overdue")
        intro = _("A retraining assignment of your unit passed its due date (%(due)s).") % {
            "due": date_format(assignment.due_date, "DATE_FORMAT")
        }
    link = settings.PUBLIC_BASE_URL + reverse("competencies:retraining", args=[unit_code])
    return subject, intro + "\n\n" + _("See it after signing in: %(link)s") % {"link": link} + "\n"


def notification_retry(notification: Notification) -> RetryPolicy:
    """How long a notice keeps being tried: about five hours either way (an SMTP or
    provider outage must not fail it for good), every five minutes at most for a child
    in danger or an emergency, so it lands soon after the outage ends."""
    if notification.is_urgent:
        return URGENT_RETRY
    return RETRY


def notification_deliver(notification_id: int) -> str:
    """Send one notification (email or staff SMS alert). Safe to run twice: only the
    run that claims the row sends; a failure waits out its backoff."""
    return delivery_attempt(
        rows=Notification.objects.select_related(
            "case__unit",
            "recipient",
            "assignment__staff_member__unit",
            "membership__unit",
            "membership__user",
        ),
        pk=notification_id,
        send=_send,
        retry=notification_retry,
    )


def notification_due_ids(*, now) -> list[int]:
    """Notices a lost task or a retry left waiting. A new one is left two minutes to
    its own task, so the sweep does not queue it twice."""
    return Notification.objects.filter(
        Q(attempts__gt=0) | Q(created_at__lte=now - timedelta(minutes=2))
    ).due_ids(now=now)


def _send(notification: Notification) -> Done:
    if notification.channel == Notification.Channel.SMS:
        return _send_sms_alert(notification)
    if not notification.recipient.email:
        return Done(status=Notification.Status.SKIPPED, attempted=False)
    # In the recipient's language and zone, whoever's action queued the notice.
    with staff_locale_override(staff_locale_for(notification.recipient)):
        subject, body = _message(notification)
    return email_send(subject, body, notification.recipient.email)


def _send_sms_alert(notification: Notification) -> Done:
    """An urgent alert to a staff phone: reference, unit and a link only."""
    profile = StaffProfile.objects.filter(user_id=notification.recipient_id).first()
    if profile is None or not profile.alert_phone:
        return Done(status=Notification.Status.SKIPPED, attempted=False)
    case = notification.case
    facts = {
        "reference": case.display_reference,
        "unit_code": case.unit.code,
        "link": settings.PUBLIC_BASE_URL + reverse("staff:case", args=[case.reference]),
    }
    with staff_locale_override(staff_locale_for(notification.recipient)):
        if notification.kind == Notification.Kind.DANGER:
            body = (
                _(
                    "Recourse: child in DANGER NOW, case %(reference)s at %(unit_code)s. "
                    "Act now: %(link)s"
                )
                % facts
            )
        else:
            body = (
                _("Recourse: EMERGENCY, case %(reference)s at %(unit_code)s. Act now: %(link)s")
                % facts
            )
    # GSM-7 keeps the alert on as few segments as the language allows.
    get_sms_backend().send(to=profile.alert_phone, body=to_gsm(body))
    return Done()
