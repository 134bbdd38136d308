from io import StringIO

import pytest
from django.core.management import call_command

from complaints.models import Case
from complaints.selectors import case_content_for_staff


@pytest.mark.django_db
def test_seed_volume_then_benchmark(settings):
    settings.RECOURSE_ENV = "development"
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_volume", "--cases", "300", "--unit", "DKR1", stdout=StringIO())
    assert Case.objects.filter(unit__code="DKR1").count() == 300
    case = Case.objects.order_by("?").first()
    assert case_content_for_staff(case=case, actor=None).narrative.startswith("Synthetic case")
    out = StringIO()
    call_command("benchmark", "--unit", "DKR1", "--runs", "3", stdout=out)
    text = out.getvalue()
    assert "focal point queue, first page" in text and "compliance review, 90 days" in text
    assert "300 cases in DKR1" in text and "SMS webhook, 2 logins running" in text
