"""Issue 12 (D): before writing, the child reads who will know and when we must tell
someone; after, where to go higher; and every time in their unit's own time zone."""

import html as html_lib
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from complaints.models import Case
from complaints.services import case_reply, complaint_receive
from intake.wording import CONFIDENTIALITY_LIMITS_FOR_CHILD, confidentiality_limits_for_child
from policies.models import CONFIDENTIALITY_LIMITS, Unit
from policies.services import unit_create_with_policy
from tests.conftest import receipt_from
from tests.intake.test_emergency_numbers import publish_version

SERIOUS = "If you or another child could be badly hurt, we must tell people who can keep you safe."
CRIME = "If a worker broke the law, we may have to tell the police or a judge."
COURT = "If a judge orders it, we must show it."


def page_text(response) -> str:
    return html_lib.unescape(response.content.decode())


# --- Who will know ------------------------------------------------------------------------


def test_every_limit_a_policy_can_hold_has_child_words():
    assert set(CONFIDENTIALITY_LIMITS) == set(CONFIDENTIALITY_LIMITS_FOR_CHILD)
    for words in CONFIDENTIALITY_LIMITS_FOR_CHILD.values():
        assert len(str(words).split()) <= 18  # one short sentence each


def test_unknown_limits_are_left_off_not_shown_in_staff_words():
    assert confidentiality_limits_for_child(["court_order", "made_up", 3, None]) == [COURT]
    assert confidentiality_limits_for_child(None) == []


@pytest.mark.django_db
def test_the_unit_page_says_who_will_know_before_the_story(client, unit):
    publish_version(unit, confidentiality_limits=["serious_harm", "crime_by_staff", "court_order"])
    html = page_text(client.get(f"/u/{unit.code}/"))
    heading = html.index('<h2 id="who-will-know">Who will know</h2>')
    story = html.index('name="narrative"')
    positions = [html.index(sentence) for sentence in (SERIOUS, CRIME, COURT)]
    assert heading < positions[0] < positions[1] < positions[2] < story
    anonymous = html.index(
        "You do not have to give your name. If you write it, or details "
        "about you, only the complaints team reads them."
    )
    assert heading < anonymous < story


@pytest.mark.django_db
def test_only_the_policys_own_limits_are_shown(client, unit):
    html = page_text(client.get(f"/u/{unit.code}/"))  # the default: serious harm only
    assert SERIOUS in html and CRIME not in html and COURT not in html
    publish_version(unit, confidentiality_limits=[])
    html = page_text(client.get(f"/u/{unit.code}/"))
    assert SERIOUS not in html and "But sometimes we must tell someone else" not in html
    assert "Who will know" in html


# --- Who it is about ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_form_asks_who_the_complaint_is_about(client, unit):
    html = page_text(client.get(f"/u/{unit.code}/"))
    assert "Who is this complaint about?" in html
    assert re.search(r'name="filed_for" value="self"[^>]*checked', html)
    assert html.index('name="filed_for"') < html.index('name="narrative"')


@pytest.mark.django_db
@pytest.mark.parametrize(
    "posted, stored",
    [
        ({"filed_for": "someone_else"}, Case.FiledFor.SOMEONE_ELSE),
        ({"filed_for": "self"}, Case.FiledFor.SELF),
        ({}, Case.FiledFor.SELF),  # not answered: about the child writing
    ],
)
def test_who_it_is_about_is_recorded(file_complaint, unit, posted, stored):
    assert file_complaint(unit, **posted).status_code == 200
    assert Case.objects.get().filed_for == stored


@pytest.mark.django_db
def test_complaint_receive_takes_who_it_is_for(unit):
    common = dict(
        unit=unit,
        channel="web",
        language="en",
        narrative="words",
        category="neglect",
        in_danger=False,
        about_staff_answer="no",
        contact_preference="none",
    )
    assert complaint_receive(**common).case.filed_for == Case.FiledFor.SELF
    other = complaint_receive(**common, filed_for=Case.FiledFor.SOMEONE_ELSE).case
    assert other.filed_for == Case.FiledFor.SOMEONE_ELSE
    assert complaint_receive(**common, filed_for="nonsense").case.filed_for == Case.FiledFor.SELF


@pytest.mark.django_db
def test_for_someone_else_the_confirmation_asks_about_the_child(file_complaint, unit):
    html = page_text(file_complaint(unit, filed_for="someone_else"))
    assert "Is the child in danger right now? Call:" in html


