"""From a substantiated complaint to retraining on the competencies that were breached."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from competencies.models import (
    Competency,
    Facet,
    Rating,
    RetrainingAssignment,
    StaffMember,
    TrainingLevel,
)
from complaints.audit import audit_record
from complaints.lifecycle import case_transition
from complaints.models import Case
from complaints.services import ComplaintError
from complaints.triage import case_mark_about_staff, case_reroute, case_subject_excluded
from notifications.services import notify_users
from policies.models import Membership

NEW_HIRE = timedelta(days=365)


@dataclass(frozen=True)
class Breach:
    competency: Competency
    facets: tuple[str, ...]


def training_level_for(staff_member: StaffMember, today: date) -> str:
    """Basic training for someone in service under a year; professional development
    for personnel already in service (IBCR training levels)."""
    since = staff_member.in_service_since
    if since is None or today - since < NEW_HIRE:
        return TrainingLevel.BASIC
    return TrainingLevel.PROFESSIONAL_DEVELOPMENT


def sector_competencies(unit):
    return Competency.objects.filter(framework__sector=unit.sector, is_active=True)


@transaction.atomic
def case_substantiate(
    *,
    case: Case,
    actor,
    staff_member: StaffMember,
    breaches: list[Breach],
    reason: str,
    training_level: str = "",
    private_key: bytes | None = None,
) -> list[RetrainingAssignment]:
    """Decide a case substantiated against a staff member: at least one breached
    competency of the unit's sector framework, each with its facets; one retraining
    assignment per breach; the unit's managers are told (reference only)."""
    if staff_member.unit_id != case.unit_id:
        raise ComplaintError(_("That person is not on this unit's roster."))
    if not breaches:
        raise ComplaintError(_("Pick at least one breached competency, with its facets."))
    allowed = set(sector_competencies(case.unit).values_list("pk", flat=True))
    for breach in breaches:
        if breach.competency.pk not in allowed:
            raise ComplaintError(_("That competency is not in this unit's sector framework."))
        if not breach.facets or not set(breach.facets) <= set(Facet.values):
            raise ComplaintError(
                _("Pick the facets breached for %(competency)s.")
                % {"competency": breach.competency}
            )
    if training_level and training_level not in TrainingLevel.values:
        raise ComplaintError(_("Unknown training level."))

    case_transition(
        case=case,
        actor=actor,
        to_status=Case.Status.SUBSTANTIATED,
        reason=reason,
        breaches_recorded=True,
    )
    today = timezone.localdate()
    level = training_level or training_level_for(staff_member, today)
    due = today + timedelta(days=case.policy.retraining_due_days)
    assignments = RetrainingAssignment.objects.bulk_create(
        [
            RetrainingAssignment(
                staff_member=staff_member,
                competency=b.competency,
                competency_title=b.competency.title,
                facets=sorted(set(b.facets)),
                training_level=level,
                due_date=due,
                case_reference=case.reference,
            )
            for b in breaches
        ]
    )
    marked = Case.objects.filter(pk=case.pk).values_list("about_staff_member_id", flat=True).get()
    if marked != staff_member.pk and staff_member.user_id:
        # Named now, with an account: the same exclusion, revocation and re-routing as
        # marking the subject.
        case_mark_about_staff(
            case=case, actor=actor, staff_member=staff_member, private_key=private_key
        )
    elif marked != staff_member.pk:
        Case.objects.filter(pk=case.pk).update(about_staff_member=staff_member)
    audit_record(
        action="competencies.retraining.assigned",
        actor=actor,
        case=case,
        data={"staff_member": staff_member.pk, "competencies": [b.competency.pk for b in breaches]},
    )
    _notify_managers(case.unit_id, case, kind="retraining")
    return assignments


@transaction.atomic
def retraining_complete(
    *, assignment: RetrainingAssignment, actor, evaluation: dict[str, str]
) -> RetrainingAssignment | None:
    """Record completion and a rating per facet trained. Below expectations on any
    facet opens a follow-up assignment on those facets. Returns the follow-up, if any."""
    assignment = RetrainingAssignment.objects.select_for_update().get(pk=assignment.pk)
    if assignment.status == RetrainingAssignment.Status.COMPLETED:
        raise ComplaintError(_("This retraining is already completed."))
    if set(evaluation) != set(assignment.facets) or not set(evaluation.values()) <= set(
        Rating.values
    ):
        raise ComplaintError(_("Rate each facet that was trained."))
    assignment.status = RetrainingAssignment.Status.COMPLETED
    assignment.evaluation = evaluation
    assignment.completed_at = timezone.now()
    assignment.completed_by = actor
    assignment.save()
    audit_record(
        action="competencies.retraining.completed",
        actor=actor,
        data={"assignment": assignment.pk, "evaluation": evaluation},
    )
    below = sorted(f for f, rating in evaluation.items() if rating == Rating.BELOW_EXPECTATIONS)
    if not below:
        return None
    follow_up = RetrainingAssignment.objects.create(
        staff_member=assignment.staff_member,
        competency=assignment.competency,
        competency_title=assignment.competency_title,
        facets=below,
        training_level=assignment.training_level,
        due_date=timezone.localdate() + (assignment.due_date - assignment.created_at.date()),
        case_reference=assignment.case_reference,
        follow_up_of=assignment,
    )
    audit_record(
        action="competencies.retraining.follow_up",
        actor=actor,
        data={"assignment": follow_up.pk, "follow_up_of": assignment.pk},
    )
    return follow_up


