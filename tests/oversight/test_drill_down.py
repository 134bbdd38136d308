"""From an overdue or escalated count to the cases behind it: metadata only, a link to
the case only for those who may read it, another unit's list a 404."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from complaints.models import CaseExclusion
from oversight.selectors import Period
from policies.models import Membership, Unit
from tests.conftest import make_staff, make_unit
from tests.oversight.conftest import CANARY, H, case_at

D = timedelta(days=1)


def listed(html: str) -> list[str]:
    """References in the list's row headers, linked or not."""
    return re.findall(r'<th scope="row">(?:<a href="[^"]*">)?([0-9A-Z]{4}-[0-9A-Z]{4})', html)


def linked(html: str) -> list[str]:
    return re.findall(
        r'<th scope="row"><a href="/staff/cases/[0-9A-Z]+/">([0-9A-Z]{4}-[0-9A-Z]{4})', html
    )


def drill_down(client, kind: str, code: str = "TST1"):
    return client.get(reverse("oversight:cases", args=[code, kind]))


@pytest.mark.django_db
def test_manager_follows_the_counts_to_the_references(staff_client, unit, manager, fixture_cases):
    _now, cases = fixture_cases
    client = staff_client(manager)
    review = client.get(reverse("oversight:compliance")).content.decode()
    overdue_url = reverse("oversight:cases", args=["TST1", "overdue"])
    escalated_url = reverse("oversight:cases", args=["TST1", "escalated"])
    assert (
        f'<a href="{overdue_url}">3</a>' in review and f'<a href="{escalated_url}">1</a>' in review
    )

    html = drill_down(client, "overdue").content.decode()
    # Oldest first: c6 (200 days), c2 (20), c3 (5).
    assert listed(html) == [cases[k].display_reference for k in ("c6", "c2", "c3")]
    assert "Physical violence, excessive force" in html  # the category, as staff name it
    assert CANARY not in html
    # A manager reads no case: no row links to one.
    assert linked(html) == []
    assert listed(drill_down(client, "escalated").content.decode()) == [
        cases["c6"].display_reference
    ]


@pytest.mark.django_db
def test_rows_link_to_the_case_for_a_focal_point_who_may_read_it(
    staff_client, unit, focal_point, fixture_cases
):
    _now, cases = fixture_cases
    Membership.objects.create(user=focal_point, unit=unit, role=Membership.Role.MANAGER)
    # Recused from (or the subject of) c2: that row stays plain text.
    CaseExclusion.objects.create(case=cases["c2"], user=focal_point, reason="recused")
    html = drill_down(staff_client(focal_point), "overdue").content.decode()
    assert listed(html) == [cases[k].display_reference for k in ("c6", "c2", "c3")]
    assert linked(html) == [cases[k].display_reference for k in ("c6", "c3")]


@pytest.mark.django_db
def test_lists_of_units_not_managed_are_404(
    staff_client, django_user_model, unit, focal_point, fixture_cases
):
    other = make_unit("OTH3")
    stranger = make_staff(django_user_model, "mgr-other", other, Membership.Role.MANAGER)
    oversight = make_unit("NCRC", sector=Unit.Sector.OVERSIGHT)
    ombud = make_staff(django_user_model, "ombud", oversight, Membership.Role.FOCAL_POINT)
    # Another unit's manager; a focal point, not a manager; oversight staff, who see counts
    # across units (no list would respect "<5").
    for user in (stranger, focal_point, ombud):
        client = staff_client(user)
        for kind in ("overdue", "escalated"):
            assert drill_down(client, kind).status_code == 404, (user, kind)
        client.logout()


@pytest.mark.django_db
def test_unknown_list_is_404(staff_client, unit, manager):
    assert drill_down(staff_client(manager), "narratives").status_code == 404


