"""Conflict of interest fails safe: the person a complaint is about, once their roster
entry is linked to their account, holds no key, is not assigned and is not told, however
late the link is made; managers link accounts on the roster page; the "whom is it about"
form preselects nobody and offers "nobody / not known" (issue 14 §2)."""

import re
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from competencies.models import StaffMember
from complaints.lifecycle import case_transition
from complaints.models import AuditEvent, Case, CaseExclusion
from complaints.services import complaint_receive
from complaints.triage import case_mark_about_staff
from notifications.models import Notification
from policies.models import Membership
from tests.conftest import PASSWORD, make_staff, staff_reads
from vault import crypto
from vault.cases import CaseLocked
from vault.models import StaffKey

STORY = "The focal point Diallo laughed at me. canary-coi-77"


def receive(unit):
    return complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative=STORY,
        category="neglect",
        in_danger=False,
        about_staff_answer="yes",
        contact_preference="none",
    ).case


def private_key_of(user) -> bytes:
    return crypto.unwrap_private_key(StaffKey.objects.get(user=user).wrapped_private_key, PASSWORD)


@pytest.fixture
def colleague(django_user_model, unit, focal_point):
    """A second focal point: created after `focal_point`, so `focal_point` is assigned first."""
    return make_staff(django_user_model, "colleague", unit, Membership.Role.FOCAL_POINT)


def assert_kept_away(case, user, client):
    case.refresh_from_db()
    assert case.assignee_id != user.pk
    assert CaseExclusion.objects.filter(case=case, user=user).exists()
    with pytest.raises(CaseLocked):
        staff_reads(case, user)
    assert client.get(reverse("staff:case", args=[case.reference])).status_code == 404
    assert case.display_reference not in client.get(reverse("staff:queue")).content.decode()


@pytest.mark.django_db
def test_marking_the_assigned_focal_point_revokes_and_reassigns_and_someone_else_reads(
    staff_client, unit, focal_point, colleague
):
    case = receive(unit)
    assert case.assignee == focal_point and staff_reads(case, focal_point).narrative == STORY
    subject = StaffMember.objects.create(unit=unit, name="Diallo", user=focal_point)
    Notification.objects.all().delete()
    case_mark_about_staff(
        case=case, actor=colleague, staff_member=subject, private_key=private_key_of(colleague)
    )
    assert_kept_away(case, focal_point, staff_client(focal_point))
    assert case.assignee == colleague and staff_reads(case, colleague).narrative == STORY
    assert not Notification.objects.filter(recipient=focal_point).exists()
    assert AuditEvent.objects.filter(action="complaints.case.subject_marked", case=case).exists()


@pytest.mark.django_db
def test_a_link_made_after_the_marking_still_keeps_the_person_away(
    staff_client, client, unit, focal_point, colleague, manager
):
    case = receive(unit)
    diallo = StaffMember.objects.create(unit=unit, name="Diallo", role_title="Focal point")
    case_mark_about_staff(
        case=case, actor=colleague, staff_member=diallo, private_key=private_key_of(colleague)
    )
    case.refresh_from_db()
    # Not linked yet: the page says so, instead of "that person cannot see it".
    page = (
        staff_client(colleague).get(reverse("staff:case", args=[case.reference])).content.decode()
    )
    assert "Diallo has no staff account linked on the roster." in page
    assert "ask the unit's manager (manager) to link it" in page
    assert staff_reads(case, focal_point).narrative == STORY  # the failure the link fixes

    decided = receive(unit)
    Case.objects.filter(pk=decided.pk).update(about_staff_member=diallo, status="closed")
    client.logout()
    response = staff_client(manager).post(
        reverse("competencies:roster_link", args=[unit.code, diallo.pk]), {"user": focal_point.pk}
    )
    assert response.status_code == 302
    diallo.refresh_from_db()
    assert diallo.user == focal_point
    assert AuditEvent.objects.filter(action="competencies.roster.linked").exists()
    client.logout()
    assert_kept_away(case, focal_point, staff_client(focal_point))
    assert case.assignee == colleague and staff_reads(case, colleague).narrative == STORY
    # A decided case about them is closed to them too.
    assert CaseExclusion.objects.filter(case=decided, user=focal_point).exists()
    with pytest.raises(CaseLocked):
        staff_reads(decided, focal_point)


