"""Issue 6's proof: a copy of the database plus every server setting and key file
opens no narrative; one focal point's password opens exactly the cases routed to them.

The "thief" below works from a raw dump (every row of every table) and the server's
key ring, through the same cryptographic primitives the service uses."""

import json

import pytest

from competencies.models import StaffMember
from complaints.services import complaint_receive, followup_add_message
from complaints.triage import case_mark_about_staff
from policies.models import ChildProtectionPolicy, Membership, Unit
from tests.conftest import PASSWORD, make_staff, make_unit, staff_key_ready
from vault import crypto
from vault.keys import reader_approve

from .thief import dump_database, thief


def receive(unit, text):
    return complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative=text,
        category="neglect",
        in_danger=False,
        about_staff_answer="no",
        contact_preference="none",
    ).case


@pytest.mark.django_db
def test_the_server_cannot_read_and_each_person_reads_exactly_their_cases(
    settings, django_user_model
):
    police, office = make_unit("POL1"), make_unit("SOC2", sector=Unit.Sector.SOCIAL_SERVICES)
    oversight = make_unit("NCRC", sector=Unit.Sector.OVERSIGHT)
    ChildProtectionPolicy.objects.filter(unit__in=[police, office]).update(oversight_unit=oversight)
    amina = make_staff(django_user_model, "amina", police, Membership.Role.FOCAL_POINT)
    bakary = make_staff(django_user_model, "bakary", police, Membership.Role.FOCAL_POINT)
    chantal = make_staff(django_user_model, "chantal", office, Membership.Role.FOCAL_POINT)
    ombud = make_staff(django_user_model, "ombud", oversight, Membership.Role.FOCAL_POINT)
    boss = make_staff(django_user_model, "boss", police, Membership.Role.MANAGER)
    for user in (amina, bakary, chantal, ombud, boss):
        staff_key_ready(user)

    police_cases = [receive(police, f"police story {i}") for i in range(3)]
    office_cases = [receive(office, f"office story {i}") for i in range(2)]
    followup_add_message(case=police_cases[0], body="more words from the child")
    # A complaint about Amina: she loses her copy; Bakary keeps reading it.
    about_amina = receive(police, "it was Amina")
    case_mark_about_staff(
        case=about_amina,
        actor=bakary,
        staff_member=StaffMember.objects.create(unit=police, name="Amina", user=amina),
    )

    dump = dump_database()
    keyring = settings.RECOURSE_KEYRING
    raw = json.dumps(dump, default=str)
    assert "story" not in raw and "more words" not in raw and "it was Amina" not in raw

    assert thief(dump, keyring) == set()
    police_refs = {c.reference for c in police_cases}
    assert thief(dump, keyring, username="amina", password=PASSWORD) == police_refs
    assert thief(dump, keyring, username="bakary", password=PASSWORD) == police_refs | {
        about_amina.reference
    }
    assert thief(dump, keyring, username="chantal", password=PASSWORD) == {
        c.reference for c in office_cases
    }
    assert (
        thief(dump, keyring, username="boss", password=PASSWORD) == set()
    )  # managers read no narrative
    assert (
        thief(dump, keyring, username="ombud", password=PASSWORD) == set()
    )  # not escalated to them
    with pytest.raises(crypto.DecryptionError):
        thief(dump, keyring, username="amina", password="a guessed password")


@pytest.mark.django_db
def test_without_a_server_copy_the_people_still_do_their_work(
    settings, client, staff_client, unit, focal_point, django_user_model
):
    """The web flow end to end with the only key model there is."""
    from django.urls import reverse

    from tests.conftest import complaint_data, receipt_from

    staff_key_ready(focal_point)
    reference, code = receipt_from(
        client.post(
            reverse("intake:complaint_form", args=[unit.code]),
            complaint_data(narrative="Nobody else may read this."),
        )
    )
    staff = staff_client(focal_point)
    case_url = reverse("staff:case", args=[reference.replace("-", "")])
    assert "Nobody else may read this." in staff.get(case_url).content.decode()
    staff.post(case_url, {"template": "", "body": "We hear you."})
    client.post(reverse("intake:followup"), {"reference": reference, "code": code})
    assert "We hear you." in client.get(reverse("intake:followup_case")).content.decode()

    newcomer = make_staff(django_user_model, "newcomer", unit, Membership.Role.FOCAL_POINT)
    from django.test import Client

    other = Client()
    other.post(reverse("staff:login"), {"username": "newcomer", "password": PASSWORD})
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.conftest import totp_now

    other.post(reverse("staff:verify"), {"token": totp_now(TOTPDevice.objects.get(user=newcomer))})
    assert "You cannot read this case yet" in other.get(case_url).content.decode()
    staff.post(reverse("staff:logout"))
    staff.post(reverse("staff:login"), {"username": "focal", "password": PASSWORD})
    # A newcomer to a case filed before they joined waits for someone else's approval.
    assert "You cannot read this case yet" in other.get(case_url).content.decode()
    reader_approve(unit=unit, reader=newcomer, approver=focal_point)
    staff.post(reverse("staff:logout"))
    staff.post(reverse("staff:login"), {"username": "focal", "password": PASSWORD})  # grants
    assert "Nobody else may read this." in other.get(case_url).content.decode()


