import re
import time
import zoneinfo
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from complaints.models import Case
from config.rows import row_select
from policies.models import ChildProtectionPolicy, Membership, PosterPrint, Unit, Urgency
from policies.routing import FocalPoint, StaffSnapshot


def unit_current_policy(unit: Unit) -> ChildProtectionPolicy | None:
    """The unit's newest published policy version (routing reads its unit and
    oversight unit: fetched with it)."""
    return (
        ChildProtectionPolicy.objects.filter(unit=unit, published_at__isnull=False)
        .select_related("unit", "oversight_unit")
        .order_by("-version")
        .first()
    )


def policy_emergency_contacts(policy: ChildProtectionPolicy | None) -> list[dict]:
    """The numbers the policy tells a child in danger to call, [{label, number}], in
    the policy's order. Entered by hand: anything but {label, number} is left off."""
    if policy is None:
        return []
    return [
        {"label": str(c.get("label", "")).strip(), "number": str(c.get("number", "")).strip()}
        for c in policy.emergency_contacts
        if isinstance(c, dict) and str(c.get("number", "")).strip()
    ]


def unit_emergency_contacts(unit: Unit) -> list[dict]:
    """The emergency numbers of the unit's policy in force."""
    return policy_emergency_contacts(unit_current_policy(unit))


@dataclass(frozen=True)
class CommonEmergencyContacts:
    # The numbers every open unit's policy in force gives, as the first unit (by name)
    # lists them.
    contacts: list[dict]
    # Some unit gives other numbers, or none: its own page says which.
    units_differ: bool


def units_common_emergency_contacts() -> CommonEmergencyContacts:
    """For the start page, before a child picks a place: the emergency numbers all open
    units share. One query, whatever the number of units."""
    per_unit = _emergency_contacts_per_unit()
    if not per_unit:
        return CommonEmergencyContacts(contacts=[], units_differ=False)
    number_sets = [{_dialled(c["number"]) for c in contacts} for contacts in per_unit.values()]
    shared = set.intersection(*number_sets)
    first = next(iter(per_unit.values()))
    contacts = [c for c in first if _dialled(c["number"]) in shared]
    return CommonEmergencyContacts(
        contacts=contacts, units_differ=any(numbers != shared for numbers in number_sets)
    )


def _emergency_contacts_per_unit() -> dict[int, list[dict]]:
    """Each open unit's emergency numbers (its policy in force), units by name. One query."""
    policies = (
        ChildProtectionPolicy.objects.filter(
            unit__in=units_open_to_reporters(), published_at__isnull=False
        )
        .order_by("unit__name", "unit_id", "-version")
        .only("unit_id", "version", "emergency_contacts")
    )
    per_unit: dict[int, list[dict]] = {}
    for policy in policies:  # the newest published version of each unit comes first
        per_unit.setdefault(policy.unit_id, policy_emergency_contacts(policy))
    return per_unit


def emergency_contacts_everywhere(limit: int = 3) -> list[dict]:
    """For an SMS child whose place is not known yet: the numbers every open unit
    gives (a national helpline), else the first few any of them gives."""
    common = units_common_emergency_contacts()
    if common.contacts:
        return common.contacts[:limit]
    seen, first_few = set(), []
    for contacts in _emergency_contacts_per_unit().values():
        for contact in contacts:
            if _dialled(contact["number"]) not in seen:
                seen.add(_dialled(contact["number"]))
                first_few.append(contact)
    return first_few[:limit]


def _dialled(number: str) -> str:
    # "0800 111" and "0800111" are one number.
    return re.sub(r"[^\d+]", "", number)


@dataclass(frozen=True)
class OversightForReporters:
    name: str
    code: str  # "" when the oversight body takes no complaints here itself


def policy_oversight_for_reporters(
    policy: ChildProtectionPolicy | None,
) -> OversightForReporters | None:
    """Where a child can go higher when nobody answers or they disagree: the policy's
    oversight unit, with its code when a child can complain to it on this site."""
    oversight = policy.oversight_unit if policy is not None else None
    if oversight is None:
        return None
    is_open = units_open_to_reporters().filter(pk=oversight.pk).exists()
    return OversightForReporters(name=oversight.name, code=oversight.code if is_open else "")


