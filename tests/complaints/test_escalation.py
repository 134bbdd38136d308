from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ

from complaints import escalation
from complaints.escalation import escalation_sweep
from complaints.lifecycle import case_transition
from complaints.models import AuditEvent, Case, CaseEvent
from complaints.services import complaint_receive
from notifications.models import Notification
from notifications.tasks import requeue_due_deliveries
from policies.models import ChildProtectionPolicy, Membership, Unit
from tests.conftest import child_sees, make_staff, make_unit


@pytest.fixture
def chain(db, django_user_model, unit, focal_point, manager):
    """A unit with a primary and a backup focal point, a manager and an oversight unit."""
    backup = make_staff(django_user_model, "backup", unit, Membership.Role.FOCAL_POINT)
    Membership.objects.filter(user=backup).update(is_backup=True)
    oversight = make_unit("NCRC", sector=Unit.Sector.OVERSIGHT)
    ombud = make_staff(django_user_model, "ombud", oversight, Membership.Role.FOCAL_POINT)
    ChildProtectionPolicy.objects.filter(unit=unit).update(oversight_unit=oversight)
    return {"backup": backup, "manager": manager, "ombud": ombud, "focal": focal_point}


def receive(unit, in_danger=False):
    return complaint_receive(
        unit=unit,
        channel="web",
        language="fr",
        narrative="Il m'a frappé.",
        category="neglect",
        in_danger=in_danger,
        about_staff_answer="no",
        contact_preference="follow_up_page",
    ).case


def notified(kind=Notification.Kind.ESCALATION):
    return sorted(
        Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True)
    )


@pytest.mark.django_db
def test_each_step_is_taken_exactly_once_as_time_moves(unit, chain):
    case = receive(unit, in_danger=True)  # emergency: acknowledge within 1 h
    start = case.received_at
    assert escalation_sweep(now=start + timedelta(minutes=59)) == 0

    assert escalation_sweep(now=start + timedelta(minutes=61)) == 1
    assert notified() == ["backup"]
    assert escalation_sweep(now=start + timedelta(minutes=62)) == 0  # run twice: nothing more

    assert escalation_sweep(now=start + timedelta(minutes=122)) == 1
    assert notified() == ["backup", "manager"]

    assert escalation_sweep(now=start + timedelta(minutes=183)) == 1
    assert notified() == ["backup", "manager", "ombud"]
    assert escalation_sweep(now=start + timedelta(hours=30)) == 0  # the chain has ended

    case.refresh_from_db()
    assert case.escalation_level == 3
    assert CaseEvent.objects.filter(case=case, reason__startswith="Deadline missed").count() == 3
    assert AuditEvent.objects.filter(action="complaints.case.escalated").count() == 3


@pytest.mark.django_db
def test_after_a_long_outage_one_step_per_sweep_no_flood(unit, chain):
    cases = [receive(unit) for _ in range(3)]
    week_later = timezone.now() + timedelta(days=7)
    assert escalation_sweep(now=week_later) == 3
    assert escalation_sweep(now=week_later) == 0
    assert Notification.objects.filter(kind=Notification.Kind.ESCALATION).count() == 3
    assert all(c.escalation_level == 1 for c in Case.objects.filter(pk__in=[c.pk for c in cases]))


@pytest.mark.django_db
def test_acknowledged_in_time_is_not_escalated(unit, chain):
    case = receive(unit, in_danger=True)
    case_transition(case=case, actor=chain["focal"], to_status="acknowledged")
    assert escalation_sweep(now=case.received_at + timedelta(hours=2)) == 0


@pytest.mark.django_db
def test_the_child_is_told_we_are_late_in_their_language(unit, chain):
    case = receive(unit)
    escalation_sweep(now=timezone.now() + timedelta(days=4))
    bodies = child_sees(case)
    assert len(bodies) == 1 and "en retard" in bodies[0]


@pytest.mark.django_db
def test_oversight_reads_the_case_only_once_escalated_to_it(unit, chain, staff_client):
    case = receive(unit, in_danger=True)
    client = staff_client(chain["ombud"])
    url = reverse("staff:case", args=[case.reference])
    assert client.get(url).status_code == 404
    for minutes in (61, 122):
        escalation_sweep(now=case.received_at + timedelta(minutes=minutes))
    assert client.get(url).status_code == 404
    escalation_sweep(now=case.received_at + timedelta(minutes=183))
    assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_manager_sees_metadata_of_cases_escalated_to_them_never_content(unit, chain, staff_client):
    case = receive(unit, in_danger=True)
    client = staff_client(chain["manager"])
    assert case.display_reference not in client.get(reverse("staff:queue")).content.decode()
    for minutes in (61, 122):
        escalation_sweep(now=case.received_at + timedelta(minutes=minutes))
    page = client.get(reverse("staff:queue")).content.decode()
    assert case.display_reference in page and "Il m'a frappé" not in page
    assert client.get(reverse("staff:case", args=[case.reference])).status_code == 404


@pytest.mark.django_db
def test_the_sweep_finds_work_a_lost_task_left_behind(unit, chain):
    receive(unit)
    OrmQ.objects.all().delete()  # the queue lost everything
    Notification.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    requeue_due_deliveries()
    assert OrmQ.objects.count() == Notification.objects.filter(status="pending").count() >= 1


@pytest.mark.django_db
def test_cases_escalated_last_do_not_fill_every_sweep_while_others_wait(unit, chain, monkeypatch):
    """More overdue cases than one sweep takes: those that just took a step are not
    what the next sweeps pick again (and skip) while the others wait for hours."""
    monkeypatch.setattr(escalation, "STEPS_PER_SWEEP", 2)
    cases = [receive(unit, in_danger=True) for _ in range(3)]  # acknowledge within 1 h
    start = max(c.received_at for c in cases)
    assert escalation_sweep(now=start + timedelta(minutes=61)) == 2
    assert escalation_sweep(now=start + timedelta(minutes=62)) == 1  # the third, a minute on
    assert sorted(Case.objects.values_list("escalation_level", flat=True)) == [1, 1, 1]
    assert AuditEvent.objects.filter(action="complaints.case.escalated").count() == 3
