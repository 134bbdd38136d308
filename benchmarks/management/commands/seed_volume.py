"""Seed a realistic volume of cases for the benchmark (never in production)."""

import os
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta
from itertools import accumulate

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from complaints.escalation import OVERSIGHT, step_gap
from complaints.models import Case, Message
from complaints.services import REFERENCE_ALPHABET
from policies.categories import policy_category_codes
from policies.models import URGENCY_RANK, Membership, Unit
from policies.selectors import unit_current_policy
from policies.services import unit_create_with_policy
from vault.cases import synthetic_cases_seal
from vault.models import CaseEpoch, CaseKey, StaffKey

BATCH = 2000
# PostgreSQL refuses a statement with more than 65,535 parameters when they are bound
# on the server (DATABASE_SERVER_SIDE_BINDING, the default); Django splits bulk inserts
# only for SQLite. 2,000 cases of 39 columns each would be 78,000.
MAX_PARAMETERS = 65_535


def batch_size(model) -> int:
    """Rows per INSERT so one statement stays within MAX_PARAMETERS."""
    return max(1, MAX_PARAMETERS // len(model._meta.concrete_fields))


STATUS_MIX = [
    ("received", 8),
    ("acknowledged", 10),
    ("assessing", 6),
    ("investigating", 6),
    ("substantiated", 8),
    ("unsubstantiated", 12),
    ("referred", 3),
    ("withdrawn", 2),
    ("closed", 45),
]


# Cases received more than this long ago are mostly settled: a realistic backlog only.
SETTLED_AFTER = timedelta(days=120)
SETTLED_STATUS_MIX = [
    ("closed", 85),
    ("substantiated", 3),
    ("unsubstantiated", 5),
    ("referred", 3),
    ("withdrawn", 2),
    ("investigating", 1),
    ("assessing", 1),
]
# Extra units are named so: V001, V002... (seed_volume --units).
EXTRA_UNIT_PREFIX = "V"


class Command(BaseCommand):
    help = (
        "Add N synthetic, encrypted cases, spread over units (a few big, many small) and "
        "years: every status, deadlines met and missed, escalations, expired ones."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=100_000)
        parser.add_argument("--unit", help="unit code: every case in this one unit")
        parser.add_argument(
            "--units",
            type=int,
            default=0,
            help="Spread the cases over this many units (made as needed, V001...), the "
            "first unit the biggest: unit i gets a share in 1/i.",
        )
        parser.add_argument("--years", type=float, default=1, help="received over this long")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--expired",
            action="store_true",
            help="Every case closed past its policy's retention (for the purge benchmark).",
        )
        parser.add_argument(
            "--expired-share",
            type=float,
            default=0.0,
            help="This share of the cases closed past its policy's retention.",
        )

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_volume is for benchmarks, not production.")
        if options["unit"]:
            units = [Unit.objects.get(code=options["unit"].upper())]
        else:
            units = list(
                Unit.objects.exclude(sector=Unit.Sector.OVERSIGHT)
                .exclude(code__startswith=EXTRA_UNIT_PREFIX)
                .order_by("pk")
            )
            if not units:
                raise CommandError("No unit: run seed_demo first.")
            if options["units"]:
                units = extra_units_ensure(units, options["units"])[: options["units"]]
            else:
                units = units[:1]
        mixes = [unit_mix(unit, options) for unit in units]
        # Unit i (from 1) gets a share in 1/i: a few big units, a long tail of small ones.
        cum_weights = list(accumulate(1 / (i + 1) for i in range(len(mixes))))
        rng = random.Random(options["seed"])
        offset = Case.objects.count()
        created = 0
        while created < options["cases"]:
            size = min(BATCH, options["cases"] - created)
            drawn = rng.choices(mixes, cum_weights=cum_weights, k=size)
            cases = [
                (mix.case(rng, n), f"Synthetic case {n}.")
                for mix, n in zip(
                    drawn, range(offset + created, offset + created + size), strict=True
                )
            ]
            keys, epochs = [], []
            for mix in set(drawn):
                own = [pair for pair, m in zip(cases, drawn, strict=True) if m is mix]
                k, e = synthetic_cases_seal(own, reader_public_keys=mix.reader_keys)
                keys += k
                epochs += e
            expired = [
                c
                for (c, _), mix in zip(cases, drawn, strict=True)
                if c.closed_at and c.closed_at < mix.expired_before
            ]
            with transaction.atomic():
                Case.objects.bulk_create([c for c, _ in cases], batch_size=batch_size(Case))
                CaseKey.objects.bulk_create(keys, batch_size=batch_size(CaseKey))
                CaseEpoch.objects.bulk_create(epochs, batch_size=batch_size(CaseEpoch))
                # Two messages each for the expired (random bytes: the purge never opens them).
                Message.objects.bulk_create(
                    [
                        Message(case=c, author_kind=kind, body=os.urandom(96))
                        for c in expired
                        for kind in ("reporter", "staff")
                    ],
                    batch_size=batch_size(Message),
                )
            created += size
            self.stdout.write(f"\r{created} cases", ending="")
            self.stdout.flush()
        escalations_settle(timezone.now())
        where = units[0].code if len(units) == 1 else f"{len(units)} units"
        self.stdout.write(self.style.SUCCESS(f"\nSeeded {created} cases into {where}."))


