"""Children's ratings in the compliance review (issue 16 §4): per unit for the period
and month by month, aggregate only, under the small-count rule in every view.

The hand-computed fixture, unit TST1, this month:
    row  listened  felt_safe  fast_enough
    r1   yes       yes        yes
    r2   yes       yes        no
    r3   yes       yes        partly
    r4   partly    yes        -
    r5   partly    no         -
    r6   no        -          -
listened: 6 answers, yes 3/6 = 50%, partly 2/6 = 33%, no 1/6 = 17%
felt_safe: 5 answers, yes 4/5 = 80%, partly 0%, no 1/5 = 20%
fast_enough: 3 answers: "fewer than 5 answers", no shares.
Eleven months ago, two answers (in the twelve months, not in the last 90 days);
thirteen months ago, five (in neither). Another unit's ten answers are not the
manager's to see.
"""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints.models import ServiceRating
from oversight.trends import _shift
from policies.selectors import unit_time_zone

_keys = iter(range(10_000))


def rate(unit, month, listened=None, felt_safe=None, fast_enough=None) -> ServiceRating:
    return ServiceRating.objects.create(
        case_key=f"k{next(_keys):063d}",
        unit=unit,
        channel="web",
        language="en",
        month=month,
        listened=listened,
        felt_safe=felt_safe,
        fast_enough=fast_enough,
    )


def this_month(unit):
    return timezone.localdate(timezone.now(), unit_time_zone(unit)).replace(day=1)


@pytest.fixture
def ratings(unit, other_unit):
    month = this_month(unit)
    for row in [(1, 1, 1), (1, 1, 3), (1, 1, 2), (2, 1, None), (2, 3, None), (3, None, None)]:
        rate(unit, month, *row)
    for _ in range(2):
        rate(unit, _shift(month, -11), 1, 1, 1)
    for _ in range(5):
        rate(unit, _shift(month, -13), 3, 3, 3)
    for _ in range(10):
        rate(other_unit, month, 3, 3, 3)
    return month


def export(client, key: str, **params) -> list[list[str]]:
    response = client.get(reverse("oversight:compliance"), {"export": key, **params})
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.django_db
def test_ratings_per_unit_match_the_hand_computed_fixture(staff_client, unit, manager, ratings):
    client = staff_client(manager)
    rows = export(client, "ratings")
    assert rows == [
        ["Unit", "Question", "Answers", "Yes", "Partly", "No"],
        ["TST1", "Did you feel listened to?", "6", "50%", "33%", "17%"],
        ["TST1", "Did you feel safe making this complaint?", "5", "80%", "0%", "20%"],
        ["TST1", "Was it fast enough?", "fewer than 5 answers", "—", "—", "—"],
    ]


@pytest.mark.django_db
def test_ratings_over_twelve_months(staff_client, unit, manager, ratings):
    rows = export(staff_client(manager), "ratings_trend")
    assert len(rows) == 13  # the header and twelve months
    by_month = {row[0]: row[1:] for row in rows[1:]}
    assert by_month[ratings.strftime("%Y-%m")] == [
        "6",
        "50%",
        "5",
        "80%",
        "fewer than 5 answers",
        "—",
    ]
    eleven_ago = _shift(ratings, -11).strftime("%Y-%m")
    assert by_month[eleven_ago] == ["fewer than 5 answers", "—"] * 3
    assert _shift(ratings, -13).strftime("%Y-%m") not in by_month
    empty = [row for month, row in by_month.items() if month not in (eleven_ago, rows[-1][0])]
    assert all(row == ["0", "—"] * 3 for row in empty)


@pytest.mark.django_db
def test_the_review_page_shows_the_ratings_tables_accessibly(staff_client, unit, manager, ratings):
    html = staff_client(manager).get(reverse("oversight:compliance")).content.decode()
    assert 'id="t-ratings"' in html and 'id="t-ratings_trend"' in html
    table = html[
        html.index('id="table-ratings"') : html.index("</table>", html.index('id="table-ratings"'))
    ]
    assert '<th scope="col">Answers</th>' in table
    assert '<th scope="row">TST1</th>' in table
    assert "OTH2" not in table  # not a unit this manager reviews
    assert "fewer than 5 answers" in table


@pytest.mark.django_db
def test_a_small_count_hides_the_shares_even_for_the_units_own_manager(staff_client, unit, manager):
    for _ in range(4):
        rate(unit, this_month(unit), listened=1)
    rows = export(staff_client(manager), "ratings")
    assert rows[1] == ["TST1", "Did you feel listened to?", "fewer than 5 answers", "—", "—", "—"]
    rate(unit, this_month(unit), listened=3)
    rows = export(staff_client(manager), "ratings")
    assert rows[1] == ["TST1", "Did you feel listened to?", "5", "80%", "0%", "20%"]


@pytest.mark.django_db
def test_oversight_staff_see_every_units_ratings(
    staff_client, unit, other_unit, ratings, django_user_model
):
    from policies.models import Membership, Unit
    from tests.conftest import make_staff, make_unit

    oversight = make_unit("NCRC", sector=Unit.Sector.OVERSIGHT)
    ombud = make_staff(django_user_model, "ombud", oversight, Membership.Role.FOCAL_POINT)
    rows = export(staff_client(ombud), "ratings")
    oth = [row for row in rows if row[0] == "OTH2"]
    assert oth[0][2:] == ["10", "0%", "0%", "100%"]


@pytest.mark.django_db
def test_query_count_is_constant_as_ratings_grow(
    staff_client, unit, manager, django_assert_num_queries, django_assert_max_num_queries
):
    client = staff_client(manager)
    rate(unit, this_month(unit), 1, 1, 1)
    with django_assert_max_num_queries(40) as few:
        client.get(reverse("oversight:compliance"))
    for i in range(30):
        rate(unit, _shift(this_month(unit), -(i % 12)), 1 + i % 3, 1 + i % 3, None)
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(reverse("oversight:compliance"))
