from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from complaints.escalation import escalation_sweep
from complaints.models import Case
from policies.demo import DEMO_PASSWORD
from policies.models import Membership, Unit
from vault import crypto
from vault.models import CaseKey, StaffKey


@pytest.mark.django_db
def test_seed_volume_then_benchmark(settings):
    settings.RECOURSE_ENV = "development"
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_volume", "--cases", "300", "--unit", "DKR1", stdout=StringIO())
    assert Case.objects.filter(unit__code="DKR1").count() == 300
    case = Case.objects.order_by("?").first()
    # As in production, each case's key is wrapped to the unit's focal points: a demo
    # focal point's password opens it.
    envelope = CaseKey.objects.filter(case=case, holder_kind="user").first()
    staff_key = StaffKey.objects.get(user_id=int(envelope.holder_id))
    private = crypto.unwrap_private_key(staff_key.wrapped_private_key, DEMO_PASSWORD)
    data_key = crypto.unwrap_data_key_with_private(
        envelope.wrapped_key, private, case_id=case.id, holder=f"user:{envelope.holder_id}"
    )
    narrative = crypto.decrypt_text(
        data_key, case.narrative, context=crypto.field_context("case", case.id, "narrative")
    )
    assert narrative.startswith("Synthetic case")
    assert set(CaseKey.objects.filter(case=case).values_list("holder_kind", flat=True)) == {"user"}
    out = StringIO()
    call_command("benchmark", "--unit", "DKR1", "--runs", "3", stdout=out)
    text = out.getvalue()
    assert "focal point queue, first page" in text and "compliance review, 90 days" in text
    assert "300 cases in DKR1" in text and "SMS webhook, 2 logins running" in text


@pytest.mark.django_db
def test_seed_volume_over_units_and_years(settings):
    """A few big units and a long tail, over the years asked for; old cases mostly
    settled, and no overdue case left for the escalation sweep to catch up on."""
    settings.RECOURSE_ENV = "development"
    call_command("seed_demo", stdout=StringIO())
    call_command(
        "seed_volume", *("--cases", "900", "--units", "8", "--years", "3"), stdout=StringIO()
    )
    counts = sorted(
        Case.objects.values("unit_id").annotate(n=Count("id")).values_list("n", flat=True)
    )
    assert len(counts) == 8 and counts[-1] > 3 * counts[0]
    extra = Unit.objects.filter(code__startswith="V")
    assert (
        extra.count()
        == 8 - Unit.objects.exclude(sector="oversight").exclude(code__startswith="V").count()
    )
    for unit in extra:
        roles = set(Membership.objects.filter(unit=unit).values_list("role", "is_backup"))
        assert roles == {("focal_point", False), ("focal_point", True), ("manager", False)}
        assert StaffKey.objects.filter(user__memberships__unit=unit).exists()
    now = timezone.now()
    oldest = Case.objects.order_by("received_at").first().received_at
    assert now - oldest > timedelta(days=2 * 365)
    old = Case.objects.filter(received_at__lt=now - timedelta(days=180))
    assert old.filter(status="closed").count() > 0.7 * old.count()
    assert set(Case.objects.values_list("status", flat=True)) >= set(Case.OPEN_STATUSES)
    assert escalation_sweep(now=now) <= 1  # at most one due while seeding: no backlog
