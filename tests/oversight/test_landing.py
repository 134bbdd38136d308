"""Where signing in leads: a manager to their units' compliance summary, not an empty
queue; anyone who also handles cases to the queue."""

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from policies.models import Membership
from tests.conftest import PASSWORD, totp_now


def sign_in(client, user, next_url: str | None = None) -> str:
    """The two steps as a browser takes them; the address the second one leads to."""
    login_url = reverse("staff:login") + (f"?next={next_url}" if next_url else "")
    response = client.post(
        login_url,
        {
            "username": user.username,
            "password": PASSWORD,
            **({"next": next_url} if next_url else {}),
        },
    )
    assert response.status_code == 302
    # The password step leads to the page asked for, which asks for the second factor.
    response = client.get(response["Location"])
    assert response.status_code == 302 and response["Location"].startswith(reverse("staff:verify"))
    verify_url = response["Location"]
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    response = client.post(
        verify_url, {"token": totp_now(device), "next": client.get(verify_url).context["next"]}
    )
    assert response.status_code == 302, response.content
    return response["Location"]


@pytest.mark.django_db
def test_a_manager_lands_on_the_compliance_summary(client, unit, manager):
    assert sign_in(client, manager) == reverse("oversight:compliance")
    page = client.get(reverse("oversight:compliance"))
    assert page.status_code == 200 and unit.name in page.content.decode()


@pytest.mark.django_db
def test_a_manager_who_opens_the_staff_address_lands_there_too(client, unit, manager):
    assert sign_in(client, manager, next_url=reverse("staff:queue")) == reverse(
        "oversight:compliance"
    )


@pytest.mark.django_db
def test_a_focal_point_lands_on_the_queue(client, unit, focal_point):
    assert sign_in(client, focal_point) == reverse("staff:queue")


@pytest.mark.django_db
def test_a_manager_who_is_also_a_focal_point_lands_on_the_queue(
    client, unit, focal_point, other_unit
):
    # Cases with deadlines in hours come first; the queue links to the review.
    Membership.objects.create(user=focal_point, unit=other_unit, role=Membership.Role.MANAGER)
    assert sign_in(client, focal_point) == reverse("staff:queue")
    assert reverse("oversight:compliance") in client.get(reverse("staff:queue")).content.decode()


@pytest.mark.django_db
def test_a_page_asked_for_is_where_sign_in_leads(client, unit, manager):
    wanted = reverse("competencies:retraining", args=[unit.code])
    assert sign_in(client, manager, next_url=wanted) == wanted
