"""How an inbound text's first word is found to be a unit's code: the codes each
process keeps for 30 s, and the open unit looked up by SQL written by hand, which must
find what units_open_to_reporters() finds."""

import time

import pytest
from django.utils import timezone

from policies import selectors
from policies.models import ChildProtectionPolicy, Unit
from policies.selectors import unit_codes_known, unit_open_coded, units_open_to_reporters
from tests.conftest import make_unit


@pytest.mark.django_db
def test_the_open_unit_of_a_code_is_the_one_units_open_to_reporters_finds():
    open_unit = make_unit("OPN1")
    closed = make_unit("CLS1")
    Unit.objects.filter(pk=closed.pk).update(is_active=False)
    draft_only = Unit.objects.create(code="DRF1", name="Draft", sector=Unit.Sector.JUSTICE)
    ChildProtectionPolicy.objects.create(unit=draft_only, version=1)
    no_policy = Unit.objects.create(code="NOP1", name="None", sector=Unit.Sector.JUSTICE)
    # A second, published version: still one unit, not two rows.
    ChildProtectionPolicy.objects.create(unit=open_unit, version=2, published_at=timezone.now())

    for code in ("OPN1", "CLS1", "DRF1", "NOP1", "ZZZ9", "opn1"):
        assert unit_open_coded(code) == units_open_to_reporters().filter(code=code).first()
    found = unit_open_coded("OPN1")
    assert found == open_unit and found.name == open_unit.name
    assert found.created_at == open_unit.created_at and found.languages == []
    assert no_policy and unit_open_coded("NOP1") is None


@pytest.mark.django_db
def test_a_unit_added_elsewhere_is_known_here_within_half_a_minute(sms, unit, monkeypatch):
    """Codes are read by each process at most every 30 s. A unit saved in this process
    is known at once; one written by another process (here: an UPDATE, which sends no
    signal) within 30 s."""
    assert "TST1" in unit_codes_known()
    Unit.objects.filter(pk=unit.pk).update(code="NEW9")
    assert "DONE" not in sms("NEW9 they hit me")  # not yet known: heard as the story
    clock = time.monotonic() + selectors.UNIT_CODES_KEPT_SECONDS + 1
    monkeypatch.setattr(selectors.time, "monotonic", lambda: clock)
    assert "NEW9" in unit_codes_known()
    assert "DONE" in sms("NEW9 they hit me", phone="+221770000009")
    make_unit("ADD2")
    assert "ADD2" in unit_codes_known()
