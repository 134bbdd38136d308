"""The tests run production's key model (no server copy of a case's key): pages that
need a key this browser no longer holds explain themselves, never a 500."""

import pytest
from django.conf import settings
from django.urls import reverse

from complaints.lifecycle import case_transition
from complaints.models import Case
from tests.conftest import complaint_data, receipt_from
from vault.models import CaseKey


@pytest.mark.django_db
def test_a_case_key_is_wrapped_to_people_only(file_complaint, unit, focal_point):
    file_complaint(unit)
    assert set(CaseKey.objects.values_list("holder_kind", "holder_id")) == {
        ("user", str(focal_point.pk)),
        ("reporter", "reporter"),
    }


@pytest.mark.django_db
def test_the_follow_up_page_without_its_key_cookie_asks_for_the_code_again(
    client, unit, focal_point, file_complaint
):
    reference, code = receipt_from(file_complaint(unit))
    client.post(reverse("intake:followup"), {"reference": reference, "code": code})
    client.cookies.pop("recourse_rk", None)
    for name in list(client.cookies):
        if name not in (
            settings.SESSION_COOKIE_NAME,
            settings.CSRF_COOKIE_NAME,
            settings.LANGUAGE_COOKIE_NAME,
        ):
            client.cookies.pop(name)  # the key half kept in a cookie is gone
    response = client.get(reverse("intake:followup_case"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="messages-locked"' in html and reverse("intake:followup") in html


@pytest.mark.django_db
def test_referring_from_a_browser_without_the_key_explains_itself(
    client, staff_client, unit, other_unit, focal_point, outsider
):
    client.post(reverse("intake:complaint_form", args=[unit.code]), complaint_data())
    case = Case.objects.get()
    for status in ("acknowledged", "assessing"):
        case_transition(case=case, actor=focal_point, to_status=status)
    staff = staff_client(focal_point)
    for name in list(staff.cookies):
        if name not in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME):
            staff.cookies.pop(name)  # the session, but not the cookie half of the key
    response = staff.post(
        reverse("staff:case_refer", args=[case.reference]),
        {"to_unit": other_unit.pk, "consent": "on", "reason": "x"},
        follow=True,
    )
    assert response.status_code == 200
    assert "holds no key to this case" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "assessing" and Case.objects.count() == 1


@pytest.mark.django_db
def test_migrating_a_database_that_still_has_server_copies_stops_and_says_how(file_complaint, unit):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("complaints.migrations.0013_no_server_copy")

    class AppsOfThatTime:
        # In 0013, CaseKey was complaints'; today the same table is vault's model.
        def get_model(self, app_label, model_name):
            return apps.get_model("vault" if model_name == "CaseKey" else app_label, model_name)

    file_complaint(unit)
    migration.refuse_server_copies(AppsOfThatTime(), None)  # nothing to move: it goes on
    CaseKey.objects.create(
        case=Case.objects.get(),
        holder_kind="server",
        holder_id="k1",
        wrapped_key=b"from an old release",
    )
    with pytest.raises(RuntimeError, match="1 cases still have a server copy.*case_keys_migrate"):
        migration.refuse_server_copies(AppsOfThatTime(), None)
