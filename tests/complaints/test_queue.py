"""Issue 14 §3: a queue a focal point can work. Filters, reference search, the marker
for new messages from the child, sorting, pagination with counts, and a query count
that does not grow with the number of cases."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from complaints.lifecycle import case_transition, case_withdraw
from complaints.models import Case, CaseLastOpened
from complaints.services import complaint_receive, followup_add_message
from complaints.views import QUEUE_PAGE_SIZE
from policies.models import Membership
from tests.conftest import make_staff, staff_login


def receive(unit, **overrides) -> Case:
    data = dict(
        unit=unit,
        channel="web",
        language="en",
        narrative="They shouted at me.",
        category="neglect",
        in_danger=False,
        about_staff_answer="no",
        contact_preference="none",
    )
    data.update(overrides)
    return complaint_receive(**data).case


def listed(response) -> list[str]:
    """The references in the queue table, in the order shown."""
    html = response.content.decode()
    table = html[html.index('id="queue"') :] if 'id="queue"' in html else ""
    return re.findall(r'<tr class="urgency-\w+" data-reference="(\w+)">', table)


def new_marked(response) -> set[str]:
    html = response.content.decode()
    rows = re.findall(r'data-reference="(\w+)">(.*?)</tr>', html, re.S)
    return {reference for reference, row in rows if "new message" in row}


@pytest.fixture
def colleague(django_user_model, unit):
    return make_staff(django_user_model, "colleague", unit, Membership.Role.FOCAL_POINT)


@pytest.fixture
def queue(staff_client, focal_point):
    client = staff_client(focal_point)

    def get(**params):
        response = client.get(reverse("staff:queue"), params)
        assert response.status_code == 200
        return response

    get.client = client
    return get


@pytest.mark.django_db
def test_mine_shows_only_the_cases_assigned_to_me(queue, unit, focal_point, colleague):
    first, second = receive(unit), receive(unit)
    Case.objects.filter(pk=first.pk).update(assignee=focal_point)
    Case.objects.filter(pk=second.pk).update(assignee=colleague)
    assert set(listed(queue())) == {first.reference, second.reference}
    assert listed(queue(scope="mine")) == [first.reference]


@pytest.mark.django_db
def test_my_units_leaves_out_what_was_escalated_to_my_oversight_unit(
    staff_client, django_user_model, unit, focal_point
):
    from policies.models import ChildProtectionPolicy, Unit
    from tests.conftest import make_unit

    oversight = make_unit("NCRC", sector=Unit.Sector.OVERSIGHT)
    ombud = make_staff(django_user_model, "ombud", oversight, Membership.Role.FOCAL_POINT)
    ChildProtectionPolicy.objects.filter(unit=unit).update(oversight_unit=oversight)
    own, escalated, not_escalated = receive(oversight), receive(unit), receive(unit)
    Case.objects.filter(pk=escalated.pk).update(escalation_level=3)
    client = staff_client(ombud)

    def scope(value):
        response = client.get(reverse("staff:queue"), {"scope": value} if value else {})
        return set(listed(response))

    assert scope("") == scope("all") == {own.reference, escalated.reference}
    assert scope("units") == {own.reference}
    assert not_escalated.reference not in scope("all")


@pytest.mark.django_db
def test_cases_not_closed_by_default_then_all_or_one_status(queue, unit, focal_point):
    received, acknowledged, withdrawn, closed = (receive(unit) for _ in range(4))
    case_transition(case=acknowledged, actor=focal_point, to_status="acknowledged")
    case_withdraw(case=withdrawn, channel="web")
    case_withdraw(case=closed, channel="web")
    case_transition(case=closed, actor=focal_point, to_status="closed", reason="Withdrawn")
    # A withdrawn or decided case still waits for someone to close it: it stays listed.
    assert set(listed(queue())) == {received.reference, acknowledged.reference, withdrawn.reference}
    assert set(listed(queue(status="all"))) == {
        received.reference,
        acknowledged.reference,
        withdrawn.reference,
        closed.reference,
    }
    assert listed(queue(status="acknowledged")) == [acknowledged.reference]
    assert listed(queue(status="withdrawn")) == [withdrawn.reference]


@pytest.mark.django_db
def test_a_decided_case_of_a_child_to_call_stays_in_the_queue_marked(queue, unit, focal_point):
    case = receive(unit, contact_preference="phone", contact_detail="+221770000888")
    for status, reason in [
        ("acknowledged", ""),
        ("assessing", ""),
        ("investigating", ""),
        ("unsubstantiated", "Nothing found"),
    ]:
        case_transition(case=case, actor=focal_point, to_status=status, reason=reason)
    html = queue().content.decode()
    assert listed(queue()) == [case.reference] and "call the child" in html


@pytest.mark.django_db
def test_urgency_category_and_channel_filters(queue, unit):
    standard = receive(unit, category="neglect")
    urgent = receive(unit, category="physical_violence")
    emergency = receive(unit, category="neglect", in_danger=True)
    by_sms = receive(unit, channel="sms")
    assert listed(queue(urgency="emergency")) == [emergency.reference]
    assert listed(queue(urgency="urgent")) == [urgent.reference]
    assert listed(queue(category="physical_violence")) == [urgent.reference]
    assert listed(queue(channel="sms")) == [by_sms.reference]
    assert set(listed(queue(channel="web", category="neglect", urgency="standard"))) == {
        standard.reference
    }


@pytest.mark.django_db
def test_overdue_lists_open_cases_past_their_next_deadline(queue, unit):
    late, on_time = receive(unit), receive(unit)
    Case.objects.filter(pk=late.pk).update(next_due_at=timezone.now() - timedelta(minutes=5))
    Case.objects.filter(pk=on_time.pk).update(next_due_at=timezone.now() + timedelta(hours=5))
    response = queue(overdue="on")
    assert listed(response) == [late.reference]
    assert "overdue" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "spelling",
    [str, lambda r: r.replace("-", ""), str.lower, lambda r: f"  {r.replace('-', ' ').lower()} "],
)
def test_reference_search_takes_it_with_or_without_the_dash_in_any_case(
    queue, unit, focal_point, spelling
):
    case = receive(unit)
    receive(unit)  # another open case, not found
    case_withdraw(case=case, channel="web")
    case_transition(case=case, actor=focal_point, to_status="closed", reason="Withdrawn")
    # A closed case is found too: a child on the phone may name any of their cases.
    assert listed(queue(reference=spelling(case.display_reference))) == [case.reference]


@pytest.mark.django_db
def test_reference_search_by_its_first_characters(queue, unit):
    cases = [receive(unit) for _ in range(3)]
    prefix = cases[0].reference[:3]
    expected = {c.reference for c in cases if c.reference.startswith(prefix)}
    assert set(listed(queue(reference=prefix.lower()))) == expected


@pytest.mark.django_db
def test_reference_search_never_finds_another_units_case(queue, unit, other_unit):
    theirs = receive(other_unit)
    response = queue(reference=theirs.display_reference)
    assert listed(response) == []
    assert reverse("staff:case", args=[theirs.reference]) not in response.content.decode()
    assert "No case matches these filters." in response.content.decode()


@pytest.mark.django_db
def test_bad_filter_values_are_shown_as_errors_and_the_rest_still_applies(queue, unit):
    emergency = receive(unit, in_danger=True)
    receive(unit)
    response = queue(status="nonsense", urgency="emergency")
    html = response.content.decode()
    assert listed(response) == [emergency.reference]
    assert "nonsense is not one of the available choices" in html
    # A reference no case can have (O, I, S, B are not used): an error that says why,
    # and no case listed, not the whole queue under it.
    for typed in ("<b>!", "ZOZO-SIBB"):
        response = queue(reference=typed)
        html = response.content.decode()
        assert listed(response) == []
        assert "No case has this reference" in html and "ACDEFGHJKMNPQRTVWXY" in html
        assert "<b>!" not in html


@pytest.mark.django_db
def test_default_sort_is_most_urgent_then_next_deadline_or_by_received(queue, unit):
    now = timezone.now()
    old_standard = receive(unit)
    emergency = receive(unit, in_danger=True)
    new_standard = receive(unit)
    Case.objects.filter(pk=old_standard.pk).update(
        received_at=now - timedelta(days=2), next_due_at=now + timedelta(hours=1)
    )
    Case.objects.filter(pk=new_standard.pk).update(
        received_at=now - timedelta(days=1), next_due_at=now + timedelta(hours=30)
    )
    Case.objects.filter(pk=emergency.pk).update(received_at=now - timedelta(hours=1))
    assert listed(queue()) == [emergency.reference, old_standard.reference, new_standard.reference]
    assert listed(queue(sort="received")) == [
        emergency.reference,
        new_standard.reference,
        old_standard.reference,
    ]


@pytest.mark.django_db
def test_pagination_says_which_cases_of_how_many_and_keeps_the_filters(queue, unit):
    for _ in range(QUEUE_PAGE_SIZE + 5):
        receive(unit, category="physical_violence")
    receive(unit, category="neglect")  # filtered out
    first = queue(category="physical_violence")
    html = first.content.decode()
    total = QUEUE_PAGE_SIZE + 5
    assert f"Cases 1–{QUEUE_PAGE_SIZE} of {total}" in html
    assert len(listed(first)) == QUEUE_PAGE_SIZE
    next_link = re.search(r'<a href="([^"]+)" rel="next">', html).group(1)
    assert "category=physical_violence" in next_link and "page=2" in next_link
    second = queue.client.get(reverse("staff:queue") + next_link.replace("&amp;", "&"))
    assert f"Cases {QUEUE_PAGE_SIZE + 1}–{total} of {total}" in second.content.decode()
    assert len(listed(second)) == 5
    assert not set(listed(first)) & set(listed(second))


@pytest.mark.django_db
def test_new_message_marker_is_per_person_and_clears_when_they_open_the_case(
    queue, unit, focal_point, colleague
):
    case, quiet = receive(unit), receive(unit)
    followup_add_message(case=case, body="He came back today.")
    assert new_marked(queue()) == {case.reference}
    assert listed(queue(new_messages="on")) == [case.reference]

    assert queue.client.get(reverse("staff:case", args=[case.reference])).status_code == 200
    assert CaseLastOpened.objects.filter(case=case, user=focal_point).exists()
    assert new_marked(queue()) == set()
    assert listed(queue(new_messages="on")) == []

    # The colleague has not opened it: the marker stays for them.
    other_browser = Client()
    staff_login(other_browser, colleague)
    assert new_marked(other_browser.get(reverse("staff:queue"))) == {case.reference}

    followup_add_message(case=case, body="And again.")
    assert new_marked(queue()) == {case.reference}
    assert quiet.reference not in new_marked(queue())


@pytest.mark.django_db
def test_a_staff_reply_or_note_is_not_a_new_message_from_the_child(queue, unit, focal_point):
    from complaints.services import case_note, case_reply

    case = receive(unit)
    queue.client.get(reverse("staff:case", args=[case.reference]))
    case_reply(case=case, actor=focal_point, body="We read it.")
    case_note(case=case, actor=focal_point, body="Call the school.")
    assert new_marked(queue()) == set()


@pytest.mark.django_db
def test_the_queue_url_and_page_carry_metadata_only(queue, unit):
    receive(unit, narrative="A canary sentence nobody else wrote.")
    response = queue(status="all", sort="received")
    html = response.content.decode()
    assert "canary" not in html
    # The header's language form (a POST with the person's language and this page) aside.
    form_names = set(re.findall(r'<(?:input|select)[^>]* name="(\w+)"', html)) - {
        "csrfmiddlewaretoken",
        "language",
        "next",
    }
    assert form_names == {
        "reference",
        "scope",
        "status",
        "urgency",
        "category",
        "channel",
        "overdue",
        "new_messages",
        "sort",
    }


def _queue_queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("staff:queue"), params).status_code == 200
    return len(queries.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"scope": "mine", "status": "all", "sort": "received"},
        {"overdue": "on", "new_messages": "on"},
        {"reference": "first"},
    ],
)
def test_query_count_is_the_same_for_5_and_for_50_cases(
    staff_client, unit, focal_point, colleague, params
):
    client = staff_client(focal_point)

    def add_cases(count):
        for i in range(count):
            case = receive(unit, in_danger=(i % 7 == 0), channel=("sms" if i % 3 else "web"))
            Case.objects.filter(pk=case.pk).update(
                assignee=focal_point if i % 2 else colleague,
                next_due_at=timezone.now() - timedelta(hours=1) if i % 4 == 0 else case.next_due_at,
            )
            if i % 2:  # the markers the queue computes: opened, then a new message
                client.get(reverse("staff:case", args=[case.reference]))
                followup_add_message(case=case, body="More.")

    add_cases(5)
    if "reference" in params:  # one that matches, with 5 cases as with 50
        params = {"reference": Case.objects.order_by("received_at").first().reference[:1]}
    with_5 = _queue_queries(client, **params)
    add_cases(45)
    with_50 = _queue_queries(client, **params)
    assert with_5 == with_50, (with_5, with_50)
    assert with_50 <= 12
