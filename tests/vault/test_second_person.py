"""Nobody becomes a reader of past cases without a second person: every membership
change is on the audit chain, a newcomer reads earlier cases only once someone else
approved, and the unit's managers and oversight unit are told of every new reader."""

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from competencies.models import Competency, StaffMember
from competencies.services import Breach, case_substantiate
from complaints.lifecycle import case_transition
from complaints.models import AuditEvent, CaseExclusion
from complaints.services import complaint_receive
from notifications.models import Notification
from policies.models import ChildProtectionPolicy, Membership, Unit
from tests.conftest import PASSWORD, make_staff, make_unit, staff_login, staff_reads
from vault.keys import ApprovalRefused, reader_approve, readers_waiting
from vault.models import CaseKey


def receive(unit):
    return complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative="A past story.",
        category="neglect",
        in_danger=False,
        about_staff_answer="no",
        contact_preference="none",
    ).case


def holds(case, user) -> bool:
    return CaseKey.objects.filter(case=case, holder_kind="user", holder_id=str(user.pk)).exists()


def holder_signs_in(user) -> None:
    Client().post(reverse("staff:login"), {"username": user.username, "password": PASSWORD})


@pytest.mark.django_db
def test_an_admin_who_makes_themselves_a_focal_point_reads_no_past_case(
    client, unit, focal_point, manager, django_user_model
):
    oversight = make_unit("NCRC", sector=Unit.Sector.OVERSIGHT)
    ombud = make_staff(django_user_model, "ombud", oversight, Membership.Role.FOCAL_POINT)
    ChildProtectionPolicy.objects.filter(unit=unit).update(oversight_unit=oversight)
    past = receive(unit)
    root = django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    TOTPDevice.objects.create(user=root, name="phone", confirmed=True)
    staff_login(client, root)
    response = client.post(
        reverse("admin:policies_unit_change", args=[unit.pk]),
        {
            "code": unit.code,
            "name": unit.name,
            "sector": unit.sector,
            "default_language": "en",
            "time_zone": "UTC",
            "is_active": "on",
            "memberships-TOTAL_FORMS": "3",
            "memberships-INITIAL_FORMS": "2",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
            **{
                f"memberships-{i}-{k}": v
                for i, m in enumerate(Membership.objects.filter(unit=unit).order_by("pk"))
                for k, v in {
                    "id": m.pk,
                    "unit": unit.pk,
                    "user": m.user_id,
                    "role": m.role,
                    "is_active": "on",
                }.items()
            },
            "memberships-2-unit": unit.pk,
            "memberships-2-user": root.pk,
            "memberships-2-role": "focal_point",
            "memberships-2-is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    # On the audit chain, with the admin as the actor.
    event = AuditEvent.objects.get(action="staff.membership.added")
    assert event.actor == root and event.data["user"] == root.pk and event.data["unit"] == unit.code
    # The unit's managers and the oversight unit are told (metadata only).
    told = set(
        Notification.objects.filter(kind=Notification.Kind.NEW_READER).values_list(
            "recipient_id", flat=True
        )
    )
    assert told == {manager.pk, ombud.pk}
    # A holder signs in: the admin gets no copy of the past case...
    from vault.keys import staff_key_create

    staff_key_create(user=root, password=PASSWORD)
    holder_signs_in(focal_point)
    assert not holds(past, root) and readers_waiting(unit=unit) == [root]
    # ...and cannot approve themselves.
    with pytest.raises(ApprovalRefused):
        reader_approve(unit=unit, reader=root, approver=root)
    # A case filed from now on reaches them by routing, as it does everyone.
    later = receive(unit)
    assert holds(later, root) or later.assignee_id == focal_point.pk


@pytest.mark.django_db
def test_a_manager_or_a_holder_approves_and_the_next_sign_in_grants(
    unit, focal_point, manager, other_unit, outsider, django_user_model
):
    past = receive(unit)
    newcomer = make_staff(django_user_model, "newcomer", unit, Membership.Role.FOCAL_POINT)
    stranger = make_staff(django_user_model, "stranger", unit, Membership.Role.FOCAL_POINT)
    holder_signs_in(focal_point)
    assert not holds(past, newcomer)
    with pytest.raises(ApprovalRefused):
        reader_approve(unit=unit, reader=newcomer, approver=outsider)  # another unit
    with pytest.raises(ApprovalRefused):
        reader_approve(unit=unit, reader=newcomer, approver=stranger)  # holds nothing yet
    reader_approve(unit=unit, reader=newcomer, approver=manager)
    assert AuditEvent.objects.filter(action="staff.reader.approved", actor=manager).exists()
    holder_signs_in(focal_point)
    assert holds(past, newcomer)
    assert staff_reads(past, newcomer).narrative == "A past story."
    assert readers_waiting(unit=unit) == [stranger]
    reader_approve(unit=unit, reader=stranger, approver=newcomer)  # now a holder
    holder_signs_in(newcomer)
    assert holds(past, stranger)


@pytest.mark.django_db
def test_the_readers_page_approves_someone_else_never_oneself(
    staff_client, unit, focal_point, manager, django_user_model
):
    receive(unit)
    newcomer = make_staff(django_user_model, "newcomer", unit, Membership.Role.FOCAL_POINT)
    url = reverse("policies:readers", args=[unit.code])
    newcomer_client = staff_client(newcomer)
    assert "newcomer" in newcomer_client.get(url).content.decode()
    newcomer_client.post(url, {"reader": newcomer.pk}, follow=True)
    assert readers_waiting(unit=unit) == [newcomer]
    newcomer_client.post(reverse("staff:logout"))
    manager_client = staff_client(manager)
    page = manager_client.post(url, {"reader": newcomer.pk}, follow=True).content.decode()
    assert "can read TST1" in page and readers_waiting(unit=unit) == []


@pytest.mark.django_db
def test_naming_a_staff_member_with_an_account_excludes_them_and_revokes_their_copy(
    unit, focal_point, django_user_model
):
    colleague = make_staff(django_user_model, "colleague", unit, Membership.Role.FOCAL_POINT)
    case = receive(unit)
    assert holds(case, colleague)
    for status in ("acknowledged", "assessing", "investigating"):
        case_transition(case=case, actor=focal_point, to_status=status)
    case.refresh_from_db()
    officer = StaffMember.objects.create(
        unit=unit,
        name="Colleague",
        role_title="Focal point",
        in_service_since=date(2015, 3, 1),
        user=colleague,
    )
    competency = Competency.objects.filter(framework__sector=unit.sector).first()
    case_substantiate(
        case=case,
        actor=focal_point,
        staff_member=officer,
        reason="Confirmed",
        breaches=[Breach(competency=competency, facets=["skills"])],
    )
    assert CaseExclusion.objects.filter(case=case, user=colleague, reason="subject").exists()
    assert not holds(case, colleague)


@pytest.mark.django_db
def test_oversight_after_escalation_waits_asks_and_reads_at_a_holders_next_sign_in(
    staff_client, unit, focal_point, manager, django_user_model
):
    """Time from escalation to readable: the next sign-in of any holder. The escalation
    asks the holders to sign in at once; the oversight unit can ask again."""
    from datetime import timedelta

    from complaints.escalation import escalation_sweep

    oversight = make_unit("NCRC", sector=Unit.Sector.OVERSIGHT)
    ombud = make_staff(django_user_model, "ombud", oversight, Membership.Role.FOCAL_POINT)
    ChildProtectionPolicy.objects.filter(unit=unit).update(oversight_unit=oversight)
    case = receive(unit)
    for hours in (73, 146, 219):  # standard: acknowledge within 72 h, one step per window
        escalation_sweep(now=case.received_at + timedelta(hours=hours))
    case.refresh_from_db()
    assert case.escalation_level == 3
    # The escalation itself asked the holders (not the oversight unit) to sign in.
    asked = Notification.objects.filter(case=case, kind=Notification.Kind.ACCESS_NEEDED)
    assert set(asked.values_list("recipient_id", flat=True)) == {focal_point.pk}

    ombud_client = staff_client(ombud)
    url = reverse("staff:case", args=[case.reference])
    page = ombud_client.get(url).content.decode()
    assert "waiting for access" in page and "A past story." not in page
    ombud_client.post(reverse("staff:case_access_request", args=[case.reference]))
    asked = Notification.objects.filter(case=case, kind=Notification.Kind.ACCESS_NEEDED)
    assert set(asked.values_list("recipient_id", flat=True)) == {focal_point.pk, manager.pk}
    assert asked.count() == 3
    ombud_client.post(reverse("staff:case_access_request", args=[case.reference]))
    assert asked.count() == 3  # once an hour
    assert (
        AuditEvent.objects.filter(action="complaints.case.access_requested", actor=ombud).count()
        == 1
    )

    holder_signs_in(focal_point)
    assert "A past story." in ombud_client.get(url).content.decode()
