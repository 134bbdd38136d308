from io import StringIO

import pytest
from django.core.management import call_command

from complaints import crypto
from complaints.models import Case
from complaints.selectors import case_data_key


@pytest.mark.django_db
def test_seed_volume_then_benchmark(settings):
    settings.RECOURSE_ENV = "development"
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_volume", "--cases", "300", "--unit", "DKR1", stdout=StringIO())
    assert Case.objects.filter(unit__code="DKR1").count() == 300
    case = Case.objects.order_by("?").first()
    # Synthetic bench data is sealed with a server copy of its key (seed_volume makes no
    # key pairs for the demo staff): it opens with the key ring, and only with it.
    narrative = crypto.decrypt_text(case_data_key(case), case.narrative,
                                    context=crypto.field_context("case", case.id, "narrative"))
    assert narrative.startswith("Synthetic case")
    out = StringIO()
    call_command("benchmark", "--unit", "DKR1", "--runs", "3", stdout=out)
    text = out.getvalue()
    assert "focal point queue, first page" in text and "compliance review, 90 days" in text
    assert "300 cases in DKR1" in text and "SMS webhook, 2 logins running" in text