# Past this, the escalation chain (backup, manager, oversight: each after at least the
# acknowledge window) has run its course for a case left open past its deadline.
CHAIN_RUN = timedelta(days=7)


def escalations_settle(now) -> int:
    """What a deployment's minute sweep left behind: each open case past its deadline
    has taken the steps due by now (one when overdue, the next after each step's gap),
    the oldest all of them. Without this, a seeded backlog of years would be escalated
    500 steps a minute, a catch-up no running deployment has."""
    overdue = Case.objects.filter(
        status__in=Case.OPEN_STATUSES, next_due_at__lt=now, escalation_level__lt=OVERSIGHT
    )
    settled = overdue.filter(next_due_at__lt=now - CHAIN_RUN).update(
        escalation_level=OVERSIGHT, escalated_at=F("next_due_at") + CHAIN_RUN
    )
    recent = list(overdue.select_related("policy"))
    for case in recent:
        gap = step_gap(case)
        steps = min(OVERSIGHT, 1 + int((now - case.next_due_at) / gap))
        case.escalation_level = steps
        case.escalated_at = case.next_due_at + (steps - 1) * gap
    Case.objects.bulk_update(recent, ["escalation_level", "escalated_at"], batch_size=1000)
    return settled + len(recent)


def extra_units_ensure(units: list[Unit], count: int) -> list[Unit]:
    """`units`, then extra units up to `count` in all, each with a published policy, a
    focal point, a backup and a manager. Their focal points share the first unit's
    focal point's key pair (a benchmark shortcut: one Argon2 run, not one per unit)."""
    existing = list(Unit.objects.filter(code__startswith=EXTRA_UNIT_PREFIX).order_by("code"))
    missing = count - len(units) - len(existing)
    if missing > 0:
        oversight = Unit.objects.filter(sector=Unit.Sector.OVERSIGHT).first()
        template = Membership.objects.filter(unit=units[0], role="focal_point").first()
        key = StaffKey.objects.get(user=template.user)
        password = template.user.password
        # The first unit's numbers (demo data): no helpline number written in code.
        contacts = unit_current_policy(units[0]).emergency_contacts
        User = get_user_model()
        with transaction.atomic():
            for n in range(len(existing) + 1, len(existing) + missing + 1):
                unit = unit_create_with_policy(
                    code=f"{EXTRA_UNIT_PREFIX}{n:03d}",
                    name=f"Volume unit {n}",
                    sector=units[n % len(units)].sector,
                    default_language="en",
                    emergency_contacts=contacts,
                    oversight_unit=oversight,
                )
                people = User.objects.bulk_create(
                    [
                        User(username=f"{role}.{unit.code.lower()}", password=password)
                        for role in ("focal", "backup", "manager")
                    ]
                )
                Membership.objects.bulk_create(
                    [
                        Membership(user=people[0], unit=unit, role="focal_point"),
                        Membership(user=people[1], unit=unit, role="focal_point", is_backup=True),
                        Membership(user=people[2], unit=unit, role="manager"),
                    ]
                )
                StaffKey.objects.create(
                    user=people[0],
                    public_key=bytes(key.public_key),
                    wrapped_private_key=bytes(key.wrapped_private_key),
                )
                existing.append(unit)
    return units + existing


def unit_mix(unit: Unit, options) -> "_Mix":
    policy = unit_current_policy(unit)
    focal_ids = list(
        Membership.objects.filter(unit=unit, role="focal_point").values_list("user_id", flat=True)
    )
    # As production does: each case's key is wrapped to the unit's focal points (the
    # demo staff have key pairs), so only their passwords open the synthetic cases.
    reader_keys = {
        k.user_id: bytes(k.public_key) for k in StaffKey.objects.filter(user_id__in=focal_ids)
    }
    if not reader_keys:
        raise CommandError(
            f"No focal point of {unit.code} has a key pair: nobody could read the cases."
        )
    now = timezone.now()
    return _Mix(
        unit=unit,
        policy=policy,
        focal_ids=focal_ids,
        reader_keys=reader_keys,
        # the same order on every database
        categories=policy_category_codes(policy.categories),
        now=now,
        span_minutes=int(options["years"] * 365 * 24 * 60),
        expired_share=1.0 if options["expired"] else options["expired_share"],
        expired_before=now - timedelta(days=policy.retention_days),
    )


