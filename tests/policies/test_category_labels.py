"""The category labels are repeated in policies/categories.py so they can be translated:
they must say what the data file says, and staff read them in their own language."""

import pytest
from django.urls import reverse
from django.utils import translation

from complaints.models import Case
from policies.categories import CHILD_LABELS, FORMAL_LABELS, category_data, formal_label
from policies.models import StaffProfile


def test_the_repeated_labels_say_what_the_data_file_says():
    categories = category_data()["categories"]
    assert {c["code"]: c["formal"] for c in categories} == {
        code: str(label) for code, label in FORMAL_LABELS.items()
    }
    assert {c["code"]: c["child_label"] for c in categories} == {
        code: str(label) for code, label in CHILD_LABELS.items()
    }


@pytest.mark.parametrize(
    ("language", "label"),
    [("fr", "Négligence ou traitement négligent"), ("es", "Negligencia o trato negligente")],
)
def test_staff_read_the_formal_label_in_their_language(language, label):
    with translation.override(language):
        assert formal_label("neglect") == label


@pytest.mark.django_db
def test_a_french_focal_point_reads_the_category_in_french_on_the_case_page(
    file_complaint, unit, focal_point, staff_client
):
    file_complaint(unit, category="neglect")
    case = Case.objects.get()
    StaffProfile.objects.update_or_create(user=focal_point, defaults={"language": "fr"})
    page = staff_client(focal_point).get(reverse("staff:case", args=[case.reference]))
    assert "Négligence ou traitement négligent" in page.content.decode()
