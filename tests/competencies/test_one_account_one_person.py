"""One staff account is one person: it is linked to at most one entry of a unit's roster
(else cases about someone else become closed to it). Substantiating against oneself
routes the case away from the actor: they land on their queue, not on a 404, and the
backup is told the case was routed to them, not that a new case arrived."""

import re

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse

from competencies.models import StaffMember
from competencies.services import sector_competencies, staff_member_link
from complaints.lifecycle import case_transition
from complaints.models import Case
from complaints.services import ComplaintError, complaint_receive
from complaints.triage import case_reassign, case_recuse
from notifications.models import Notification
from notifications.services import notification_deliver
from policies.models import Membership
from tests.conftest import make_staff


def receive(unit):
    return complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative="He shouted at me.",
        category="neglect",
        in_danger=False,
        about_staff_answer="yes",
        contact_preference="none",
    ).case


@pytest.fixture
def backup(django_user_model, unit, focal_point):
    """Created after `focal_point`, so `focal_point` is assigned first."""
    return make_staff(django_user_model, "backup", unit, Membership.Role.FOCAL_POINT)


# --- Defect 1: one account, one roster entry -------------------------------------------------


@pytest.mark.django_db
def test_an_account_linked_to_one_person_cannot_be_linked_to_another(
    staff_client, unit, focal_point, backup, manager
):
    moussa = StaffMember.objects.create(unit=unit, name="Moussa Diop")
    aminata = StaffMember.objects.create(unit=unit, name="Aminata Sow")
    client = staff_client(manager)
    roster = reverse("competencies:roster", args=[unit.code])
    client.post(
        reverse("competencies:roster_link", args=[unit.code, moussa.pk]), {"user": focal_point.pk}
    )
    moussa.refresh_from_db()
    assert moussa.user == focal_point

    # The dropdown of Aminata no longer offers the account linked to Moussa.
    page = client.get(roster).content.decode()
    select = re.search(
        rf'<select name="user" id="link-{aminata.pk}".*?</select>', page, re.S
    ).group(0)
    assert f'value="{focal_point.pk}"' not in select and f'value="{backup.pk}"' in select

    # A forged or stale form is refused, naming the entry the account is linked to.
    response = client.post(
        reverse("competencies:roster_link", args=[unit.code, aminata.pk]),
        {"user": focal_point.pk},
        follow=True,
    )
    assert response.status_code == 200
    assert (
        "The account focal is already linked to Moussa Diop on this roster."
        in response.content.decode()
    )
    aminata.refresh_from_db()
    assert aminata.user is None

    # Once Moussa is unlinked, the account is offered (and linkable) again.
    client.post(reverse("competencies:roster_link", args=[unit.code, moussa.pk]), {"unlink": "1"})
    client.post(
        reverse("competencies:roster_link", args=[unit.code, aminata.pk]), {"user": focal_point.pk}
    )
    aminata.refresh_from_db()
    assert aminata.user == focal_point


@pytest.mark.django_db
def test_the_service_and_the_database_refuse_a_second_link(unit, other_unit, focal_point, manager):
    moussa = StaffMember.objects.create(unit=unit, name="Moussa Diop", user=focal_point)
    aminata = StaffMember.objects.create(unit=unit, name="Aminata Sow")
    with pytest.raises(ComplaintError, match="already linked to Moussa Diop"):
        staff_member_link(staff_member=aminata, user=focal_point, actor=manager)
    # Linking the same entry again is no conflict with itself.
    staff_member_link(staff_member=moussa, user=focal_point, actor=manager)
    with pytest.raises(IntegrityError), transaction.atomic():
        StaffMember.objects.filter(pk=aminata.pk).update(user=focal_point)
    # Unlinked entries are many; the same account on another unit's roster is allowed.
    StaffMember.objects.create(unit=unit, name="Awa")
    StaffMember.objects.create(unit=other_unit, name="Moussa Diop", user=focal_point)


# --- Defect 2: substantiating against oneself -------------------------------------------------


@pytest.fixture
def investigating(unit, focal_point, backup):
    case = receive(unit)
    assert case.assignee_id == focal_point.pk
    for status in ("acknowledged", "assessing", "investigating"):
        case_transition(case=case, actor=focal_point, to_status=status)
    Notification.objects.all().delete()
    return case


@pytest.mark.django_db
def test_substantiating_against_oneself_lands_on_the_queue_and_tells_the_backup_truthfully(
    staff_client, unit, focal_point, backup, investigating
):
    me = StaffMember.objects.create(unit=unit, name="Moussa Diop", user=focal_point)
    competency = sector_competencies(unit).first()
    client = staff_client(focal_point)
    response = client.post(
        reverse("staff:case_substantiate", args=[investigating.reference]),
        {
            "substantiate-staff_member": me.pk,
            "substantiate-reason": "Confirmed",
            f"substantiate-breach_{competency.pk}": ["skills"],
        },
        follow=True,
    )
    assert response.redirect_chain == [(reverse("staff:queue"), 302)]
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Case {investigating.display_reference} was routed away from you." in page
    assert "Substantiated. Retraining is assigned and the manager told." in page

    investigating.refresh_from_db()
    assert investigating.status == Case.Status.SUBSTANTIATED
    assert investigating.assignee_id == backup.pk
    notices = Notification.objects.filter(case=investigating, recipient=backup)
    assert [n.kind for n in notices] == [Notification.Kind.ROUTED_TO_YOU]
    assert not Notification.objects.filter(kind=Notification.Kind.NEW_CASE).exists()
    notification_deliver(notices.get().pk)
    email = mail.outbox[-1]
    assert email.to == [backup.email]
    assert email.subject == (
        f"[Recourse] Case {investigating.display_reference} ({unit.code}) was routed to you"
    )
    assert "already decided (Substantiated)" in email.body and "no deadline" in email.body
    assert "New case" not in email.subject + email.body
    assert "Acknowledge" not in email.body


@pytest.mark.django_db
def test_an_open_case_under_way_routed_or_reassigned_is_not_announced_as_new(
    django_user_model, unit, focal_point, backup, investigating
):
    case_recuse(case=investigating, actor=focal_point, reason="I know the family")
    investigating.refresh_from_db()
    assert investigating.assignee_id == backup.pk
    notice = Notification.objects.get(case=investigating, recipient=backup)
    assert notice.kind == Notification.Kind.ROUTED_TO_YOU
    notification_deliver(notice.pk)
    body = mail.outbox[-1].body
    assert "already under way (Being investigated)" in body and "Its next deadline:" in body
    third = make_staff(django_user_model, "third", unit, Membership.Role.FOCAL_POINT)
    case_reassign(case=investigating, actor=backup, assignee_id=third.pk)
    assert Notification.objects.get(recipient=third).kind == Notification.Kind.ROUTED_TO_YOU


@pytest.mark.django_db
def test_a_case_nobody_acknowledged_is_still_a_new_case_for_whoever_it_is_routed_to(
    unit, focal_point, backup
):
    case = receive(unit)
    Notification.objects.all().delete()
    case_recuse(case=case, actor=focal_point, reason="I know the family")
    assert Notification.objects.get(case=case, recipient=backup).kind == Notification.Kind.NEW_CASE