def retraining_overdue_sweep(*, now: datetime) -> int:
    """Overdue retraining reaches the unit's managers once, like a missed case deadline."""
    today = timezone.localdate(now)
    overdue = RetrainingAssignment.objects.filter(
        status=RetrainingAssignment.Status.ASSIGNED,
        due_date__lt=today,
        overdue_notified_at__isnull=True,
    ).select_related("staff_member")
    count = 0
    for assignment in overdue[:500]:
        claimed = RetrainingAssignment.objects.filter(
            pk=assignment.pk, overdue_notified_at__isnull=True
        ).update(overdue_notified_at=now)
        if claimed:
            _notify_managers(
                assignment.staff_member.unit_id,
                None,
                kind="retraining_overdue",
                assignment=assignment,
            )
            count += 1
    return count


def _notify_managers(unit_id: int, case: Case | None, *, kind: str, assignment=None) -> None:
    managers = list(
        Membership.objects.filter(
            unit_id=unit_id, role=Membership.Role.MANAGER, is_active=True
        ).values_list("user_id", flat=True)
    )
    notify_users(case=case, user_ids=managers, kind=kind, assignment=assignment)


# --- The roster and staff accounts ---------------------------------------------------------


def roster_accounts(unit):
    """Staff accounts a roster entry of the unit may be linked to: active members of the
    unit, focal points and managers alike."""
    return (
        get_user_model()
        .objects.filter(memberships__unit=unit, memberships__is_active=True, is_active=True)
        .distinct()
        .order_by("username")
    )


def linkable_accounts(unit):
    """The accounts the roster page offers for an entry not linked yet: those of
    `roster_accounts` that no entry of the unit is linked to. One account is one person."""
    linked = StaffMember.objects.filter(unit=unit, user__isnull=False).values("user_id")
    return roster_accounts(unit).exclude(pk__in=linked)


@transaction.atomic
def staff_member_link(*, staff_member: StaffMember, user, actor) -> StaffMember:
    """A manager links a roster entry to the person's staff account. From then on that
    account never sees a complaint about the entry, and cases already marked as about it
    are routed again at once: the account loses its copy of their key and its
    assignment (fail safe: a link made late still takes effect)."""
    if not roster_accounts(staff_member.unit).filter(pk=user.pk).exists():
        raise ComplaintError(_("That account is not a member of this unit."))
    _refuse_if_linked_elsewhere(staff_member, user)
    try:
        with transaction.atomic():
            StaffMember.objects.filter(pk=staff_member.pk).update(user=user)
    except IntegrityError:
        # Another manager linked the account to another entry at the same moment: the
        # database constraint (one entry per account and unit) refused this one.
        _refuse_if_linked_elsewhere(staff_member, user)
        raise
    staff_member.user = user
    audit_record(
        action="competencies.roster.linked",
        actor=actor,
        data={"staff_member": staff_member.pk, "user": user.pk, "unit": staff_member.unit.code},
    )
    about_them = Case.objects.filter(about_staff_member=staff_member)
    for case in about_them.filter(status__in=Case.OPEN_STATUSES):
        case_reroute(
            case=case, actor=actor, why="the person it is about was linked to their staff account"
        )
    for case in about_them.exclude(status__in=Case.OPEN_STATUSES):
        case_subject_excluded(case=case, user_id=user.pk)
    return staff_member


def _refuse_if_linked_elsewhere(staff_member: StaffMember, user) -> None:
    other = (
        StaffMember.objects.filter(unit_id=staff_member.unit_id, user=user)
        .exclude(pk=staff_member.pk)
        .first()
    )
    if other is not None:
        raise ComplaintError(
            _(
                "The account %(account)s is already linked to %(name)s on this roster. One "
                "account belongs to one person: if that link is wrong, unlink %(name)s first."
            )
            % {"account": user.get_username(), "name": other.name}
        )


@transaction.atomic
def staff_member_unlink(*, staff_member: StaffMember, actor) -> StaffMember:
    """Undo a link made in error. Exclusions it caused stay (fail safe): nobody regains
    a case by being unlinked."""
    previous = staff_member.user_id
    StaffMember.objects.filter(pk=staff_member.pk).update(user=None)
    staff_member.user = None
    audit_record(
        action="competencies.roster.unlinked",
        actor=actor,
        data={"staff_member": staff_member.pk, "user": previous, "unit": staff_member.unit.code},
    )
    return staff_member
