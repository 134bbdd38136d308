"""Each metric against a fixture computed by hand (see the comments)."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from oversight.selectors import Linked, Period, compliance_report
from policies.models import Membership, Unit
from tests.conftest import make_staff, make_unit
from tests.oversight.conftest import CANARY, D, H, case_at


def report_for(units, now, cross_unit=False, days=90):
    period = Period(start=now - days * D, end=now, label="test")
    return compliance_report(units=units, period=period, now=now, cross_unit=cross_unit)["tables"]


def rows(table):
    return [row for row in table.rows]


@pytest.mark.django_db
def test_each_metric_matches_the_hand_computed_fixture(unit, fixture_cases):
    now, _ = fixture_cases
    tables = report_for([unit], now)
    # Every share names its denominator. Acknowledge: emergency c5 in time, c8 withdrawn
    # before its deadline (1 of 1); urgent c1 in time, c2 late (1 of 2); standard c3
    # overdue, c7 withdrawn after missing it, c4 not due yet (0 of 2).
    # Resolve: c5 in time; c1 in time, c2 past its 10 days (1 of 2); standard none due.
    # The withdrawn c7 and c8 are in neither side: counted as decided in time, they would
    # make emergency 2 of 2 and standard 1 of 1.
    assert rows(tables["deadlines"]) == [
        ["TST1", "emergency", 2, 1, "100% (1 of 1)", 1, "100% (1 of 1)"],
        ["TST1", "urgent", 2, 1, "50% (1 of 2)", 1, "50% (1 of 2)"],
        ["TST1", "standard", 3, 0, "0% (0 of 2)", 0, "—"],
    ]
    # Acknowledged after 2 h, 30 h and 0.5 h: median 2, 90th percentile 2 + 0.8 * 28 = 24.4.
    assert rows(tables["time_to_acknowledge"]) == [["TST1", 3, 2.0, 24.4]]
    # Open now: c2 (20 days), c3 (5), c4 (1), c6 (200); overdue c2, c3, c6; escalated c6.
    # The overdue and escalated counts lead to the lists behind them.
    assert rows(tables["open_cases"]) == [
        [
            "TST1",
            4,
            2,
            1,
            0,
            1,
            Linked(3, reverse("oversight:cases", args=["TST1", "overdue"])),
            Linked(1, reverse("oversight:cases", args=["TST1", "escalated"])),
        ]
    ]
    # Decided in the period: c1 substantiated (told), c5 unsubstantiated (not told).
    # Withdrawn apart: c7 and c8 (c8 since closed); not decided, so not in "told" either.
    assert rows(tables["outcomes"]) == [["TST1", 2, 1, 1, 0, 2, "50% (1 of 2)", "50% (1 of 2)"]]
    assert rows(tables["mix"]) == [["TST1", "web", "en", 7]]
    assert rows(tables["policy_health"]) == [["TST1", 1, "no backup focal point"]]


@pytest.mark.django_db
def test_period_excludes_older_cases(unit, fixture_cases):
    now, _ = fixture_cases
    tables = report_for([unit], now, days=7)
    assert sum(r[2] for r in tables["deadlines"].rows) == 3  # c3, c4, c5


@pytest.mark.django_db
def test_cross_unit_view_hides_small_counts(unit, fixture_cases):
    now, _ = fixture_cases
    tables = report_for([unit], now, cross_unit=True)
    assert rows(tables["deadlines"])[1] == ["TST1", "urgent", "<5", "<5", "—", "<5", "—"]
    assert rows(tables["mix"]) == [["TST1", "web", "en", 7]]  # seven is not small
    # No list behind a hidden count: it would show what "<5" hides.
    assert rows(tables["open_cases"]) == [["TST1", "<5", "<5", "<5", 0, "<5", "<5", "<5"]]
    # A median of three acknowledgements would single them out: hidden with the count.
    assert rows(tables["time_to_acknowledge"]) == [["TST1", "<5", "—", "—"]]


@pytest.mark.django_db
def test_manager_sees_the_review_and_csv_without_content(
    staff_client, unit, manager, fixture_cases
):
    client = staff_client(manager)
    page = client.get(reverse("oversight:compliance"))
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and "<title" in html
    assert CANARY not in html
    for key in (
        "deadlines",
        "time_to_acknowledge",
        "open_cases",
        "outcomes",
        "mix",
        "retraining",
        "breaches",
        "repeated",
        "policy_health",
    ):
        response = client.get(reverse("oversight:compliance"), {"export": key, "period": "365"})
        assert response["Content-Type"].startswith("text/csv")
        body = response.content.decode()
        assert CANARY not in body and body.splitlines()[0]


@pytest.mark.django_db
def test_custom_period_is_whole_days_inclusive(staff_client, unit, manager, fixture_cases):
    now, cases = fixture_cases
    day = timezone.localdate(cases["c3"].received_at)
    client = staff_client(manager)
    page = client.get(
        reverse("oversight:compliance"),
        {"period": "custom", "from": day.isoformat(), "to": day.isoformat()},
    )
    html = page.content.decode()
    shown = f"{day.day} {day:%b %Y}"  # "27 Nov 2026"
    assert page.status_code == 200 and f"Cases received from {shown} to {shown};" in html
    export = client.get(
        reverse("oversight:compliance"),
        {"period": "custom", "from": day.isoformat(), "to": day.isoformat(), "export": "mix"},
    )
    assert export.content.decode().splitlines()[1:] == ["TST1,web,en,1"]  # c3 alone


def checked(html: str) -> list[str]:
    return re.findall(r'<input type="radio" name="period" id="p(\w+)" value="\w+" checked>', html)


@pytest.mark.django_db
def test_dates_without_a_period_are_the_custom_range(staff_client, unit, manager, fixture_cases):
    now, cases = fixture_cases
    day = timezone.localdate(cases["c3"].received_at)
    client = staff_client(manager)
    params = {"from": day.isoformat(), "to": day.isoformat()}
    html = client.get(reverse("oversight:compliance"), params).content.decode()
    shown = f"{day.day} {day:%b %Y}"
    assert f"Cases received from {shown} to {shown};" in html and "last 90 days" not in html
    assert checked(html) == ["custom"]
    export = client.get(reverse("oversight:compliance"), {**params, "export": "mix"})
    assert export.content.decode().splitlines()[1:] == [
        "TST1,web,en,1"
    ]  # c3 alone, as the page says
    # No dates, no period: the last 90 days, ticked as such.
    html = client.get(reverse("oversight:compliance")).content.decode()
    assert "Cases received in the last 90 days" in html and checked(html) == ["90"]


@pytest.mark.django_db
def test_dates_typed_under_a_preset_period_are_a_question_not_the_presets_figures(
    staff_client, unit, manager, fixture_cases
):
    client = staff_client(manager)
    # "Last 90 days" is ticked by default: typing dates without ticking "Custom range"
    # sends both. The same is sent by dates left over from a custom range when "Last 90
    # days" was ticked afterwards, so the page asks which was meant.
    params = {"period": "90", "from": "2026-11-01", "to": "2026-12-31"}
    page = client.get(reverse("oversight:compliance"), params)
    html = page.content.decode()
    assert page.status_code == 400 and "<table" not in html and "<svg" not in html
    assert (
        "You gave dates but chose “Last 90 days”. To see those dates, choose “Custom range”; "
        "to see “Last 90 days”, clear the dates."
    ) in html
    assert 'href="#pcustom"' in html and 'id="period-error"' in html
    # The form comes back as it was sent.
    assert 'value="2026-11-01"' in html and 'value="2026-12-31"' in html and checked(html) == ["90"]
    export = client.get(reverse("oversight:compliance"), {**params, "export": "mix"})
    assert export.status_code == 400 and not export["Content-Type"].startswith("text/csv")
    # Either answer shows figures.
    assert (
        client.get(reverse("oversight:compliance"), {**params, "period": "custom"}).status_code
        == 200
    )
    assert (
        client.get(
            reverse("oversight:compliance"), {"period": "90", "from": "", "to": ""}
        ).status_code
        == 200
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params, message",
    [
        (
            {"period": "custom", "from": "2026-03-31", "to": "2026-03-01"},
            "The end date is before the start date.",
        ),
        ({"period": "custom", "from": "nope", "to": "2026-03-01"}, "Enter a valid date."),
        (
            {"period": "custom", "from": "2026-03-01"},
            "Give a date (year-month-day) for a custom range.",
        ),
        (
            {"period": "custom", "from": "2026-03-01", "to": "9999-12-31"},
            "Give an end date before the year 9999.",
        ),
        ({"period": "7"}, "Select a valid choice."),
        ({"period": "30", "from": "2026-03-01"}, "You gave dates but chose “Last 30 days”."),
        ({"from": "2026-03-01"}, "Give a date (year-month-day) for a custom range."),
    ],
)
def test_a_bad_or_inverted_range_is_an_error_not_the_last_90_days(
    staff_client, unit, manager, fixture_cases, params, message
):
    client = staff_client(manager)
    page = client.get(reverse("oversight:compliance"), params)
    html = page.content.decode()
    assert page.status_code == 400
    assert message in html and 'class="error-summary"' in html
    # No figures at all, for this period or any other.
    assert "last 90 days" not in html and "<table" not in html and "<svg" not in html
    # The form comes back as it was filled, to correct.
    assert f'value="{params.get("from", "")}"' in html
    export = client.get(reverse("oversight:compliance"), {**params, "export": "deadlines"})
    assert export.status_code == 400 and not export["Content-Type"].startswith("text/csv")


@pytest.mark.django_db
def test_oversight_staff_review_all_units_and_focal_points_none(
    staff_client, django_user_model, unit, focal_point
):
    oversight = make_unit("NCRC", sector=Unit.Sector.OVERSIGHT)
    ombud = make_staff(django_user_model, "ombud", oversight, Membership.Role.FOCAL_POINT)
    assert "All units" in staff_client(ombud).get(reverse("oversight:compliance")).content.decode()
    client = staff_client(focal_point)
    assert client.get(reverse("oversight:compliance")).status_code == 404


@pytest.mark.django_db
def test_query_count_is_constant_as_cases_grow(
    staff_client,
    unit,
    manager,
    other_unit,
    django_assert_num_queries,
    django_assert_max_num_queries,
):
    Membership.objects.create(user=manager, unit=other_unit, role=Membership.Role.MANAGER)
    client = staff_client(manager)
    now = timezone.now()
    for _ in range(2):
        case_at(unit, received=now - 2 * D)
    with django_assert_max_num_queries(30) as few:
        client.get(reverse("oversight:compliance"))
    for days in range(12):
        case_at(unit, received=now - days * D, acknowledged_at=now - days * D + H)
        case_at(other_unit, received=now - days * D)
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(reverse("oversight:compliance"))


@pytest.mark.django_db
def test_retraining_metrics_heat_map_and_repeated_staff(unit, focal_point, manager):
    from datetime import date

    from competencies.models import RetrainingAssignment, StaffMember
    from competencies.services import sector_competencies

    first, second = sector_competencies(unit)[:2]
    officer = StaffMember.objects.create(unit=unit, name="Officer A")
    guard = StaffMember.objects.create(unit=unit, name="Guard B")
    today = timezone.localdate()

    def assign(member, competency, case_reference, **extra):
        return RetrainingAssignment.objects.create(
            staff_member=member,
            competency=competency,
            competency_title=competency.title,
            facets=["skills"],
            training_level="basic",
            case_reference=case_reference,
            due_date=extra.pop("due_date", today + 30 * D),
            **extra,
        )

    # Officer A: two cases (first twice, second once); Guard B: one case.
    assign(officer, first, "AAAA1111", status="completed")
    assign(officer, second, "AAAA1111", due_date=today - 2 * D)  # overdue
    assign(officer, first, "BBBB2222")
    assign(guard, first, "CCCC3333", due_date=date(2000, 1, 1), status="completed")
    tables = report_for([unit], timezone.now())
    assert rows(tables["retraining"]) == [["TST1", 4, 2, 1]]
    assert rows(tables["breaches"]) == [
        [f"{first.number}. {first.title}", 3],
        [f"{second.number}. {second.title}", 1],
    ]
    assert rows(tables["repeated"]) == [["Officer A", "TST1", 2]]


@pytest.mark.django_db
def test_median_is_shown_across_units_from_five_acknowledgements(unit):
    now = timezone.now()
    for hours in (1, 2, 3, 4):
        case_at(unit, received=now - 2 * D, acknowledged_at=now - 2 * D + hours * H)
    assert rows(report_for([unit], now, cross_unit=True)["time_to_acknowledge"]) == [
        ["TST1", "<5", "—", "—"]
    ]
    # The manager of the unit sees their own figures.
    assert rows(report_for([unit], now)["time_to_acknowledge"]) == [["TST1", 4, 2.5, 3.7]]
    case_at(unit, received=now - 2 * D, acknowledged_at=now - 2 * D + 5 * H)
    # 1..5 hours: median 3, 90th percentile 4 + 0.6 * 1 = 4.6.
    assert rows(report_for([unit], now, cross_unit=True)["time_to_acknowledge"]) == [
        ["TST1", 5, 3.0, 4.6]
    ]


@pytest.mark.django_db
def test_heat_map_counts_breaches_not_follow_up_assignments(unit, manager):
    from competencies.models import RetrainingAssignment, StaffMember
    from competencies.services import retraining_complete, sector_competencies

    first = sector_competencies(unit)[0]
    officer = StaffMember.objects.create(unit=unit, name="Officer A")
    breach = RetrainingAssignment.objects.create(
        staff_member=officer,
        competency=first,
        competency_title=first.title,
        facets=["skills", "knowledge"],
        training_level="basic",
        case_reference="AAAA1111",
        due_date=timezone.localdate() + 30 * D,
    )
    follow_up = retraining_complete(
        assignment=breach,
        actor=manager,
        evaluation={"skills": "below_expectations", "knowledge": "satisfactory"},
    )
    retraining_complete(
        assignment=follow_up, actor=manager, evaluation={"skills": "below_expectations"}
    )
    assert RetrainingAssignment.objects.count() == 3
    tables = report_for([unit], timezone.now())
    # One breach of one competency, trained three times.
    assert rows(tables["breaches"]) == [[f"{first.number}. {first.title}", 1]]
    assert rows(tables["retraining"]) == [["TST1", 3, 2, 0]]
    assert rows(tables["repeated"]) == []  # one case, however often retrained


def test_chart_and_tables_share_one_small_count_rule():
    from oversight.charts import deadline_bars
    from oversight.selectors import SMALL_COUNT, Cell, is_small

    assert [n for n in range(10) if is_small(n)] == list(range(1, SMALL_COUNT))
    rows = [("emergency", 3, 8), ("urgent", 5, 10), ("standard", 8, 12)]
    across = deadline_bars(rows, cross_unit=True)
    cell = Cell(cross_unit=True)
    # 3 of 8 and 8 of 12 (4 missed) would single children out; 5 of 10 would not.
    assert [cell.share(met, total) for _u, met, total in rows] == ["—", "50% (5 of 10)", "—"]
    assert (
        "emergency: hidden: small numbers; urgent: 50% (5/10); standard: hidden: small numbers"
        in across
    )
    own = deadline_bars(rows, cross_unit=False)
    assert "emergency: 38% (3/8)" in own and "standard: 67% (8/12)" in own


@pytest.mark.django_db
def test_csv_exports_carry_the_figures_and_their_denominators(
    staff_client, unit, manager, fixture_cases
):
    client = staff_client(manager)

    def export(key):
        return (
            client.get(reverse("oversight:compliance"), {"export": key})
            .content.decode()
            .splitlines()
        )

    assert export("open_cases")[1] == "TST1,4,2,1,0,1,3,1"  # the linked counts export as numbers
    assert export("deadlines")[2] == "TST1,urgent,2,1,50% (1 of 2),1,50% (1 of 2)"
    assert export("trends")[0].startswith("Month,Received,Acknowledged in time")
