"""Triage actions that change who handles a case: marking whom it is about, recusal."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from complaints.audit import audit_record
from complaints.models import Case, CaseEvent, CaseExclusion
from complaints.services import ComplaintError, case_note
from notifications.models import Notification
from notifications.services import notify_users
from policies.models import Membership
from policies.routing import route
from policies.selectors import staff_snapshot
from vault.cases import case_data_key_for
from vault.keys import case_keys_follow_readers, case_keys_revoke


@transaction.atomic
def case_reroute(*, case: Case, actor, why: str, private_key: bytes | None = None) -> Case:
    """Route the case again under the policy version it was received under, with the
    current staff and exclusions. Deadlines do not move. With the actor's private key
    the keys follow at once: new readers get a copy, people who may
    no longer read the case lose theirs."""
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("policy__unit", "about_staff_member")
        .get(pk=case.pk)
    )
    subject_id = case.about_staff_member.user_id if case.about_staff_member else None
    excluded = frozenset(CaseExclusion.objects.filter(case=case).values_list("user_id", flat=True))
    decision = route(
        policy=case.policy,
        category=case.category,
        in_danger=case.in_danger,
        received_at=case.received_at,
        staff=staff_snapshot(case.policy),
        excluded_ids=excluded,
        subject_id=subject_id,
        about_staff_answer=case.about_staff_answer,
    )
    # Opened before any copy goes: the actor may be the one who loses theirs.
    data_key = case_data_key_for(case=case, actor=actor, private_key=private_key)
    # Whoever is excluded loses their copy of the data key at once, in any case.
    if subject_id is not None:
        case_subject_excluded(case=case, user_id=subject_id)
    for user_id in decision.policy_excluded_ids:  # e.g. a primary focal point added since
        CaseExclusion.objects.get_or_create(
            case=case, user_id=user_id, defaults={"reason": CaseExclusion.Reason.POLICY}
        )
    case_keys_revoke(case=case, user_ids=set(decision.excluded_ids))
    previous_assignee = case.assignee_id
    case.handling_unit_id = decision.handling_unit_id
    case.assignee_id = decision.assignee_id
    case.routing = {**decision.as_record(), "urgency": case.urgency}
    case.save(update_fields=["handling_unit", "assignee", "routing"])
    case_keys_follow_readers(case=case, data_key=data_key)
    CaseEvent.objects.create(
        case=case,
        actor=actor,
        from_status=case.status,
        to_status=case.status,
        reason=f"Re-routed: {why}"[:200],
    )
    audit_record(
        action="complaints.case.rerouted",
        actor=actor,
        case=case,
        data={
            "why": why,
            "handling_unit": decision.handling_unit_id,
            "assignee": decision.assignee_id,
        },
    )
    if decision.assignee_id and decision.assignee_id != previous_assignee:
        notify_users(case=case, user_ids=[decision.assignee_id], kind=routed_to_you_kind(case))
    return case


def routed_to_you_kind(case: Case) -> str:
    """What a person a case is routed to is told: a new case, with its acknowledgement
    deadline, only while nobody has acknowledged it; a case already under way, or
    decided, is "routed to you", never announced as new."""
    if case.is_open and case.acknowledged_at is None:
        return Notification.Kind.NEW_CASE
    return Notification.Kind.ROUTED_TO_YOU


def case_subject_excluded(*, case: Case, user_id: int) -> None:
    """The person the complaint is about never sees it: excluded, and their copy of the
    case's key is gone at once."""
    CaseExclusion.objects.get_or_create(
        case=case, user_id=user_id, defaults={"reason": CaseExclusion.Reason.SUBJECT}
    )
    if case_keys_revoke(case=case, user_ids={user_id}):
        audit_record(action="complaints.keys.revoked_subject", case=case, data={"user": user_id})


@transaction.atomic
def case_mark_about_staff(
    *, case: Case, actor, staff_member, private_key: bytes | None = None
) -> Case:
    """The complaint is about this person on the unit's roster (None: nobody, or not
    known). When the roster links the person to an account, that account is excluded:
    its copy of the key goes, it is no longer assigned and is not told again; the case is
    routed again at once. Clearing or changing the person lifts no exclusion: fail safe."""
    if staff_member is not None and staff_member.unit_id != case.unit_id:
        raise ComplaintError(_("That person is not on this unit's roster."))
    Case.objects.filter(pk=case.pk).update(about_staff_member=staff_member)
    audit_record(
        action="complaints.case.subject_marked",
        actor=actor,
        case=case,
        data={
            "staff_member": staff_member.pk if staff_member else None,
            "linked_account": staff_member.user_id if staff_member else None,
        },
    )
    why = (
        "the complaint is about a member of staff"
        if staff_member is not None
        else "whom the complaint is about is not known"
    )
    return case_reroute(case=case, actor=actor, why=why, private_key=private_key)


def case_recuse(*, case: Case, actor, reason: str, private_key: bytes | None = None) -> Case:
    """A focal point steps away from a case (with a reason); it is routed again at once."""
    reason = " ".join(reason.split())
    if not reason:
        raise ComplaintError(_("Please say why you recuse yourself."))
    # The reason may name people: it is kept as an encrypted internal note, not in the
    # plaintext history or audit log.
    case_note(case=case, actor=actor, body=f"Recused: {reason}")
    CaseExclusion.objects.get_or_create(
        case=case, user=actor, defaults={"reason": CaseExclusion.Reason.RECUSED}
    )
    return case_reroute(
        case=case, actor=actor, why="a focal point recused", private_key=private_key
    )


def eligible_assignees(case: Case):
    """Active focal points of the handling unit who are not excluded from the case."""
    excluded = CaseExclusion.objects.filter(case=case).values_list("user_id", flat=True)
    return (
        get_user_model()
        .objects.filter(
            memberships__unit_id=case.handling_unit_id,
            memberships__is_active=True,
            memberships__role=Membership.Role.FOCAL_POINT,
            is_active=True,
        )
        .exclude(pk__in=excluded)
        .order_by("username")
        .distinct()
    )


@transaction.atomic
def case_reassign(*, case: Case, actor, assignee_id: int) -> Case:
    if not eligible_assignees(case).filter(pk=assignee_id).exists():
        raise ComplaintError(_("That person cannot handle this case."))
    Case.objects.filter(pk=case.pk).update(assignee_id=assignee_id)
    CaseEvent.objects.create(
        case=case,
        actor=actor,
        from_status=case.status,
        to_status=case.status,
        reason="Reassigned within the unit.",
    )
    audit_record(
        action="complaints.case.reassigned", actor=actor, case=case, data={"assignee": assignee_id}
    )
    notify_users(case=case, user_ids=[assignee_id], kind=routed_to_you_kind(case))
    case.assignee_id = assignee_id
    return case
