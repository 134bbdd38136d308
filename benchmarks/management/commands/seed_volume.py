"""Seed a realistic volume of cases for the benchmark (never in production)."""

import os
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from complaints.models import Case, Message
from complaints.services import REFERENCE_ALPHABET
from policies.categories import policy_category_codes
from policies.models import URGENCY_RANK, Membership, Unit
from policies.selectors import unit_current_policy
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


class Command(BaseCommand):
    help = "Add N synthetic, encrypted cases to one unit (default: the first), spread over a year."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=100_000)
        parser.add_argument("--unit", help="unit code")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--expired",
            action="store_true",
            help="Every case closed past its policy's retention (for the purge benchmark).",
        )

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_volume is for benchmarks, not production.")
        unit = (
            Unit.objects.get(code=options["unit"].upper())
            if options["unit"]
            else Unit.objects.exclude(sector=Unit.Sector.OVERSIGHT).order_by("pk").first()
        )
        if unit is None:
            raise CommandError("No unit: run seed_demo first.")
        policy = unit_current_policy(unit)
        focal_ids = list(
            Membership.objects.filter(unit=unit, role="focal_point").values_list(
                "user_id", flat=True
            )
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
        rng = random.Random(options["seed"])
        mix = _Mix(
            unit=unit,
            policy=policy,
            focal_ids=focal_ids,
            statuses=[s for s, weight in STATUS_MIX for _ in range(weight)],
            # the same order on every database
            categories=policy_category_codes(policy.categories),
            now=timezone.now(),
            expired=options["expired"],
        )
        offset = Case.objects.count()
        created = 0
        while created < options["cases"]:
            size = min(BATCH, options["cases"] - created)
            cases = [
                (mix.case(rng, n), f"Synthetic case {n}.")
                for n in range(offset + created, offset + created + size)
            ]
            keys, epochs = synthetic_cases_seal(cases, reader_public_keys=reader_keys)
            with transaction.atomic():
                Case.objects.bulk_create([c for c, _ in cases], batch_size=batch_size(Case))
                CaseKey.objects.bulk_create(keys, batch_size=batch_size(CaseKey))
                CaseEpoch.objects.bulk_create(epochs, batch_size=batch_size(CaseEpoch))
                if options["expired"]:
                    # Two messages each (random bytes: the purge never opens them).
                    Message.objects.bulk_create(
                        [
                            Message(case=c, author_kind=kind, body=os.urandom(96))
                            for c, _ in cases
                            for kind in ("reporter", "staff")
                        ],
                        batch_size=batch_size(Message),
                    )
            created += size
            self.stdout.write(f"\r{created} cases", ending="")
            self.stdout.flush()
        self.stdout.write(self.style.SUCCESS(f"\nSeeded {created} cases into {unit.code}."))


@dataclass(frozen=True)
class _Mix:
    """What synthetic cases are drawn from: one unit's policy, people and a year."""

    unit: Unit
    policy: object
    focal_ids: list
    statuses: list
    categories: list
    now: object
    expired: bool = False

    def case(self, rng: random.Random, n: int) -> Case:
        """Case number `n` (not saved, not sealed): its reference follows from `n`, the
        rest is drawn from `rng`, so a seed gives the same cases on every database."""
        unit, policy, focal_ids, now = self.unit, self.policy, self.focal_ids, self.now
        categories, statuses = self.categories, self.statuses
        reference = "Z" + "".join(REFERENCE_ALPHABET[(n // 25**k) % 25] for k in range(7))
        received = now - timedelta(minutes=rng.randrange(365 * 24 * 60))
        category = rng.choice(categories)
        urgency = "emergency" if rng.random() < 0.03 else policy.categories[category]
        hours = {
            s: policy.deadline_hours(urgency, s) or 72 for s in ("acknowledge", "assess", "resolve")
        }
        status = rng.choice(statuses)
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
            decided_at=(received + timedelta(hours=rng.uniform(1, hours["resolve"] * 1.3)))
            if decided
            else None,
            outcome_told_at=(now if decided and rng.random() < 0.8 else None),
            escalation_level=rng.choice([0, 0, 0, 0, 1, 2]) if not decided else 0,
            routing={"reasons": ["Seeded for a benchmark."]},
            queue_priority=URGENCY_RANK[urgency],
        )
        if self.expired:
            # Closed a little past the policy's retention: the purge takes them all.
            closed = now - timedelta(days=policy.retention_days + rng.randrange(1, 60))
            case.status, case.outcome = "closed", outcome or "unsubstantiated"
            case.received_at = closed - timedelta(days=30)
            case.decided_at, case.closed_at = closed - timedelta(days=1), closed
        case.next_due_at = case.current_next_due()
        return case
