"""Issue 16 §1: the unit's training register, imported from CSV. Every line is checked
first; one wrong line imports nothing, and every error names its line."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from competencies.models import StaffMember, TrainingRecord
from complaints.models import AuditEvent
from policies.models import Membership
from tests.conftest import make_staff

HEADER = "staff_member,competency,level,date,provider,evidence\n"
GOOD = (
    HEADER
    + "Awa Diop,1,basic,2026-03-14,National police school,C-1234\n"
    + "awa diop ,2,Specialised,2026-04-01,UNICEF course,\n"
    + "Moussa Ba,1,professional_development,2025-11-20,IBCR,\n"
)


@pytest.fixture
def roster(unit):
    return [
        StaffMember.objects.create(unit=unit, name="Awa Diop"),
        StaffMember.objects.create(unit=unit, name="Moussa Ba"),
    ]


def upload(client, unit, text: str | bytes, name="register.csv"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return client.post(
        reverse("competencies:register_import", args=[unit.code]),
        {"register": SimpleUploadedFile(name, data, content_type="text/csv")},
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text",
    [
        GOOD,
        GOOD.replace(",", ";"),  # French and Spanish spreadsheets
        "\ufeff" + GOOD,  # Excel's "CSV UTF-8" starts with a byte order mark
    ],
    ids=["comma", "semicolon", "bom"],
)
def test_a_good_register_is_imported_whole(text, roster, manager, staff_client, unit):
    response = upload(staff_client(manager), unit, text)
    assert response.status_code == 302
    awa, moussa = roster
    rows = set(
        TrainingRecord.objects.values_list(
            "staff_member", "competency__number", "level", "completed_on", "provider", "source"
        )
    )
    assert rows == {
        (awa.pk, 1, "basic", date(2026, 3, 14), "National police school", "imported"),
        (awa.pk, 2, "specialised", date(2026, 4, 1), "UNICEF course", "imported"),
        (moussa.pk, 1, "professional_development", date(2025, 11, 20), "IBCR", "imported"),
    }
    assert set(TrainingRecord.objects.values_list("entered_by", flat=True)) == {manager.pk}
    event = AuditEvent.objects.get(action="competencies.training.imported")
    assert event.data == {"unit": unit.code, "created": 3, "already": 0}


@pytest.mark.django_db
def test_importing_the_same_register_again_adds_nothing(roster, manager, staff_client, unit):
    client = staff_client(manager)
    upload(client, unit, GOOD)
    response = upload(client, unit, GOOD + "Moussa Ba,2,basic,2026-01-05,ENP,\n")
    assert TrainingRecord.objects.count() == 4
    page = client.get(response.url).content.decode()
    assert "1 training imported. 3 were already recorded." in page


@pytest.mark.django_db
def test_a_register_with_wrong_lines_imports_nothing_and_names_every_line(
    roster, manager, staff_client, unit
):
    text = (
        HEADER
        + "Awa Diop,1,basic,2026-03-14,National police school,\n"  # line 2: fine
        + "Fatou Sy,1,basic,2026-03-14,ENP,\n"  # line 3: not on the roster
        + "Moussa Ba,99,basic,2026-03-14,ENP,\n"  # line 4: no competency 99
        + "Moussa Ba,1,advanced,2026-13-01,,\n"  # line 5: level, date, provider
        + "\n"
        + "Awa Diop,2,basic,2999-01-01,ENP,\n"  # line 7: in the future
    )
    response = upload(staff_client(manager), unit, text)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was imported: 6 problems to fix" in page
    for expected in (
        "line 3: no one called “Fatou Sy” on the roster",
        "line 4: “99” is not the number of a competency of this unit&#x27;s framework",
        "line 5: level “advanced” is not basic, specialised or professional_development",
        "line 5: “2026-13-01” is not a date like 2026-03-14",
        "line 5: the provider or course is missing",
        "line 7: the date 2999-01-01 is in the future",
    ):
        assert expected in page, expected
    assert not TrainingRecord.objects.exists()


@pytest.mark.django_db
def test_two_people_with_one_name_are_not_guessed(roster, manager, staff_client, unit):
    StaffMember.objects.create(unit=unit, name="Awa Diop", role_title="Clerk")
    response = upload(staff_client(manager), unit, GOOD)
    assert "line 2: two people on the roster are called “Awa Diop”" in response.content.decode()
    assert not TrainingRecord.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"x" * (2 * 1024 * 1024 + 1), "The file is larger than 2 MB"),
        (b"staff_member,competency\n", "missing: level, date, provider"),
        ("Awa Diop,1,basic".encode("utf-16"), "The file is not UTF-8 text"),
        (b"", "The submitted file is empty"),  # Django's own message
    ],
    ids=["too-big", "no-header", "not-utf8", "empty"],
)
def test_a_file_that_cannot_be_read_is_refused_clearly(
    data, message, roster, manager, staff_client, unit
):
    response = upload(staff_client(manager), unit, data)
    assert response.status_code == 400
    assert message in response.content.decode().replace("&quot;", '"')
    assert not TrainingRecord.objects.exists()


@pytest.mark.django_db
def test_the_template_and_the_page_are_for_the_units_managers_only(
    roster, manager, focal_point, staff_client, unit, django_user_model, other_unit
):
    url = reverse("competencies:register_import", args=[unit.code])
    template = staff_client(manager).get(url + "?template=1")
    assert template["Content-Type"].startswith("text/csv")
    assert template.content.decode().startswith("staff_member,competency,level,date,provider")
    elsewhere = make_staff(django_user_model, "mgr-oth", other_unit, Membership.Role.MANAGER)
    assert staff_client(elsewhere).get(url).status_code == 404
    assert upload(staff_client(elsewhere), unit, GOOD).status_code == 404
    assert staff_client(focal_point).get(url).status_code == 404
    assert not TrainingRecord.objects.exists()
