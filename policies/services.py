from django.db import transaction
from django.utils import timezone

from policies.categories import default_category_urgencies
from policies.models import ChildProtectionPolicy, Unit, Urgency

# Hours. Standard follows the Scottish model complaints procedure (acknowledge in 3
# days, investigate in 20 working days); emergency acknowledges within the hour.
DEFAULT_DEADLINES = {
    Urgency.EMERGENCY: {"acknowledge": 1, "assess": 24, "resolve": 72},
    Urgency.URGENT: {"acknowledge": 24, "assess": 72, "resolve": 240},
    Urgency.STANDARD: {"acknowledge": 72, "assess": 120, "resolve": 672},
}


@transaction.atomic
def unit_create_with_policy(
    *,
    code: str,
    name: str,
    sector: str,
    default_language: str,
    emergency_contacts: list[dict],
    oversight_unit: Unit | None = None,
) -> Unit:
    """A unit with a first published policy from the default categories and deadlines."""
    unit = Unit.objects.create(
        code=code,
        name=name,
        sector=sector,
        default_language=default_language,
        emergency_contacts=emergency_contacts,
    )
    ChildProtectionPolicy.objects.create(
        unit=unit,
        version=1,
        categories=default_category_urgencies(),
        deadlines={str(u): steps for u, steps in DEFAULT_DEADLINES.items()},
        oversight_unit=oversight_unit,
        published_at=timezone.now(),
    )
    return unit
