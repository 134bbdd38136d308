"""Demo data for `make run`: four units of different sectors, each with a focal point,
a backup focal point and a manager who sign in with a password and a TOTP code, and a
staff roster with those three linked to their accounts."""

import json
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from competencies.models import Evaluation, StaffMember, TrainingLevel, TrainingRecord
from competencies.services import sector_competencies
from policies.models import Membership, StaffProfile, Unit
from policies.services import unit_create_with_policy
from vault.keys import recovery_key_create, staff_key_create

DEMO_PASSWORD = "recourse-demo-2026"

# The demo units and their policies' emergency numbers are data, like a real unit's.
DEMO_UNITS = json.loads(
    (Path(__file__).parent / "data" / "demo_units.json").read_text(encoding="utf-8")
)["units"]


@transaction.atomic
def seed_demo() -> tuple[list[str], dict[str, str]]:
    """Create the demo units and staff. Returns the usernames created and each unit's
    recovery key (to show once). Tests call it directly; production never may."""
    if settings.RECOURSE_ENV == "production":
        raise ImproperlyConfigured("Demo accounts have public passwords: never in production.")
    User = get_user_model()
    created = []
    recovery = {}
    oversight = None
    # The oversight body first: the other units' policies escalate to it.
    for spec in sorted(DEMO_UNITS, key=lambda s: s["sector"] != Unit.Sector.OVERSIGHT):
        spec = dict(spec)
        roster = spec.pop("roster", [])
        is_oversight = spec["sector"] == Unit.Sector.OVERSIGHT
        unit = unit_create_with_policy(**spec, oversight_unit=None if is_oversight else oversight)
        if is_oversight:
            oversight = unit
        recovery[unit.code] = recovery_key_create(unit=unit)
        accounts = {}
        for role, prefix, is_backup in (
            (Membership.Role.FOCAL_POINT, "focal", False),
            (Membership.Role.FOCAL_POINT, "backup", True),
            (Membership.Role.MANAGER, "manager", False),
        ):
            username = f"{prefix}.{unit.code.lower()}"
            user = User.objects.create_user(
                username=username, password=DEMO_PASSWORD, email=f"{username}@example.org"
            )
            Membership.objects.create(user=user, unit=unit, role=role, is_backup=is_backup)
            if role == Membership.Role.FOCAL_POINT:
                # Fake numbers: the console SMS backend prints emergency alerts.
                StaffProfile.objects.create(user=user, alert_phone=f"+1500555{len(created):04d}")
            TOTPDevice.objects.create(user=user, name="Demo authenticator", confirmed=True)
            if role == Membership.Role.FOCAL_POINT:
                staff_key_create(user=user, password=DEMO_PASSWORD)
            created.append(username)
            accounts[prefix] = user
        # A filled roster, with the staff who have a login linked to it: focal points
        # can mark whom a complaint is about, and substantiate, from the first run.
        StaffMember.objects.bulk_create(
            [
                StaffMember(
                    unit=unit,
                    name=entry["name"],
                    role_title=entry["role_title"],
                    in_service_since=date.fromisoformat(entry["in_service_since"]),
                    user=accounts.get(entry.get("account")),
                )
                for entry in roster
            ]
        )
        _demo_training(unit, accounts.get("manager"))
    admin = User.objects.create_superuser(
        username="admin", password=DEMO_PASSWORD, email="admin@example.org"
    )
    TOTPDevice.objects.create(user=admin, name="Demo authenticator", confirmed=True)
    created.append("admin")
    return created, recovery


def _demo_training(unit: Unit, manager) -> None:
    """Training records and evaluations, so the capacity plan and the impact page show
    something: the first two on the roster trained at basic level on every competency,
    the third on the first half, the fourth on the first only and rated below
    expectations in its skills, the new hire on none. Dates count back from today, so
    the figures are the same whatever day the demo is seeded."""
    competencies = list(sector_competencies(unit).order_by("number"))
    if not competencies:
        return  # an oversight unit has no sector framework
    today = timezone.localdate()
    members = list(StaffMember.objects.filter(unit=unit).order_by("pk"))
    trained = [
        (members[0], competencies, 600),
        (members[1], competencies, 400),
        (members[2], competencies[: len(competencies) // 2], 300),
        (members[3], competencies[:1], 200),
    ]
    TrainingRecord.objects.bulk_create(
        [
            TrainingRecord(
                staff_member=member,
                competency=competency,
                level=TrainingLevel.BASIC,
                completed_on=today - timedelta(days=days_ago),
                provider="Demo training centre",
                evidence=f"DEMO-{unit.code}-{member.pk}-{competency.number}",
                entered_by=manager,
            )
            for member, done, days_ago in trained
            for competency in done
        ]
    )
    evaluated = today - timedelta(days=20)
    Evaluation.objects.bulk_create(
        [
            Evaluation(
                staff_member=members[3],
                competency=competencies[0],
                facet="knowledge",
                rating="meets_expectations",
                evaluated_on=evaluated,
                evaluator="Demo trainer",
                entered_by=manager,
            ),
            Evaluation(
                staff_member=members[3],
                competency=competencies[0],
                facet="skills",
                rating="below_expectations",
                proposed_level=TrainingLevel.SPECIALISED,
                evaluated_on=evaluated,
                evaluator="Demo trainer",
                entered_by=manager,
            ),
            Evaluation(
                staff_member=members[1],
                competency=competencies[1],
                facet="attributes",
                rating="satisfactory",
                evaluated_on=evaluated,
                evaluator="Demo trainer",
                entered_by=manager,
            ),
        ]
    )