@pytest.mark.django_db
def test_nobody_or_not_known_clears_the_person_but_lifts_no_exclusion(
    staff_client, unit, focal_point, colleague
):
    case = receive(unit)
    subject = StaffMember.objects.create(unit=unit, name="Diallo", user=focal_point)
    case_mark_about_staff(case=case, actor=colleague, staff_member=subject)
    client = staff_client(colleague)
    response = client.post(
        reverse("staff:case_about", args=[case.reference]), {"about-staff_member": "nobody"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.about_staff_member is None
    assert CaseExclusion.objects.filter(case=case, user=focal_point).exists()
    with pytest.raises(CaseLocked):
        staff_reads(case, focal_point)


@pytest.mark.django_db
@pytest.mark.parametrize("choice", ["", "999999"])
def test_no_choice_or_a_stranger_is_refused_politely_and_changes_nothing(
    staff_client, unit, other_unit, focal_point, choice
):
    case = receive(unit)
    StaffMember.objects.create(unit=unit, name="Diallo")
    if choice:
        choice = str(StaffMember.objects.create(unit=other_unit, name="Elsewhere").pk)
    client = staff_client(focal_point)
    response = client.post(
        reverse("staff:case_about", args=[case.reference]),
        {"about-staff_member": choice},
        follow=True,
    )
    assert (
        "Choose a person from the roster, or “Nobody, or not known”." in response.content.decode()
    )
    case.refresh_from_db()
    assert case.about_staff_member is None and not CaseExclusion.objects.exists()


@pytest.fixture
def investigating(unit, focal_point):
    case = receive(unit)
    for status in ("acknowledged", "assessing", "investigating"):
        case_transition(case=case, actor=focal_point, to_status=status)
    return case


@pytest.mark.django_db
def test_the_case_page_preselects_nobody_and_has_unique_ids(
    staff_client, unit, focal_point, investigating
):
    StaffMember.objects.create(unit=unit, name="Diallo", role_title="Desk officer")
    StaffMember.objects.create(unit=unit, name="Sow")
    page = (
        staff_client(focal_point)
        .get(reverse("staff:case", args=[investigating.reference]))
        .content.decode()
    )
    about = re.search(r'<select name="about-staff_member".*?</select>', page, re.S).group(0)
    assert "selected" not in about
    assert re.findall(r'<option value="([^"]*)">', about)[:2] == ["", "nobody"]
    assert "Nobody on the roster, or not known" in about and "Diallo · Desk officer" in about
    assert 'name="substantiate-staff_member"' in page  # the substantiation form is there too
    ids = Counter(re.findall(r'\sid="([^"]+)"', page))
    assert [i for i, n in ids.items() if n > 1] == []
    for label_for in re.findall(r'<label for="([^"]+)"', page):
        assert ids[label_for] == 1, label_for


@pytest.mark.django_db
def test_the_case_page_reads_the_roster_in_a_constant_number_of_queries(
    staff_client, unit, focal_point, investigating
):
    client = staff_client(focal_point)
    url = reverse("staff:case", args=[investigating.reference])

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx)

    StaffMember.objects.create(unit=unit, name="One")
    few = queries()
    StaffMember.objects.bulk_create([StaffMember(unit=unit, name=f"Person {i}") for i in range(25)])
    assert queries() == few


@pytest.mark.django_db
def test_an_empty_roster_says_what_is_missing_and_who_fills_it(
    staff_client, client, unit, focal_point, manager, investigating
):
    url = reverse("staff:case", args=[investigating.reference])
    page = staff_client(focal_point).get(url).content.decode()
    assert 'id="roster-missing"' in page and "cannot be substantiated against anyone" in page
    assert "The unit's manager fills it on the roster page of the staff site: ask manager." in page
    assert 'name="substantiate-staff_member"' not in page
    # A focal point who also manages the unit gets the link to the roster page.
    Membership.objects.create(user=focal_point, unit=unit, role=Membership.Role.MANAGER)
    page = client.get(url).content.decode()
    assert f'href="{reverse("competencies:roster", args=[unit.code])}"' in page


# --- The roster page ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_manager_adds_links_and_unlinks_roster_entries(staff_client, unit, focal_point, manager):
    client = staff_client(manager)
    url = reverse("competencies:roster", args=[unit.code])
    response = client.post(
        url, {"name": "Awa Ndiaye", "role_title": "Desk officer", "is_active": "on"}
    )
    assert response.status_code == 302
    awa = StaffMember.objects.get(unit=unit, name="Awa Ndiaye")
    page = client.get(url).content.decode()
    assert (
        f'id="link-{awa.pk}"' in page and f'<option value="{focal_point.pk}">focal</option>' in page
    )
    link = reverse("competencies:roster_link", args=[unit.code, awa.pk])
    client.post(link, {"user": focal_point.pk})
    awa.refresh_from_db()
    assert awa.user == focal_point
    assert '<span class="linked-account">focal</span>' in client.get(url).content.decode()
    client.post(link, {"unlink": "1"})
    awa.refresh_from_db()
    assert awa.user is None
    assert AuditEvent.objects.filter(action="competencies.roster.unlinked", actor=manager).exists()


@pytest.mark.django_db
def test_only_accounts_of_the_unit_can_be_linked(staff_client, unit, manager, outsider):
    entry = StaffMember.objects.create(unit=unit, name="Awa Ndiaye")
    response = staff_client(manager).post(
        reverse("competencies:roster_link", args=[unit.code, entry.pk]),
        {"user": outsider.pk},
        follow=True,
    )
    assert "Choose a staff account of this unit to link Awa Ndiaye to." in response.content.decode()
    entry.refresh_from_db()
    assert entry.user is None


@pytest.mark.django_db
def test_a_focal_point_or_another_units_manager_cannot_link(
    staff_client, client, django_user_model, unit, other_unit, focal_point
):
    entry = StaffMember.objects.create(unit=unit, name="Awa Ndiaye")
    link = reverse("competencies:roster_link", args=[unit.code, entry.pk])
    assert staff_client(focal_point).post(link, {"user": focal_point.pk}).status_code == 404
    client.logout()
    stranger = make_staff(django_user_model, "othermanager", other_unit, Membership.Role.MANAGER)
    client = staff_client(stranger)
    assert client.post(link, {"user": focal_point.pk}).status_code == 404
    # Nor through their own unit's address: the entry is not on that roster.
    assert (
        client.post(
            reverse("competencies:roster_link", args=[other_unit.code, entry.pk]),
            {"user": stranger.pk},
        ).status_code
        == 404
    )
    entry.refresh_from_db()
    assert entry.user is None


@pytest.mark.django_db
def test_unlinking_gives_back_no_case(staff_client, unit, focal_point, colleague, manager):
    case = receive(unit)
    subject = StaffMember.objects.create(unit=unit, name="Diallo", user=focal_point)
    case_mark_about_staff(case=case, actor=colleague, staff_member=subject)
    staff_client(manager).post(
        reverse("competencies:roster_link", args=[unit.code, subject.pk]), {"unlink": "1"}
    )
    assert CaseExclusion.objects.filter(case=case, user=focal_point).exists()
    with pytest.raises(CaseLocked):
        staff_reads(case, focal_point)


@pytest.mark.django_db
def test_the_roster_page_reads_in_a_constant_number_of_queries(
    staff_client, django_user_model, unit, manager, focal_point
):
    client = staff_client(manager)
    url = reverse("competencies:roster", args=[unit.code])
    StaffMember.objects.create(unit=unit, name="One", user=focal_point)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    # One account per entry (one account, one person); half are members of the unit.
    people = django_user_model.objects.bulk_create(
        [django_user_model(username=f"p{i}") for i in range(20)]
    )
    Membership.objects.bulk_create(
        [Membership(user=p, unit=unit, role=Membership.Role.FOCAL_POINT) for p in people[::2]]
    )
    StaffMember.objects.bulk_create(
        [StaffMember(unit=unit, name=f"P{i}", user=p) for i, p in enumerate(people)]
    )
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


@pytest.mark.django_db
def test_the_admin_cannot_link_an_account_around_the_roster_page(
    client, django_user_model, unit, focal_point
):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.conftest import staff_login

    root = django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    TOTPDevice.objects.create(user=root, name="phone", confirmed=True)
    staff_login(client, root)
    entry = StaffMember.objects.create(unit=unit, name="Diallo")
    client.post(
        f"/admin/competencies/staffmember/{entry.pk}/change/",
        {
            "unit": unit.pk,
            "name": "Diallo",
            "role_title": "",
            "is_active": "on",
            "user": focal_point.pk,
        },
    )
    entry.refresh_from_db()
    assert entry.user is None