def _weighted(mix) -> list[str]:
    return [s for s, weight in mix for _ in range(weight)]


RECENT_STATUSES = _weighted(STATUS_MIX)
SETTLED_STATUSES = _weighted(SETTLED_STATUS_MIX)


@dataclass(frozen=True, eq=False)
class _Mix:
    """What synthetic cases are drawn from: one unit's policy, people and years."""

    unit: Unit
    policy: object
    focal_ids: list
    reader_keys: dict
    categories: list
    now: object
    span_minutes: int = 365 * 24 * 60
    expired_share: float = 0.0
    expired_before: object = None

    def case(self, rng: random.Random, n: int) -> Case:
        """Case number `n` (not saved, not sealed): its reference follows from `n`, the
        rest is drawn from `rng`, so a seed gives the same cases on every database.
        Recent cases take every status; older ones are mostly settled."""
        unit, policy, focal_ids, now = self.unit, self.policy, self.focal_ids, self.now
        reference = "Z" + "".join(REFERENCE_ALPHABET[(n // 25**k) % 25] for k in range(7))
        received = now - timedelta(minutes=rng.randrange(self.span_minutes))
        category = rng.choice(self.categories)
        urgency = "emergency" if rng.random() < 0.03 else policy.categories[category]
        hours = {
            s: policy.deadline_hours(urgency, s) or 72 for s in ("acknowledge", "assess", "resolve")
        }
        settled = now - received > SETTLED_AFTER
        status = rng.choice(SETTLED_STATUSES if settled else RECENT_STATUSES)
        acknowledged = status != "received" or received > now - timedelta(
            hours=hours["acknowledge"]
        )
        ack_at = (
            received + timedelta(hours=rng.uniform(0.2, hours["acknowledge"] * 1.4))
            if status != "received"
            else None
        )
        decided = status in {
            "substantiated",
            "unsubstantiated",
            "referred",
            "withdrawn",
            "closed",
        }
        outcome = (
            rng.choice(["substantiated", "unsubstantiated", "referred", "withdrawn"])
            if status == "closed"
            else (status if decided else "")
        )
        decided_at = (
            received + timedelta(hours=rng.uniform(1, hours["resolve"] * 1.3)) if decided else None
        )
        escalation = rng.choice([0, 0, 0, 0, 1, 2]) if not decided else 0
        if decided and decided_at > received + timedelta(hours=hours["acknowledge"]):
            escalation = rng.choice([0, 0, 1])  # a late case was escalated on its way
        case = Case(
            id=uuid.uuid4(),
            reference=reference,
            unit=unit,
            handling_unit=unit,
            policy=policy,
            channel=rng.choice(["web", "web", "sms"]),
            language=rng.choice(["en", "fr", "es"]),
            category=category,
            urgency=urgency,
            in_danger=urgency == "emergency",
            contact_preference="follow_up_page",
            status=status,
            outcome=outcome,
            assignee_id=rng.choice(focal_ids) if focal_ids else None,
            received_at=received,
            acknowledged_at=ack_at if acknowledged else None,
            acknowledge_due_at=received + timedelta(hours=hours["acknowledge"]),
            assess_due_at=received + timedelta(hours=hours["assess"]),
            resolve_due_at=received + timedelta(hours=hours["resolve"]),
            decided_at=decided_at,
            closed_at=(decided_at + timedelta(days=rng.uniform(1, 30)))
            if status == "closed"
            else None,
            outcome_told_at=(decided_at if decided and rng.random() < 0.8 else None),
            escalation_level=escalation,
            escalated_at=(received + timedelta(hours=hours["acknowledge"])) if escalation else None,
            routing={"reasons": ["Seeded for a benchmark."]},
            queue_priority=URGENCY_RANK[urgency],
        )
        if case.closed_at and case.closed_at > now:
            case.closed_at = now
        if self.expired_share and rng.random() < self.expired_share:
            # Closed a little past the policy's retention: the purge takes them all.
            closed = self.expired_before - timedelta(days=rng.randrange(1, 60))
            case.status, case.outcome = "closed", outcome or "unsubstantiated"
            case.received_at = closed - timedelta(days=30)
            case.acknowledge_due_at = case.received_at + timedelta(hours=hours["acknowledge"])
            case.assess_due_at = case.received_at + timedelta(hours=hours["assess"])
            case.resolve_due_at = case.received_at + timedelta(hours=hours["resolve"])
            case.acknowledged_at = case.received_at + timedelta(hours=1)
            case.decided_at, case.closed_at = closed - timedelta(days=1), closed
            case.escalation_level, case.escalated_at = 0, None
        case.next_due_at = case.current_next_due()
        return case
