"""Issue 12 (A): a child sees the emergency numbers of the policy in force before they
file anything, on the start page and on the unit's page, and never a number the code
made up."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from complaints.models import Case
from policies.models import Unit
from policies.selectors import units_common_emergency_contacts
from policies.services import policy_draft_get_or_create, unit_create_with_policy
from tests.conftest import complaint_data, make_unit, receipt_from


def publish_version(unit, **changes):
    """A new published version of the unit's policy, with these fields changed."""
    draft = policy_draft_get_or_create(unit=unit)
    for name, value in changes.items():
        setattr(draft, name, value)
    draft.published_at = timezone.now()
    draft.save()
    return draft


def unit_with_numbers(code, contacts, **kwargs):
    return unit_create_with_policy(
        code=code,
        name=f"Unit {code}",
        sector=Unit.Sector.JUSTICE,
        default_language="en",
        emergency_contacts=contacts,
        **kwargs,
    )


def tel_links(html: str) -> list[str]:
    return re.findall(r'href="tel:([^"]+)"', html)


# --- The unit's page (where the poster's QR code leads) ----------------------------------


@pytest.mark.django_db
def test_unit_page_shows_the_numbers_near_the_top_and_by_the_danger_question(client, unit):
    html = client.get(f"/u/{unit.code}/").content.decode()
    top = html.index('id="emergency-numbers"')
    assert html.index("<h1>") < top < html.index('name="narrative"')
    # Inside the danger question's fieldset, between its legend and its answers: plain
    # HTML, so it is there with JavaScript off.
    legend = html.index("Are you in danger right now?")
    beside = html.index('id="emergency-numbers-danger"')
    assert legend < beside < html.index('id="id_in_danger_0"')
    assert tel_links(html) == ["116", "17", "116", "17"]
    assert "Child helpline" in html and "Police" in html


@pytest.mark.django_db
def test_numbers_come_from_the_policy_in_force(client, unit):
    publish_version(unit, emergency_contacts=[{"label": "Línea de ayuda", "number": "110"}])
    draft = policy_draft_get_or_create(unit=unit)
    draft.emergency_contacts = [{"label": "Draft", "number": "999"}]
    draft.save()
    html = client.get(f"/u/{unit.code}/").content.decode()
    assert tel_links(html) == ["110", "110"]
    assert "tel:116" not in html and "999" not in html


@pytest.mark.django_db
def test_a_policy_without_numbers_shows_no_made_up_number(client):
    unit = unit_with_numbers("NONUM", [])
    html = client.get(f"/u/{unit.code}/").content.decode()
    assert tel_links(html) == []
    assert "116" not in html
    assert "emergency number" in html  # still told what to do


@pytest.mark.django_db
def test_confirmation_not_in_danger_still_gives_the_policy_numbers(client):
    unit = unit_with_numbers("OTHR", [{"label": "Childline", "number": "0800 1111"}])
    response = client.post(reverse("intake:complaint_form", args=[unit.code]), complaint_data())
    html = response.content.decode()
    assert response.status_code == 200
    assert tel_links(html) == [
        "08001111"
    ]  # a tel: link without the spaces of "0800 1111" (RFC 3966)
    # The random reference and code may hold the digits 116 by chance: left out.
    reference, code = receipt_from(response)
    assert "116" not in html.replace(code, "").replace(reference, "")


@pytest.mark.django_db
def test_the_human_check_page_shows_the_numbers(client, unit, settings):
    settings.SUBMISSIONS_PER_CLIENT = 0
    response = client.post(reverse("intake:complaint_form", args=[unit.code]), complaint_data())
    assert response.status_code == 429
    assert tel_links(response.content.decode())[:2] == ["116", "17"]


# --- The start page ----------------------------------------------------------------------


