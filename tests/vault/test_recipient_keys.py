"""Issue 6, first part: at intake the case's data key is also wrapped to each reader's
public key and to the unit's recovery key."""

import base64
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from complaints.services import complaint_receive
from policies.models import ChildProtectionPolicy, Membership, Unit
from tests.conftest import PASSWORD, child_sees, make_staff, make_unit, staff_key_ready
from vault import crypto
from vault.keys import reader_approve, staff_key_rewrap
from vault.models import CaseKey, StaffKey

NARRATIVE = "The guard kept me alone in the dark room."


def receive(unit):
    return complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative=NARRATIVE,
        category="neglect",
        in_danger=False,
        about_staff_answer="no",
        contact_preference="none",
    ).case


def narrative_with(case, holder_kind, holder_id, private_key):
    envelope = CaseKey.objects.get(case=case, holder_kind=holder_kind, holder_id=holder_id)
    holder = f"{'user' if holder_kind == 'user' else 'recovery'}:{holder_id}"
    data_key = crypto.unwrap_data_key_with_private(
        envelope.wrapped_key, private_key, case_id=case.id, holder=holder
    )
    return crypto.decrypt_text(
        data_key, case.narrative, context=crypto.field_context("case", case.id, "narrative")
    )


@pytest.mark.django_db
def test_each_reader_gets_a_copy_that_their_password_opens(
    unit, focal_point, manager, django_user_model
):
    colleague = make_staff(django_user_model, "colleague", unit, Membership.Role.FOCAL_POINT)
    for user in (focal_point, colleague, manager):
        staff_key_ready(user)
    case = receive(unit)
    copies = set(
        CaseKey.objects.filter(case=case, holder_kind="user").values_list("holder_id", flat=True)
    )
    assert copies == {str(focal_point.pk), str(colleague.pk)}  # never the manager
    private = crypto.unwrap_private_key(focal_point.staff_key.wrapped_private_key, PASSWORD)
    assert narrative_with(case, "user", str(focal_point.pk), private) == NARRATIVE


@pytest.mark.django_db
def test_the_oversight_unit_gets_no_copy_before_escalation(unit, focal_point, django_user_model):
    oversight = make_unit("NCRC", sector=Unit.Sector.OVERSIGHT)
    ombud = make_staff(django_user_model, "ombud", oversight, Membership.Role.FOCAL_POINT)
    ChildProtectionPolicy.objects.filter(unit=unit).update(oversight_unit=oversight)
    for user in (focal_point, ombud):
        staff_key_ready(user)
    case = receive(unit)
    assert not CaseKey.objects.filter(case=case, holder_id=str(ombud.pk)).exists()
    assert CaseKey.objects.filter(case=case, holder_id=str(focal_point.pk)).exists()


@pytest.mark.django_db
def test_recovery_key_opens_every_new_case_and_is_not_stored(unit, focal_point):
    out = StringIO()
    call_command("recovery_key_create", "--unit", unit.code, stdout=out)
    private = base64.b64decode(out.getvalue().strip().splitlines()[-1])
    unit.refresh_from_db()
    assert private not in bytes(unit.recovery_public_key)
    case = receive(unit)
    assert narrative_with(case, "recovery", unit.code, private) == NARRATIVE


@pytest.mark.django_db
def test_password_change_keeps_the_key_pair(unit, focal_point):
    staff_key_ready(focal_point)
    case = receive(unit)
    staff_key_rewrap(user=focal_point, old_password=PASSWORD, new_password="a new long passphrase")
    key = StaffKey.objects.get(user=focal_point)
    private = crypto.unwrap_private_key(key.wrapped_private_key, "a new long passphrase")
    assert narrative_with(case, "user", str(focal_point.pk), private) == NARRATIVE
    with pytest.raises(crypto.DecryptionError):
        crypto.unwrap_private_key(key.wrapped_private_key, PASSWORD)


