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


def unit_focal_points(unit: Unit):
    return [
        m.user
        for m in Membership.objects.filter(
            unit=unit, role=Membership.Role.FOCAL_POINT, is_active=True, user__is_active=True
        ).select_related("user")
    ]
