"""The review window on the policy page (issue 17 §1): days after the child was told
the outcome, 7 to 365; bad input is refused with a clear message and nothing typed is
lost; the poster and leaflet say it once an oversight unit is named."""

import pytest
from django.urls import reverse

from policies.models import ChildProtectionPolicy, Membership, Unit
from tests.conftest import make_staff, make_unit


@pytest.fixture
def backup(django_user_model, unit):
    user = make_staff(django_user_model, "backup", unit, Membership.Role.FOCAL_POINT)
    Membership.objects.filter(user=user).update(is_backup=True)
    return user


def draft_form_data(client, unit) -> dict:
    client.post(reverse("policies:new_draft", args=[unit.code]))
    form = client.get(reverse("policies:edit", args=[unit.code])).context["form"]
    return {
        name: ("" if value is None else getattr(value, "pk", value))
        for name, value in form.initial.items()
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0", "Give children at least 7 days to ask for a review."),
        ("6", "Give children at least 7 days to ask for a review."),
        ("366", "Give at most 365 days."),
        ("thirty", "Write a number of days, like 30."),
    ],
)
def test_a_bad_review_window_is_refused_clearly_and_nothing_typed_is_lost(
    staff_client, unit, focal_point, backup, manager, typed, message
):
    client = staff_client(manager)
    data = draft_form_data(client, unit)
    assert data["review_window_days"] == 30  # the default
    data.update({"review_window_days": typed, "dl_standard_acknowledge": "48"})
    response = client.post(reverse("policies:edit", args=[unit.code]), data)
    assert response.status_code in (200, 400)
    html = response.content.decode()
    assert message in html
    assert 'value="48"' in html  # the rest of what was typed comes back
    draft = ChildProtectionPolicy.objects.get(unit=unit, published_at=None)
    assert draft.review_window_days == 30


@pytest.mark.django_db
def test_the_window_is_saved_published_and_printed_with_an_oversight_unit(
    client, staff_client, unit, focal_point, backup, manager
):
    oversight = make_unit("OVR1", sector=Unit.Sector.OVERSIGHT)
    staff = staff_client(manager)
    data = draft_form_data(staff, unit)
    poster = reverse("intake:poster", args=[unit.code])

    # No oversight unit: nobody to review, so the sheet offers no review, and the policy
    # page says so.
    assert "Ask for a review" not in staff.get(poster).content.decode()
    assert (
        'id="no-review"' in staff.get(reverse("policies:edit", args=[unit.code])).content.decode()
    )

    data.update({"review_window_days": "45", "oversight_unit": oversight.pk})
    assert staff.post(reverse("policies:edit", args=[unit.code]), data).status_code == 302
    staff.post(reverse("policies:publish", args=[unit.code]))
    policy = ChildProtectionPolicy.objects.get(unit=unit, version=2)
    assert policy.published_at is not None and policy.review_window_days == 45
    for name in ("intake:poster", "intake:leaflet"):
        html = client.get(reverse(name, args=[unit.code])).content.decode()
        assert "Ask for a review within 45 days: text REVIEW or use your code." in html