@pytest.mark.django_db
def test_login_puts_the_private_key_in_the_session_only_wrapped(client, unit, focal_point):
    client.post(reverse("staff:login"), {"username": "focal", "password": PASSWORD})
    key = StaffKey.objects.get(user=focal_point)  # created at first login
    cookie = client.cookies["recourse_rk"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    blob = base64.b64decode(client.session["private_key_blob"])
    private = crypto.session_unwrap_private_key(blob, base64.urlsafe_b64decode(cookie.value))
    assert private == crypto.unwrap_private_key(key.wrapped_private_key, PASSWORD)
    assert private not in blob
    client.post(reverse("staff:logout"))
    assert client.cookies["recourse_rk"].value == ""


@pytest.mark.django_db
def test_recusal_removes_the_copy_and_a_later_focal_point_is_granted_at_a_colleagues_login(
    client, unit, focal_point, django_user_model
):
    from complaints.triage import case_recuse

    colleague = make_staff(django_user_model, "colleague", unit, Membership.Role.FOCAL_POINT)
    for user in (focal_point, colleague):
        staff_key_ready(user)
    case = receive(unit)
    case_recuse(case=case, actor=colleague, reason="My neighbour")
    assert not CaseKey.objects.filter(case=case, holder_id=str(colleague.pk)).exists()

    newcomer = make_staff(django_user_model, "newcomer", unit, Membership.Role.FOCAL_POINT)
    staff_key_ready(newcomer)
    assert not CaseKey.objects.filter(case=case, holder_id=str(newcomer.pk)).exists()
    client.post(reverse("staff:login"), {"username": "focal", "password": PASSWORD})
    # Joined after the case was filed: nothing until someone else approves.
    assert not CaseKey.objects.filter(case=case, holder_id=str(newcomer.pk)).exists()
    reader_approve(unit=unit, reader=newcomer, approver=focal_point)
    client.post(reverse("staff:login"), {"username": "focal", "password": PASSWORD})
    private = crypto.unwrap_private_key(
        StaffKey.objects.get(user=newcomer).wrapped_private_key, PASSWORD
    )
    assert narrative_with(case, "user", str(newcomer.pk), private) == NARRATIVE
    # The recused colleague is not granted again.
    assert not CaseKey.objects.filter(case=case, holder_id=str(colleague.pk)).exists()


@pytest.mark.django_db
def test_escalation_to_oversight_grants_its_copies_at_a_holders_next_login(
    client, unit, focal_point, django_user_model
):
    from datetime import timedelta

    from complaints.escalation import escalation_sweep

    oversight = make_unit("NCRC", sector=Unit.Sector.OVERSIGHT)
    ombud = make_staff(django_user_model, "ombud", oversight, Membership.Role.FOCAL_POINT)
    ChildProtectionPolicy.objects.filter(unit=unit).update(oversight_unit=oversight)
    for user in (focal_point, ombud):
        staff_key_ready(user)
    case = receive(unit)
    start = case.received_at
    for hours in (73, 146, 219):  # standard: acknowledge within 72 h, one step per window
        escalation_sweep(now=start + timedelta(hours=hours))
    assert not CaseKey.objects.filter(case=case, holder_id=str(ombud.pk)).exists()
    client.post(reverse("staff:login"), {"username": "focal", "password": PASSWORD})
    private = crypto.unwrap_private_key(
        StaffKey.objects.get(user=ombud).wrapped_private_key, PASSWORD
    )
    assert narrative_with(case, "user", str(ombud.pk), private) == NARRATIVE


@pytest.mark.django_db
def test_adding_a_message_never_unwraps_the_data_key(unit, focal_point, monkeypatch):
    from complaints.services import followup_add_message

    case = receive(unit)

    def refuse(*args, **kwargs):
        raise AssertionError("the server unwrapped a data key to write")

    monkeypatch.setattr(crypto, "unwrap_data_key_with_private", refuse)
    monkeypatch.setattr(crypto, "unwrap_private_key", refuse)
    followup_add_message(case=case, body="It happened again.")
    monkeypatch.undo()
    assert child_sees(case) == ["It happened again."]


@pytest.mark.django_db
def test_a_signed_in_focal_point_reads_through_their_own_key(staff_client, unit, focal_point):
    from complaints.models import AuditEvent

    staff_key_ready(focal_point)
    case = receive(unit)
    client = staff_client(focal_point)
    assert NARRATIVE in client.get(reverse("staff:case", args=[case.reference])).content.decode()
    assert AuditEvent.objects.get(action="complaints.case.decrypted").data == {"via": "own key"}
    # Another browser with the session but not the cookie: no key at hand, and no server
    # copy to fall back on. The page says so; nothing is decrypted.
    client.cookies.pop("recourse_rk")
    response = client.get(reverse("staff:case", args=[case.reference]))
    assert response.status_code == 200 and NARRATIVE not in response.content.decode()
    assert AuditEvent.objects.filter(action="complaints.case.decrypted").count() == 1


@pytest.mark.django_db
def test_the_child_reads_replies_through_the_key_their_code_derives(client, unit, focal_point):
    from complaints.services import case_reply
    from tests.conftest import complaint_data, receipt_from

    reference, code = receipt_from(
        client.post(reverse("intake:complaint_form", args=[unit.code]), complaint_data())
    )
    case = CaseKey.objects.get(holder_kind="reporter").case
    case_reply(case=case, actor=focal_point, body="We are sorry this happened.")
    client.post(reverse("intake:followup"), {"reference": reference, "code": code})
    assert client.cookies["recourse_fk"]["samesite"] == "Strict"
    page = client.get(reverse("intake:followup_case")).content.decode()
    assert "We are sorry this happened." in page
    client.post(reverse("intake:followup_leave"))
    assert client.cookies["recourse_fk"].value == ""


@pytest.mark.django_db
def test_changing_the_password_keeps_every_case_readable(settings, staff_client, unit, focal_point):
    staff_key_ready(focal_point)
    case = receive(unit)
    client = staff_client(focal_point)
    response = client.post(
        reverse("staff:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another long passphrase 42",
            "new_password2": "another long passphrase 42",
        },
    )
    assert response.status_code == 302
    private = crypto.unwrap_private_key(
        StaffKey.objects.get(user=focal_point).wrapped_private_key, "another long passphrase 42"
    )
    assert narrative_with(case, "user", str(focal_point.pk), private) == NARRATIVE


@pytest.mark.django_db
def test_a_reset_password_means_a_new_key_said_plainly_and_the_queue_shows_what_waits(
    settings, client, staff_client, unit, focal_point
):
    staff_key_ready(focal_point)
    case = receive(unit)
    focal_point.set_password("reset by the administrator 1")
    focal_point.save()
    response = client.post(
        reverse("staff:login"),
        {"username": "focal", "password": "reset by the administrator 1"},
        follow=True,
    )
    assert "you have a new key" in response.content.decode()
    assert not CaseKey.objects.filter(
        case=case, holder_kind="user", holder_id=str(focal_point.pk)
    ).exists()
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.conftest import totp_now

    client.post(
        reverse("staff:verify"), {"token": totp_now(TOTPDevice.objects.get(user=focal_point))}
    )
    queue = client.get(reverse("staff:queue")).content.decode()
    assert case.display_reference in queue and "cannot read yet" in queue


@pytest.mark.django_db
def test_keys_follow_a_case_rerouted_to_oversight_with_the_actors_own_key(
    settings, unit, focal_point, manager, django_user_model
):
    """The unit's focal points stop being readers when a complaint about their manager
    goes to the oversight body: they lose their copies at once, and the oversight focal
    point gets one from the acting person's key (no server copy anywhere)."""
    from competencies.models import StaffMember
    from complaints.triage import case_mark_about_staff

    oversight = make_unit("NCRC", sector=Unit.Sector.OVERSIGHT)
    ombud = make_staff(django_user_model, "ombud", oversight, Membership.Role.FOCAL_POINT)
    ChildProtectionPolicy.objects.filter(unit=unit).update(oversight_unit=oversight)
    colleague = make_staff(django_user_model, "colleague", unit, Membership.Role.FOCAL_POINT)
    for user in (focal_point, colleague, ombud):
        staff_key_ready(user)
    case = receive(unit)
    private = crypto.unwrap_private_key(focal_point.staff_key.wrapped_private_key, PASSWORD)
    chief = StaffMember.objects.create(unit=unit, name="The chief", user=manager)
    case_mark_about_staff(case=case, actor=focal_point, staff_member=chief, private_key=private)

    holders = set(
        CaseKey.objects.filter(case=case, holder_kind="user").values_list("holder_id", flat=True)
    )
    assert holders == {str(ombud.pk)}
    ombud_private = crypto.unwrap_private_key(
        StaffKey.objects.get(user=ombud).wrapped_private_key, PASSWORD
    )
    assert narrative_with(case, "user", str(ombud.pk), ombud_private) == NARRATIVE


@pytest.mark.django_db
def test_a_membership_change_revokes_only_what_the_person_may_no_longer_read(
    unit, focal_point, django_user_model
):
    from vault.keys import focal_point_removed

    colleague = make_staff(django_user_model, "colleague", unit, Membership.Role.FOCAL_POINT)
    both = make_staff(django_user_model, "both", unit, Membership.Role.FOCAL_POINT)
    Membership.objects.create(user=both, unit=unit, role=Membership.Role.MANAGER)
    for user in (focal_point, colleague, both):
        staff_key_ready(user)
    case = receive(unit)
    # A manager row removed from someone who stays a focal point: nothing is revoked.
    manager_row = Membership.objects.get(user=both, role=Membership.Role.MANAGER)
    manager_row.delete()
    focal_point_removed(membership=manager_row)
    assert CaseKey.objects.filter(case=case, holder_id=str(both.pk)).exists()
    # A focal point who becomes the unit's manager loses the copy.
    row = Membership.objects.get(user=colleague)
    row.role = Membership.Role.MANAGER
    row.save()
    focal_point_removed(membership=row)
    assert not CaseKey.objects.filter(case=case, holder_id=str(colleague.pk)).exists()
    assert CaseKey.objects.filter(case=case, holder_id=str(focal_point.pk)).exists()
