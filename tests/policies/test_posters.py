"""A manager prints the unit's poster and leaflet, and is told to reprint them when the
policy in force no longer says what the paper on the wall says."""

import pytest
from django.urls import reverse

from policies.models import ChildProtectionPolicy, Membership, PosterPrint
from policies.selectors import poster_changes, poster_facts, unit_current_policy
from policies.services import (
    PolicyError,
    policy_draft_get_or_create,
    policy_publish,
    poster_print_record,
)
from tests.conftest import PASSWORD, make_staff

NOTICE = "Reprint the poster: deadlines changed since it was printed on"


@pytest.fixture
def backup(django_user_model, unit):
    user = make_staff(django_user_model, "backup", unit, Membership.Role.FOCAL_POINT)
    Membership.objects.filter(user=user).update(is_backup=True)
    return user


@pytest.fixture
def publish(unit, focal_point, backup, manager):
    """Publish a new policy version of `unit` after `change(draft)`."""

    def publish_with(change):
        draft = policy_draft_get_or_create(unit=unit)
        change(draft)
        draft.save()
        return policy_publish(policy=draft, actor=manager)

    return publish_with


def policy_page(client, unit) -> str:
    response = client.get(reverse("policies:edit", args=[unit.code]))
    assert response.status_code == 200
    return response.content.decode()


def test_poster_changes_names_what_is_out_of_date():
    printed = {
        "acknowledge_hours": 72,
        "resolve_hours": 672,
        "emergency_contacts": [{"label": "Child helpline", "number": "116"}],
    }
    assert poster_changes(printed, dict(printed)) == []
    assert poster_changes(printed, {**printed, "resolve_hours": 240}) == ["deadlines"]
    assert poster_changes(printed, {**printed, "acknowledge_hours": 24, "resolve_hours": 240}) == [
        "deadlines"
    ]
    assert poster_changes(printed, {**printed, "emergency_contacts": []}) == ["emergency numbers"]
    assert poster_changes(
        printed, {"acknowledge_hours": 1, "resolve_hours": 672, "emergency_contacts": []}
    ) == ["deadlines", "emergency numbers"]


@pytest.mark.django_db
def test_poster_promises_the_slowest_deadline_among_the_policys_categories(unit):
    policy = unit_current_policy(unit)
    facts = poster_facts(unit=unit, policy=policy)
    assert (facts["acknowledge_hours"], facts["resolve_hours"]) == (72, 672)  # standard
    assert facts["emergency_contacts"] == policy.emergency_contacts
    # A policy whose categories are all urgent promises the urgent deadlines.
    policy.categories = {code: "urgent" for code in policy.categories}
    facts = poster_facts(unit=unit, policy=policy)
    assert (facts["acknowledge_hours"], facts["resolve_hours"]) == (24, 240)


@pytest.mark.django_db
@pytest.mark.parametrize("kind, lang", [("poster", "es"), ("leaflet", "fr"), ("poster", "")])
def test_manager_records_a_print_and_opens_the_public_sheet(
    staff_client, unit, manager, kind, lang
):
    client = staff_client(manager)
    response = client.post(reverse(f"policies:print_{kind}", args=[unit.code]), {"lang": lang})
    assert response.status_code == 302
    assert response["Location"] == f"/u/{unit.code}/{kind}/" + (f"?lang={lang}" if lang else "")
    printed = PosterPrint.objects.get()
    assert (printed.unit, printed.kind, printed.printed_by) == (unit, kind, manager)
    assert printed.policy == unit_current_policy(unit)
    assert printed.facts == poster_facts(unit=unit, policy=printed.policy)


@pytest.mark.django_db
def test_policy_page_links_and_offers_to_print_both_sheets(staff_client, unit, manager):
    page = policy_page(staff_client(manager), unit)
    assert f'action="{reverse("policies:print_poster", args=[unit.code])}"' in page
    assert f'formaction="{reverse("policies:print_leaflet", args=[unit.code])}"' in page
    assert f'href="/u/{unit.code}/poster/"' in page and f'href="/u/{unit.code}/leaflet/"' in page
    assert page.count("not printed yet") == 2
    assert "Reprint" not in page