# --- Going higher --------------------------------------------------------------------------


def oversight_body(code="NCRI", *, open_to_children=True):
    if open_to_children:
        return unit_create_with_policy(
            code=code,
            name="National Child Rights Office",
            sector=Unit.Sector.OVERSIGHT,
            default_language="en",
            emergency_contacts=[],
        )
    return Unit.objects.create(
        code=code, name="National Child Rights Office", sector=Unit.Sector.OVERSIGHT
    )


@pytest.mark.django_db
def test_confirmation_and_case_page_say_how_to_go_higher(client, file_complaint):
    body = oversight_body()
    unit = unit_create_with_policy(
        code="UNDR",
        name="Unit UNDR",
        sector=Unit.Sector.SECURITY,
        default_language="en",
        emergency_contacts=[],
        oversight_unit=body,
    )
    received = page_text(file_complaint(unit))
    for html in (received,):
        assert "If nobody answers, or you disagree" in html
        assert "Then you can tell National Child Rights Office." in html
        assert f'href="/u/{body.code}/" id="oversight-link"' in html
    reference, code = receipt_from(file_complaint(unit, submission_token="again"))
    client.post(reverse("intake:followup"), {"reference": reference, "code": code})
    case_page = page_text(client.get(reverse("intake:followup_case")))
    assert "Then you can tell National Child Rights Office." in case_page
    assert f'href="/u/{body.code}/"' in case_page


@pytest.mark.django_db
def test_an_oversight_body_closed_to_children_is_named_without_a_link(file_complaint):
    body = oversight_body(open_to_children=False)
    unit = unit_create_with_policy(
        code="UNDR",
        name="Unit UNDR",
        sector=Unit.Sector.SECURITY,
        default_language="en",
        emergency_contacts=[],
        oversight_unit=body,
    )
    html = page_text(file_complaint(unit))
    assert "Then you can tell National Child Rights Office." in html
    assert f'href="/u/{body.code}/"' not in html


@pytest.mark.django_db
def test_without_an_oversight_body_nothing_is_promised(file_complaint, unit):
    assert "If nobody answers, or you disagree" not in page_text(file_complaint(unit))


# --- Dates in the unit's own time zone ------------------------------------------------------

DATE_LIKE_US = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b")


@pytest.mark.django_db
def test_deadlines_and_message_times_read_in_the_units_time_zone(
    client, file_complaint, focal_point
):
    unit = unit_create_with_policy(
        code="GUAT",
        name="Unidad",
        sector=Unit.Sector.SECURITY,
        default_language="es",
        emergency_contacts=[],
        time_zone="America/Guatemala",
    )
    response = file_complaint(unit)
    html = page_text(response)
    case = Case.objects.get()
    due = case.acknowledge_due_at
    in_guatemala = date_format(
        timezone.localtime(due, timezone=_zone("America/Guatemala")), "j F Y, H:i"
    )
    in_utc = date_format(timezone.localtime(due, timezone=_zone("UTC")), "j F Y, H:i")
    six_hours_earlier = date_format((due - timedelta(hours=6)).replace(tzinfo=None), "j F Y, H:i")
    assert in_guatemala == six_hours_earlier != in_utc
    assert f"They will answer by {in_guatemala}." in html
    assert in_utc not in html
    assert "a.m." not in html and "p.m." not in html and not DATE_LIKE_US.search(html)

    case_reply(case=case, actor=focal_point, body="We are looking into it.")
    reference, code = receipt_from(response)
    client.post(reverse("intake:followup"), {"reference": reference, "code": code})
    case_page = page_text(client.get(reverse("intake:followup_case")))
    sent = case.messages.get().created_at
    assert (
        date_format(timezone.localtime(sent, timezone=_zone("America/Guatemala")), "j F Y, H:i")
        in case_page
    )
    assert "a.m." not in case_page and not DATE_LIKE_US.search(case_page)


def _zone(name):
    import zoneinfo

    return zoneinfo.ZoneInfo(name)


@pytest.mark.django_db
def test_a_unit_saved_with_a_bad_zone_still_shows_the_code(file_complaint, unit):
    Unit.objects.filter(pk=unit.pk).update(time_zone="Not/AZone")  # skipped validation
    response = file_complaint(unit)
    assert response.status_code == 200
    assert receipt_from(response)[1]