@pytest.mark.django_db
def test_query_count_is_constant_as_the_list_grows(
    staff_client, unit, focal_point, django_assert_num_queries
):
    Membership.objects.create(user=focal_point, unit=unit, role=Membership.Role.MANAGER)
    client = staff_client(focal_point)
    now = timezone.now()
    case_at(unit, received=now - 40 * D, escalation_level=1)
    with CaptureQueriesContext(connection) as few:
        assert len(listed(drill_down(client, "overdue").content.decode())) == 1
    for days in range(41, 53):
        case_at(unit, received=now - days * D, escalation_level=1)
    with django_assert_num_queries(len(few.captured_queries)):
        html = drill_down(client, "overdue").content.decode()
    assert len(listed(html)) == 13 and len(linked(html)) == 13


@pytest.mark.django_db
def test_escalated_rows_of_the_staff_home_link_only_for_those_allowed(
    staff_client, django_user_model, unit, manager, focal_point
):
    now = timezone.now()
    escalated = case_at(unit, received=now - 3 * D, escalation_level=2)
    recused = case_at(unit, received=now - 4 * D, escalation_level=2)
    case_url = reverse("staff:case", args=[escalated.reference])
    # The manager alone: the reference, no link (a manager reads no case).
    html = staff_client(manager).get(reverse("staff:queue")).content.decode()
    assert escalated.display_reference in html and case_url not in html
    # A manager who is also a focal point of the unit: a link, except to the recused case.
    Membership.objects.create(user=focal_point, unit=unit, role=Membership.Role.MANAGER)
    CaseExclusion.objects.create(case=recused, user=focal_point, reason="recused")
    client = staff_client(focal_point)
    html = client.get(reverse("staff:queue")).content.decode()
    table = html.split('id="escalated"')[1].split("</table>")[0]
    assert f'<a href="{case_url}">{escalated.display_reference}</a>' in table
    assert recused.display_reference in table
    assert reverse("staff:case", args=[recused.reference]) not in table


@pytest.mark.django_db
def test_past_its_assess_deadline_is_overdue_as_the_queue_says(
    staff_client, unit, manager, focal_point
):
    from complaints.selectors import QueueFilters, queue_cases
    from oversight.selectors import Cell, compliance_report
    from oversight.trends import compliance_trends, month_in, months_ending

    now = timezone.now()
    received = now - 4 * D
    # Urgent (acknowledge 24 h, assess 72 h, resolve 10 days), acknowledged in 2 h, still
    # "acknowledged" 4 days on: its assess deadline has passed, its resolve one has not.
    # Escalated for it.
    late = case_at(
        unit,
        received=received,
        urgency_category="physical_violence",
        acknowledged_at=received + 2 * H,
        status="acknowledged",
        escalation_level=1,
    )
    # The same, but being assessed: its next deadline is the resolve one, 6 days off.
    case_at(
        unit,
        received=received,
        urgency_category="physical_violence",
        acknowledged_at=received + 2 * H,
        status="assessing",
    )
    assert late.next_due_at == late.assess_due_at < now
    assert list(queue_cases(focal_point, filters=QueueFilters(overdue=True), now=now)) == [late]

    client = staff_client(manager)
    overdue_url = reverse("oversight:cases", args=["TST1", "overdue"])
    assert (
        f'<a href="{overdue_url}">1</a>'
        in client.get(reverse("oversight:compliance")).content.decode()
    )
    assert listed(drill_down(client, "overdue").content.decode()) == [late.display_reference]
    # The month's "overdue or late", on the review and the monthly report alike.
    tz = timezone.get_current_timezone()
    month = month_in(timezone.localdate(received).replace(day=1), tz)
    [row] = [
        r
        for r in compliance_trends(
            units=[unit],
            months=months_ending(month, tz),
            now=now,
            tz=tz,
            cell=Cell(cross_unit=False),
        )
        if r.month == month
    ]
    assert (row.received, row.overdue, row.escalated) == (2, 1, 1)
    period = Period(start=now - 30 * D, end=now, label="test")
    [open_row] = compliance_report(units=[unit], period=period, now=now, cross_unit=False)[
        "tables"
    ]["open_cases"].rows
    assert open_row[0:2] == ["TST1", 2] and open_row[-2].value == 1