@pytest.mark.django_db
def test_changed_deadlines_ask_for_a_reprint(staff_client, unit, manager, publish):
    client = staff_client(manager)
    client.post(reverse("policies:print_poster", args=[unit.code]))
    printed = PosterPrint.objects.get()
    assert "Reprint" not in policy_page(client, unit)

    def faster(draft):
        draft.deadlines["standard"]["resolve"] = 240

    publish(faster)
    page = policy_page(client, unit)
    assert f"{NOTICE} {printed.printed_at:%Y-%m-%d}." in page
    assert "Reprint the leaflet" not in page  # never printed: nothing on paper to be wrong
    # Printed again from the new version: up to date.
    client.post(reverse("policies:print_poster", args=[unit.code]))
    page = policy_page(client, unit)
    assert "Reprint" not in page
    assert "from policy version 2, still up to date" in page


@pytest.mark.django_db
def test_a_new_version_that_changes_nothing_on_paper_asks_for_nothing(
    staff_client, unit, manager, publish
):
    client = staff_client(manager)
    client.post(reverse("policies:print_poster", args=[unit.code]))
    client.post(reverse("policies:print_leaflet", args=[unit.code]))

    def longer_retention(draft):
        draft.retention_days = 10 * 365
        draft.deadlines["urgent"]["assess"] = 48  # not on the poster

    assert publish(longer_retention).version == 2
    page = policy_page(client, unit)
    assert "Reprint" not in page
    assert page.count("from policy version 1, still up to date") == 2


@pytest.mark.django_db
def test_changed_emergency_numbers_ask_for_a_reprint(staff_client, unit, manager):
    client = staff_client(manager)
    client.post(reverse("policies:print_leaflet", args=[unit.code]))
    ChildProtectionPolicy.objects.filter(unit=unit).update(
        emergency_contacts=[{"label": "Child helpline", "number": "116111"}]
    )
    page = policy_page(client, unit)
    assert "Reprint the leaflet: emergency numbers changed since it was printed on" in page


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["poster", "leaflet"])
def test_another_units_manager_or_a_focal_point_cannot_record_a_print(
    staff_client, django_user_model, unit, other_unit, focal_point, kind
):
    other_manager = make_staff(
        django_user_model, "other_manager", other_unit, Membership.Role.MANAGER
    )
    client = staff_client(other_manager)
    assert client.post(reverse(f"policies:print_{kind}", args=[unit.code])).status_code == 404
    client.post(reverse("staff:logout"))
    client = staff_client(focal_point)  # of this unit, but not its manager
    assert client.post(reverse(f"policies:print_{kind}", args=[unit.code])).status_code == 404
    assert not PosterPrint.objects.exists()


@pytest.mark.django_db
def test_printing_needs_a_verified_session(client, unit, manager):
    url = reverse("policies:print_poster", args=[unit.code])
    assert client.post(url).status_code == 302
    client.post(reverse("staff:login"), {"username": "manager", "password": PASSWORD})
    response = client.post(url)
    assert response.status_code == 302 and reverse("staff:verify") in response["Location"]
    assert client.get(url).status_code in {302, 405}
    assert not PosterPrint.objects.exists()


@pytest.mark.django_db
def test_no_print_without_a_published_policy(manager, unit):
    ChildProtectionPolicy.objects.filter(unit=unit).update(published_at=None)
    with pytest.raises(PolicyError, match="no published policy"):
        poster_print_record(unit=unit, kind="poster", actor=manager)


@pytest.mark.django_db
def test_staff_home_links_each_units_poster_and_leaflet(staff_client, unit, manager, focal_point):
    client = staff_client(focal_point)
    page = client.get(reverse("staff:queue")).content.decode()
    assert f'href="/u/{unit.code}/poster/"' in page and f'href="/u/{unit.code}/leaflet/"' in page
    assert "Tell children about the complaint service" in page
    client.post(reverse("staff:logout"))
    page = staff_client(manager).get(reverse("staff:queue")).content.decode()
    assert f'href="/u/{unit.code}/poster/"' in page and f'href="/u/{unit.code}/leaflet/"' in page
    assert "Tell children about the complaint service" not in page  # in "You manage" instead
