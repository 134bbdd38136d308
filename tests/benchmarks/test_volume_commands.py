from io import StringIO

import pytest
from django.core.management import call_command

from complaints.models import Case
from policies.demo import DEMO_PASSWORD
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
