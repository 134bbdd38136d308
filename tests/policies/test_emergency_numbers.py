"""Every emergency number a child reads comes from the unit's policy in force: no
template, translation or Python source holds a helpline number."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from policies.models import ChildProtectionPolicy
from policies.selectors import emergency_contacts_everywhere, unit_emergency_contacts
from policies.services import policy_draft_get_or_create, policy_problems
from tests.conftest import make_unit

# Child helplines (116 and 116111), the European, North American and British emergency
# numbers: the ones a hurried template would write in.
HELPLINE = re.compile(r"(?<!\d)(?<!\d\.)(116(?:\d{3})?|112|911|999)(?!\d|\.\d)")
SKIP_DIRS = {".venv", "node_modules", "tests", "var", "staticfiles", ".git", "bench"}


def _sources() -> list[Path]:
    base = Path(settings.BASE_DIR)
    found = []
    for pattern in ("**/*.py", "**/*.html", "**/*.txt", "**/*.po", "**/*.js"):
        for path in base.glob(pattern):
            if not SKIP_DIRS.intersection(path.relative_to(base).parts):
                found.append(path)
    return found


def test_no_template_translation_or_source_holds_a_helpline_number():
    sources = _sources()
    assert any(p.suffix == ".po" for p in sources) and any(p.suffix == ".html" for p in sources)
    offenders = []
    for path in sources:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if path.suffix == ".po" and line.startswith("#:"):
                continue  # a source reference ("#: complaints/services.py:112"), not a text
            if HELPLINE.search(line):
                offenders.append(f"{path.relative_to(settings.BASE_DIR)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_scan_finds_a_number_where_one_is_written():
    assert HELPLINE.search("call the child helpline on 116.")
    assert HELPLINE.search('{"number": "116111"}') and HELPLINE.search("ring 112 now")
    assert not HELPLINE.search("version 1.116.2 or 2116 or 11600")


@pytest.mark.django_db
def test_the_numbers_are_the_policy_in_forces():
    unit = make_unit("NUM1")
    assert [c["number"] for c in unit_emergency_contacts(unit)] == ["116", "17"]
    draft = policy_draft_get_or_create(unit=unit)
    draft.emergency_contacts = [{"label": "Línea", "number": "+502 5551 0000"}]
    draft.save()
    assert [c["number"] for c in unit_emergency_contacts(unit)] == ["116", "17"]  # a draft
    ChildProtectionPolicy.objects.filter(pk=draft.pk).update(published_at=draft.created_at)
    assert unit_emergency_contacts(unit) == [{"label": "Línea", "number": "+502 5551 0000"}]


@pytest.mark.django_db
def test_a_policy_without_emergency_numbers_cannot_be_published():
    unit = make_unit("NUM2")
    draft = policy_draft_get_or_create(unit=unit)
    draft.emergency_contacts = [{"label": "nothing", "number": " "}]
    assert "The policy gives children no emergency number." in policy_problems(
        draft, check_staff=False
    )


@pytest.mark.django_db
def test_before_a_unit_is_known_the_numbers_every_unit_gives():
    make_unit("ALL1")
    other = make_unit("ALL2")
    assert [c["number"] for c in emergency_contacts_everywhere()] == ["116", "17"]
    ChildProtectionPolicy.objects.filter(unit=other).update(
        emergency_contacts=[{"label": "Child helpline", "number": "116"}]
    )
    assert [c["number"] for c in emergency_contacts_everywhere()] == ["116"]
    ChildProtectionPolicy.objects.filter(unit=other).update(
        emergency_contacts=[{"label": "Linea", "number": "+50255510000"}]
    )
    # Nothing in common: the first few any unit gives.
    assert [c["number"] for c in emergency_contacts_everywhere()] == ["116", "17", "+50255510000"]
