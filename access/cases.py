"""Which cases and which units a person may reach, by role. The one place these rules
live: views, services and key grants all ask here."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from complaints.models import Case, CaseExclusion
from policies.models import Membership, Unit
from policies.selectors import focal_point_unit_ids

# complaints.escalation.MANAGER: from this step on, the unit's managers see the metadata.
MANAGER_LEVEL = 2
# complaints.escalation.OVERSIGHT: from this step on, the oversight unit reads the case.
OVERSIGHT_LEVEL = 3


def cases_for_focal_point(user) -> QuerySet[Case]:
    """Cases handled by the person's units, except those they are excluded from (the
    subject of the complaint, or recused)."""
    units = focal_point_unit_ids(user)
    visible = Q(handling_unit_id__in=units)
    if Unit.objects.filter(pk__in=units, sector=Unit.Sector.OVERSIGHT).exists():
        visible |= Q(escalation_level__gte=OVERSIGHT_LEVEL, policy__oversight_unit_id__in=units)
    # A subquery, not a join: the person's exclusions are few, the cases many.
    excluded = CaseExclusion.objects.filter(user=user).values("case_id")
    return Case.objects.filter(visible).exclude(pk__in=excluded)


def case_for_focal_point(user, reference: str) -> Case:
    """The one way staff views load a case: another unit's case is a 404."""
    try:
        return (
            cases_for_focal_point(user)
            .select_related("unit", "policy")
            .get(reference=reference.replace("-", "").upper())
        )
    except Case.DoesNotExist:
        raise Http404("No such case.") from None


def case_readers(case: Case) -> list[int]:
    """Everyone who may read this case now."""
    excluded = CaseExclusion.objects.filter(case=case).values_list("user_id", flat=True)
    units = [case.handling_unit_id]
    if case.escalation_level >= OVERSIGHT_LEVEL and case.policy.oversight_unit_id:
        units.append(case.policy.oversight_unit_id)
    return list(
        Membership.objects.filter(
            unit_id__in=units, role=Membership.Role.FOCAL_POINT, is_active=True
        )
        .exclude(user_id__in=excluded)
        .values_list("user_id", flat=True)
        .distinct()
    )


def escalated_to_manager(user) -> QuerySet[Case]:
    """Open cases of the units the person manages that missed deadlines up to the
    manager step: metadata only (no content is ever decrypted for a manager)."""
    units = Membership.objects.filter(
        user=user, role=Membership.Role.MANAGER, is_active=True
    ).values_list("unit_id", flat=True)
    return (
        Case.objects.filter(
            unit_id__in=units, escalation_level__gte=MANAGER_LEVEL, status__in=Case.OPEN_STATUSES
        )
        .select_related("unit", "assignee")
        .order_by("acknowledge_due_at")
        .only(
            "reference",
            "urgency",
            "status",
            "unit__code",
            "assignee__username",
            "acknowledge_due_at",
            "resolve_due_at",
            "escalation_level",
            "received_at",
        )[:200]
    )


def member_unit(user, code: str, *, roles=(Membership.Role.MANAGER,)) -> Unit:
    """The unit of this code where the person has one of `roles`; otherwise a 404."""
    membership = (
        Membership.objects.filter(
            user=user, unit__code=code.upper(), role__in=roles, is_active=True
        )
        .select_related("unit")
        .first()
    )
    if membership is None:
        raise Http404("No such unit.")
    return membership.unit


def managed_unit(user, code: str) -> Unit:
    """The unit of this code the person manages; otherwise a 404."""
    return member_unit(user, code, roles=(Membership.Role.MANAGER,))


def manages_a_unit(user) -> bool:
    return Membership.objects.filter(
        user=user, role=Membership.Role.MANAGER, is_active=True
    ).exists()


def case_for_manager(user, reference: str) -> Case:
    """A case of a unit the person manages (it belongs to it, or the unit handles it),
    metadata only: any other case, or a person who manages no unit, is a 404."""
    units = Membership.objects.filter(
        user=user, role=Membership.Role.MANAGER, is_active=True
    ).values("unit_id")
    try:
        return (
            Case.objects.filter(Q(unit_id__in=units) | Q(handling_unit_id__in=units))
            .select_related("unit", "legal_hold_by")
            .get(reference=reference.replace("-", "").upper())
        )
    except Case.DoesNotExist:
        raise Http404("No such case.") from None