@pytest.mark.django_db
def test_a_removed_focal_point_loses_access_and_recovery_grants_a_new_team(
    settings, django_user_model, monkeypatch
):
    import base64
    import io
    from io import StringIO

    from django.core.management import call_command

    from vault.keys import focal_point_removed

    police = make_unit("POL1")
    out = StringIO()
    call_command("recovery_key_create", "--unit", "POL1", stdout=out)
    recovery_private = out.getvalue().strip().splitlines()[-1]
    police.refresh_from_db()
    amina = make_staff(django_user_model, "amina", police, Membership.Role.FOCAL_POINT)
    staff_key_ready(amina)
    cases = {receive(police, f"story {i}").reference for i in range(2)}
    keyring = settings.RECOURSE_KEYRING
    assert thief(dump_database(), keyring, username="amina", password=PASSWORD) == cases

    membership = Membership.objects.get(user=amina)
    membership.is_active = False
    membership.save()
    focal_point_removed(membership=membership)
    assert thief(dump_database(), keyring, username="amina", password=PASSWORD) == set()

    # Amina's successor arrives after the cases: the recovery key gives her access.
    dado = make_staff(django_user_model, "dado", police, Membership.Role.FOCAL_POINT)
    staff_key_ready(dado)
    assert thief(dump_database(), keyring, username="dado", password=PASSWORD) == set()
    monkeypatch.setattr("sys.stdin", io.StringIO(recovery_private + "\n"))
    call_command("recovery_grant", "--unit", "POL1", stdout=StringIO())
    assert thief(dump_database(), keyring, username="dado", password=PASSWORD) == cases

    from django.core.management.base import CommandError

    erin = make_staff(django_user_model, "erin", police, Membership.Role.FOCAL_POINT)
    staff_key_ready(erin)
    monkeypatch.setattr("sys.stdin", io.StringIO(base64.b64encode(b"x" * 32).decode() + "\n"))
    with pytest.raises(CommandError, match="recovery key"):
        call_command("recovery_grant", "--unit", "POL1", stdout=StringIO())
    assert thief(dump_database(), keyring, username="erin", password=PASSWORD) == set()


@pytest.mark.django_db
def test_deactivating_a_focal_point_in_the_admin_revokes_their_copies(
    client, settings, django_user_model
):
    from django.urls import reverse
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.conftest import staff_login
    from vault.models import CaseKey

    police = make_unit("POL1")
    amina = make_staff(django_user_model, "amina", police, Membership.Role.FOCAL_POINT)
    staff_key_ready(amina)
    receive(police, "story")
    assert CaseKey.objects.filter(holder_kind="user", holder_id=str(amina.pk)).exists()
    root = django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    TOTPDevice.objects.create(user=root, name="phone", confirmed=True)
    staff_login(client, root)
    membership = Membership.objects.get(user=amina)
    response = client.post(
        reverse("admin:policies_unit_change", args=[police.pk]),
        {
            "code": "POL1",
            "name": police.name,
            "sector": police.sector,
            "default_language": "en",
            "time_zone": "UTC",
            "is_active": "on",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "1",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
            "memberships-0-id": membership.pk,
            "memberships-0-unit": police.pk,
            "memberships-0-user": amina.pk,
            "memberships-0-role": "focal_point",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not Membership.objects.get(pk=membership.pk).is_active
    assert not CaseKey.objects.filter(holder_kind="user", holder_id=str(amina.pk)).exists()
