from django.db.models import QuerySet

from policies.models import ChildProtectionPolicy, Membership, Unit


def unit_current_policy(unit: Unit) -> ChildProtectionPolicy | None:
    """The unit's newest published policy version."""
    return (
        ChildProtectionPolicy.objects.filter(unit=unit, published_at__isnull=False)
        .order_by("-version")
        .first()
    )


def units_open_to_reporters() -> QuerySet[Unit]:
    """Units a child can pick: active, with a published policy. Oversight bodies are
    listed too: a child may complain straight to them about a unit's own staff."""
    return Unit.objects.filter(is_active=True, policies__published_at__isnull=False).distinct()


def focal_point_unit_ids(user) -> list[int]:
    return list(
        Membership.objects.filter(
            user=user, role=Membership.Role.FOCAL_POINT, is_active=True
        ).values_list("unit_id", flat=True)
    )


def _focal_points(unit: Unit) -> tuple:
    """The unit's active focal points with their current load, for routing."""
    from django.db.models import Count, Max, Q

    from complaints.models import Case
    from policies.routing import FocalPoint

    rows = (
        Membership.objects.filter(
            unit=unit, role=Membership.Role.FOCAL_POINT, is_active=True, user__is_active=True
        )
        .annotate(
            open_cases=Count("user__case_assignments",
                             filter=Q(user__case_assignments__status__in=Case.OPEN_STATUSES)),
            last_assigned=Max("user__case_assignments__received_at"),
        )
        .order_by("user_id")
    )
    return tuple(
        FocalPoint(user_id=m.user_id, is_backup=m.is_backup, open_cases=m.open_cases,
                   last_assigned_at=m.last_assigned)
        for m in rows
    )


def staff_snapshot(policy: ChildProtectionPolicy):
    """Everything routing needs to know about people, read in a few queries."""
    from policies.routing import StaffSnapshot

    unit = policy.unit
    oversight = policy.oversight_unit
    return StaffSnapshot(
        unit_id=unit.pk,
        focal_points=_focal_points(unit),
        manager_ids=tuple(
            Membership.objects.filter(unit=unit, role=Membership.Role.MANAGER, is_active=True)
            .values_list("user_id", flat=True)
        ),
        oversight_unit_id=oversight.pk if oversight else None,
        oversight_focal_points=_focal_points(oversight) if oversight else (),
    )
