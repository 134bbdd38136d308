"""Reviews in the compliance review (issue 17 §1): per unit whose decision a child
contested (the first case's unit, not the oversight unit that reviews), the reviews
asked in the period and their results, under the small-count rule, in a constant
number of queries.

The hand-computed fixture, reviews asked in the last 90 days:
    TST1: 6 reviews: upheld 3, changed 2, not decided yet 1
          share changed: 2 of the 5 decided = 40%
    OTH2: 1 review, not decided yet
    TST1, 200 days ago: 1 review, upheld (outside the period)
The manager of TST1 sees TST1's exact figures; oversight staff see every unit with
1 to 4 shown as "<5" and a share hidden where either side is small.
"""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints.models import Case
from complaints.reviews import review_request
from policies.models import ChildProtectionPolicy, Membership, Unit
from tests.conftest import make_staff, make_unit
from tests.oversight.conftest import case_at

S = Case.Status
D = timedelta(days=1)


def reviewed(unit, *, result="", days_ago=2):
    """A decided case of `unit` whose child asked for a review `days_ago`; the review
    decided as `result` ("" for not yet)."""
    now = timezone.now()
    case = case_at(
        unit,
        received=now - (days_ago + 20) * D,
        status=S.UNSUBSTANTIATED,
        outcome=S.UNSUBSTANTIATED,
        decided_at=now - (days_ago + 1) * D,
        outcome_told_at=now - (days_ago + 1) * D,
    )
    review = review_request(case=case, channel="web", now=now - days_ago * D).review
    Case.objects.filter(pk=review.pk).update(
        received_at=now - days_ago * D, outcome=result, status=result or S.RECEIVED
    )
    return review


@pytest.fixture
def oversight(db, unit, other_unit):
    body = make_unit("OVR1", sector=Unit.Sector.OVERSIGHT)
    ChildProtectionPolicy.objects.filter(unit__in=[unit, other_unit]).update(oversight_unit=body)
    return body


@pytest.fixture
def reviews(unit, other_unit, oversight):
    for result in [S.UPHELD] * 3 + [S.CHANGED] * 2 + [""]:
        reviewed(unit, result=result)
    reviewed(other_unit)
    reviewed(unit, result=S.UPHELD, days_ago=200)


def export(client, key: str = "reviews") -> list[list[str]]:
    response = client.get(reverse("oversight:compliance"), {"export": key})
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


HEADER = [
    "Unit",
    "Reviews asked",
    "Decision upheld",
    "Decision changed",
    "Withdrawn",
    "Not decided yet",
    "Share changed",
]


@pytest.mark.django_db
def test_reviews_per_unit_match_the_hand_computed_fixture(staff_client, unit, manager, reviews):
    rows = export(staff_client(manager))
    assert rows == [HEADER, ["TST1", "6", "3", "2", "0", "1", "40% (2 of 5)"]]


@pytest.mark.django_db
def test_oversight_staff_see_every_unit_with_small_counts_hidden(
    staff_client, django_user_model, oversight, reviews
):
    ombud = make_staff(django_user_model, "ombud", oversight, Membership.Role.FOCAL_POINT)
    rows = {row[0]: row for row in export(staff_client(ombud))[1:]}
    assert rows["TST1"] == ["TST1", "6", "<5", "<5", "0", "<5", "—"]
    assert rows["OTH2"] == ["OTH2", "<5", "0", "0", "0", "<5", "—"]
    # Counted against the unit complained about, never the oversight unit itself.
    assert "OVR1" not in rows


@pytest.mark.django_db
def test_the_review_page_shows_the_reviews_table(staff_client, unit, manager, reviews):
    html = staff_client(manager).get(reverse("oversight:compliance")).content.decode()
    assert 'id="table-reviews"' in html and "Reviews the children asked for" in html


@pytest.mark.django_db
def test_queries_stay_constant_as_reviews_grow(
    staff_client, unit, manager, oversight, django_assert_max_num_queries, django_assert_num_queries
):
    client = staff_client(manager)
    reviewed(unit)
    with django_assert_max_num_queries(40) as few:
        client.get(reverse("oversight:compliance"))
    for result in (S.UPHELD, S.CHANGED, "", S.UPHELD):
        reviewed(unit, result=result)
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(reverse("oversight:compliance"))