@pytest.mark.django_db
def test_start_page_gives_the_numbers_every_place_shares():
    from django.test import Client

    unit_with_numbers(
        "AAA1", [{"label": "Child helpline", "number": "116"}, {"label": "Police", "number": "17"}]
    )
    unit_with_numbers(
        "BBB2", [{"label": "Police", "number": "17"}, {"label": "Helpline", "number": "116"}]
    )
    html = Client().get("/").content.decode()
    block = html[html.index('id="emergency-numbers"') : html.index('id="choose-unit"')]
    assert tel_links(block) == ["116", "17"]
    assert "Each place's page shows its emergency numbers" not in html.replace("&#x27;", "'")


@pytest.mark.django_db
def test_start_page_says_when_places_differ(client):
    unit_with_numbers(
        "AAA1", [{"label": "Child helpline", "number": "116"}, {"label": "Police", "number": "17"}]
    )
    unit_with_numbers("BBB2", [{"label": "Helpline", "number": "116"}])
    html = client.get("/").content.decode().replace("&#x27;", "'")
    block = html[html.index('id="emergency-numbers"') : html.index('id="choose-unit"')]
    assert tel_links(block) == ["116"]
    assert "Each place's page shows its emergency numbers." in block


@pytest.mark.django_db
def test_start_page_without_a_shared_number_sends_the_child_to_each_page(client):
    unit_with_numbers("AAA1", [{"label": "Police", "number": "17"}])
    unit_with_numbers("BBB2", [{"label": "Helpline", "number": "116"}])
    html = client.get("/").content.decode().replace("&#x27;", "'")
    assert tel_links(html) == []
    assert "Each place's page shows its emergency numbers." in html


@pytest.mark.django_db
def test_common_numbers_read_the_newest_published_version_of_open_units(django_assert_num_queries):
    first = unit_with_numbers(
        "AAA1", [{"label": "Helpline", "number": "116 111"}, {"label": "Police", "number": "17"}]
    )
    unit_with_numbers("BBB2", [{"label": "Childline", "number": "116111"}])
    closed = unit_with_numbers("CCC3", [{"label": "Other", "number": "555"}])
    Unit.objects.filter(pk=closed.pk).update(is_active=False)
    publish_version(first, emergency_contacts=[{"label": "Helpline", "number": "116 111"}])
    draft = policy_draft_get_or_create(unit=first)
    draft.emergency_contacts = [{"label": "Draft only", "number": "999"}]
    draft.save()
    with django_assert_num_queries(1):
        common = units_common_emergency_contacts()
    assert common.contacts == [{"label": "Helpline", "number": "116 111"}]
    assert common.units_differ is False


@pytest.mark.django_db
def test_no_open_unit_means_no_numbers_and_no_difference():
    common = units_common_emergency_contacts()
    assert common.contacts == [] and common.units_differ is False


# --- No number written into the code ------------------------------------------------------

REPORTER_SOURCES = [
    *sorted((Path(settings.BASE_DIR) / "templates" / "intake").glob("*.html")),
    Path(settings.BASE_DIR) / "templates" / "base_reporter.html",
    *sorted((Path(settings.BASE_DIR) / "intake").glob("*.py")),
]


@pytest.mark.parametrize("path", REPORTER_SOURCES, ids=lambda p: p.name)
def test_reporter_pages_hold_no_helpline_number(path):
    # 116 (European and African child helplines), 116111, 1098, 100, 911...: any
    # number a child is told to call comes from the unit's policy.
    text = path.read_text()
    assert not re.search(r"\b(116\d*|1098|911|112|999)\b", text), path


@pytest.mark.django_db
def test_in_danger_confirmation_leads_with_the_policy_numbers(client):
    unit = make_unit("DNGR")
    publish_version(unit, emergency_contacts=[{"label": "Police", "number": "17"}])
    html = client.post(
        reverse("intake:complaint_form", args=[unit.code]), complaint_data(in_danger="yes")
    ).content.decode()
    assert Case.objects.get().urgency == "emergency"
    assert html.index('id="emergency-title"') < html.index("<h1>")
    assert tel_links(html) == ["17"]