def unit_time_zone(unit: Unit) -> zoneinfo.ZoneInfo:
    """The zone a unit's children read dates in. UTC when the name is not one (a unit
    saved without validation): the page that shows a child their code must not fail."""
    try:
        return zoneinfo.ZoneInfo(unit.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


# Every unit's code, as this process last read them: (monotonic time read, codes).
_unit_codes: tuple[float, frozenset[str]] = (float("-inf"), frozenset())
UNIT_CODES_KEPT_SECONDS = 30


def unit_codes_known() -> frozenset[str]:
    """Every unit's code, open or not. Read at most every UNIT_CODES_KEPT_SECONDS in a
    process and forgotten when this process saves or deletes a unit (policies.apps), so
    an inbound text's first word costs a look-up only when it is a code: most texts'
    first words are not. A unit added by another process is known here within 30 s,
    well before its poster is on a wall."""
    global _unit_codes
    read_at, codes = _unit_codes
    now = time.monotonic()
    if now - read_at > UNIT_CODES_KEPT_SECONDS:
        codes = frozenset(Unit.objects.values_list("code", flat=True))
        _unit_codes = (now, codes)
    return codes


def unit_codes_forget(**_signal) -> None:
    global _unit_codes
    _unit_codes = (float("-inf"), frozenset())


def units_open_to_reporters() -> QuerySet[Unit]:
    """Units a child can pick: active, with a published policy. Oversight bodies are
    listed too: a child may complain straight to them about a unit's own staff."""
    return Unit.objects.filter(is_active=True, policies__published_at__isnull=False).distinct()


def unit_open_coded(code: str) -> Unit | None:
    """The unit of units_open_to_reporters() with this code, or None. SQL written by
    hand: a text that starts with a unit's code asks it, and the ORM spent twice as
    much CPU building this statement as running it (issue 20). Tested to find what
    units_open_to_reporters() finds (tests/policies/test_unit_codes.py)."""
    return row_select(*unit_open_coded_statement(code), alias=connection.alias)


def unit_open_coded_statement(code: str) -> tuple[type[Unit], str, list]:
    """unit_open_coded's (model, sql, params), for config.rows: an inbound text sends
    it with its other reads, in one round trip."""
    quote = connection.ops.quote_name
    unit, policy = quote(Unit._meta.db_table), quote(ChildProtectionPolicy._meta.db_table)
    columns = ", ".join(f"{unit}.{quote(f.column)}" for f in Unit._meta.concrete_fields)
    sql = (
        f"SELECT {columns} FROM {unit} WHERE {unit}.{quote('code')} = %s "
        f"AND {unit}.{quote('is_active')} = %s AND EXISTS (SELECT 1 FROM {policy} "
        f"WHERE {policy}.{quote('unit_id')} = {unit}.{quote('id')} "
        f"AND {policy}.{quote('published_at')} IS NOT NULL)"
    )
    return Unit, sql, [code, True]


def focal_point_unit_ids(user) -> list[int]:
    return list(
        Membership.objects.filter(
            user=user, role=Membership.Role.FOCAL_POINT, is_active=True
        ).values_list("unit_id", flat=True)
    )


def _focal_points(unit: Unit) -> tuple:
    """The unit's active focal points with their current load, for routing. One
    subquery per person, each answered from an index on the case table
    (case_assignee_open_idx, case_assignee_received_idx): a join-and-group over every
    case they ever had took 85 ms at 100,000 cases."""
    assigned = Case.objects.filter(assignee=OuterRef("user_id")).order_by()
    open_cases = (
        assigned.filter(status__in=Case.OPEN_STATUSES)
        .values("assignee")
        .annotate(n=Count("*"))
        .values("n")
    )
    last_assigned = assigned.order_by("-received_at").values("received_at")[:1]
    rows = (
        Membership.objects.filter(
            unit=unit, role=Membership.Role.FOCAL_POINT, is_active=True, user__is_active=True
        )
        .annotate(
            open_cases=Coalesce(Subquery(open_cases), 0), last_assigned=Subquery(last_assigned)
        )
        .order_by("user_id")
    )
    return tuple(
        FocalPoint(
            user_id=m.user_id,
            is_backup=m.is_backup,
            open_cases=m.open_cases,
            last_assigned_at=m.last_assigned,
        )
        for m in rows
    )


def staff_snapshot(policy: ChildProtectionPolicy):
    """Everything routing needs to know about people, read in a few queries."""
    unit = policy.unit
    oversight = policy.oversight_unit
    return StaffSnapshot(
        unit_id=unit.pk,
        focal_points=_focal_points(unit),
        manager_ids=tuple(
            Membership.objects.filter(
                unit=unit, role=Membership.Role.MANAGER, is_active=True
            ).values_list("user_id", flat=True)
        ),
        oversight_unit_id=oversight.pk if oversight else None,
        oversight_focal_points=_focal_points(oversight) if oversight else (),
    )


# --- Posters and leaflets -------------------------------------------------------------------


def poster_facts(*, unit: Unit, policy: ChildProtectionPolicy) -> dict:
    """What the unit's poster and leaflet promise a child, as JSON a print keeps.

    The deadlines are the slowest among the urgencies the policy's categories use, so
    the promise holds whatever the child complains about (under the default policy,
    the standard deadlines)."""
    urgencies = {str(u) for u in policy.categories.values()} or {str(Urgency.STANDARD)}

    def slowest(step: str) -> int | None:
        hours = [h for u in urgencies if (h := policy.deadline_hours(u, step))]
        return max(hours) if hours else None

    return {
        "acknowledge_hours": slowest("acknowledge"),
        "resolve_hours": slowest("resolve"),
        "emergency_contacts": policy_emergency_contacts(policy),
        # None: no oversight unit, so no review to offer (the sheet says nothing of it).
        "review_days": policy.review_window_days if policy.oversight_unit_id else None,
    }


# Which words of the manager's notice each fact belongs to.
POSTER_FACT_NAMES = {
    "acknowledge_hours": _("deadlines"),
    "resolve_hours": _("deadlines"),
    "emergency_contacts": _("emergency numbers"),
    "review_days": _("how to ask for a review"),
}


def poster_changes(printed: dict, current: dict) -> list[str]:
    """What is out of date on a printed sheet: ["deadlines", "emergency numbers"], or []."""
    changes = []
    for key, name in POSTER_FACT_NAMES.items():
        if printed.get(key) != current.get(key) and name not in changes:
            changes.append(name)
    return changes


@dataclass(frozen=True)
class PosterStatus:
    kind: str
    label: str
    last_print: PosterPrint | None
    changes: list[str]  # empty when the paper on the wall still says the truth


def poster_print_status(*, unit: Unit, policy: ChildProtectionPolicy) -> list[PosterStatus]:
    """For the poster and the leaflet: when last printed, and what changed since."""
    current = poster_facts(unit=unit, policy=policy)
    statuses = []
    for kind, label in PosterPrint.Kind.choices:
        last = (
            PosterPrint.objects.filter(unit=unit, kind=kind)
            .select_related("policy")
            .order_by("-printed_at", "-pk")
            .first()
        )
        changes = poster_changes(last.facts, current) if last else []
        statuses.append(
            PosterStatus(kind=kind, label=str(label).lower(), last_print=last, changes=changes)
        )
    return statuses
