from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from complaints.audit import audit_record
from notifications.services import notify_new_reader
from policies.categories import default_category_urgencies
from policies.models import (
    DEADLINE_STEPS,
    ChildProtectionPolicy,
    Membership,
    PosterPrint,
    StaffProfile,
    Unit,
    Urgency,
)
from policies.selectors import policy_emergency_contacts, poster_facts, unit_current_policy

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
    time_zone: str = "UTC",
) -> Unit:
    """A unit with a first published policy from the default categories and deadlines."""
    unit = Unit.objects.create(
        code=code,
        name=name,
        sector=sector,
        default_language=default_language,
        time_zone=time_zone,
    )
    ChildProtectionPolicy.objects.create(
        unit=unit,
        version=1,
        categories=default_category_urgencies(),
        deadlines={str(u): steps for u, steps in DEFAULT_DEADLINES.items()},
        oversight_unit=oversight_unit,
        emergency_contacts=emergency_contacts,
        published_at=timezone.now(),
    )
    return unit


class PolicyError(Exception):
    """Why a policy cannot be published or edited, in words for the manager."""


def policy_problems(policy: ChildProtectionPolicy, *, check_staff: bool = True) -> list[str]:
    """What stops this policy version from protecting children as promised."""
    problems = []
    if check_staff:
        focal = Membership.objects.filter(
            unit=policy.unit, role=Membership.Role.FOCAL_POINT, is_active=True, user__is_active=True
        )
        if not focal.filter(is_backup=False).exists():
            problems.append(gettext("The unit has no active focal point."))
        if not focal.filter(is_backup=True).exists():
            problems.append(gettext("The unit has no backup focal point."))
    if not policy.categories:
        problems.append(gettext("The policy handles no category."))
    if not policy_emergency_contacts(policy):
        problems.append(gettext("The policy gives children no emergency number."))
    to_oversight = ChildProtectionPolicy.AboutStaffRule.OVERSIGHT
    if to_oversight in (policy.about_staff_yes_rule, policy.about_staff_unsure_rule) and (
        policy.oversight_unit_id is None
    ):
        problems.append(
            gettext(
                "Complaints about staff are to go to the oversight unit, but the policy names none."
            )
        )
    needed = {str(u) for u in policy.categories.values()} | {str(Urgency.EMERGENCY)}
    for urgency in sorted(needed):
        missing = [s for s in DEADLINE_STEPS if not policy.deadline_hours(urgency, s)]
        if missing:
            problems.append(
                gettext("No %(steps)s deadline for %(urgency)s cases.")
                % {"steps": ", ".join(missing), "urgency": urgency}
            )
    return problems


@transaction.atomic
def policy_draft_get_or_create(*, unit: Unit) -> ChildProtectionPolicy:
    """The unit's draft, or a new one copied from its newest version."""
    draft = ChildProtectionPolicy.objects.filter(unit=unit, published_at__isnull=True).first()
    if draft:
        return draft
    latest = ChildProtectionPolicy.objects.filter(unit=unit).order_by("-version").first()
    fields = {}
    if latest:
        fields = {
            f.name: getattr(latest, f.name)
            for f in ChildProtectionPolicy._meta.fields
            if f.name not in {"id", "version", "published_at", "created_at", "unit"}
        }
    else:
        fields = {
            "categories": default_category_urgencies(),
            "deadlines": {str(u): steps for u, steps in DEFAULT_DEADLINES.items()},
        }
    return ChildProtectionPolicy.objects.create(
        unit=unit, version=(latest.version + 1) if latest else 1, **fields
    )


@transaction.atomic
def policy_publish(*, policy: ChildProtectionPolicy, actor) -> ChildProtectionPolicy:
    policy = ChildProtectionPolicy.objects.select_for_update().get(pk=policy.pk)
    if policy.published_at:
        raise PolicyError(gettext("This version is already published."))
    problems = policy_problems(policy)
    if problems:
        raise PolicyError(" ".join(problems))
    policy.published_at = timezone.now()
    policy.save(update_fields=["published_at"])
    audit_record(
        action="policies.policy.published",
        actor=actor,
        data={"unit": policy.unit.code, "version": policy.version},
    )
    return policy


def poster_print_record(*, unit: Unit, kind: str, actor) -> PosterPrint:
    """Record that `actor` prints the unit's poster or leaflet as it reads now, so the
    policy page can say when a later change makes the paper wrong."""
    policy = unit_current_policy(unit)
    if policy is None:
        raise PolicyError(
            gettext("The unit has no published policy: its poster would lead nowhere.")
        )
    return PosterPrint.objects.create(
        unit=unit,
        policy=policy,
        kind=PosterPrint.Kind(kind),
        facts=poster_facts(unit=unit, policy=policy),
        printed_by=actor,
        printed_at=timezone.now(),
    )


def membership_recorded(*, membership: Membership, actor, change: str) -> None:
    """Every change to who works where is an audit-chain event ("added", "changed",
    "removed"), with the person who made it; a new focal point is told to the unit's
    managers and its oversight unit. Keys follow (vault.keys.focal_point_removed)
    where someone may read less."""
    audit_record(
        action=f"staff.membership.{change}",
        actor=actor,
        data={
            "user": membership.user_id,
            "unit": membership.unit.code,
            "role": membership.role,
            "backup": membership.is_backup,
            "active": membership.is_active,
        },
    )
    if (
        change in ("added", "changed")
        and membership.is_active
        and membership.role == Membership.Role.FOCAL_POINT
    ):
        notify_new_reader(membership=membership)


def staff_language_set(*, user, language: str) -> StaffProfile:
    """The language a person reads staff pages, notices and email in; "" follows
    their unit's language."""
    profile, _created = StaffProfile.objects.get_or_create(user=user)
    profile.language = language
    profile.full_clean(exclude=["user", "alert_phone"])
    profile.save(update_fields=["language"])
    return profile
