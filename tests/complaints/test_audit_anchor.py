"""The audit chain's head is anchored outside the table, so cutting off its newest
events is detected (a shorter chain is still a valid chain)."""

import logging
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_q.models import Schedule

from complaints.models import AuditEvent
from complaints.services import complaint_receive
from complaints.tasks import anchor_audit_head
from tests.conftest import staff_reads


def receive(unit):
    return complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative="they took my papers",
        category="neglect",
        in_danger=False,
        about_staff_answer="no",
        contact_preference="none",
    ).case


def verify(**options):
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err, **options)
    except CommandError as exc:
        return False, out.getvalue() + err.getvalue() + str(exc)
    return True, out.getvalue() + err.getvalue()


@pytest.mark.django_db
def test_removing_the_newest_events_after_an_anchor_is_detected(
    settings, tmp_path, unit, focal_point, caplog
):
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "anchors" / "audit-anchors.log")
    case = receive(unit)
    staff_reads(case, focal_point)
    with caplog.at_level(logging.INFO, logger="complaints.audit"):
        call_command("audit_anchor", stdout=StringIO())
    anchored = AuditEvent.objects.order_by("-id").first()
    assert f"audit head id={anchored.pk} hash={anchored.hash}" in caplog.text
    for _ in range(2):
        staff_reads(case, focal_point)
    assert verify() == (True, f"Audit chain intact: {AuditEvent.objects.count()} events.\n")

    # Cut the log back to before the anchor: what is left is a valid chain.
    AuditEvent.objects.filter(pk__gte=anchored.pk).delete()
    intact, output = verify()
    assert not intact
    assert f"the audit log ends before anchored head id {anchored.pk}" in output


@pytest.mark.django_db
def test_the_anchor_file_is_private_append_only_and_holds_ids_and_hashes_only(
    settings, tmp_path, unit, focal_point
):
    path = tmp_path / "audit-anchors.log"
    settings.AUDIT_ANCHOR_FILE = str(path)
    anchor_audit_head()  # the daily task, on an empty log
    case = receive(unit)
    staff_reads(case, focal_point)
    anchor_audit_head()
    lines = path.read_text().splitlines()
    head = AuditEvent.objects.order_by("-id").first()
    assert lines[0].endswith(f" id=0 hash={'0' * 64}")
    assert lines[1].endswith(f" id={head.pk} hash={head.hash}")
    assert case.reference not in path.read_text() and focal_point.username not in path.read_text()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert verify()[0]


@pytest.mark.django_db
def test_an_anchored_event_that_changed_is_detected_against_a_shipped_copy(
    settings, tmp_path, unit, focal_point
):
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "audit-anchors.log")
    staff_reads(receive(unit), focal_point)
    call_command("audit_anchor", stdout=StringIO())
    shipped = tmp_path / "off-host-copy.log"
    head = AuditEvent.objects.order_by("-id").first()
    shipped.write_text(f"2025-01-01T00:00:00+00:00 id={head.pk} hash={'f' * 64}\n")
    intact, output = verify(anchor_file=str(shipped))
    assert not intact and f"anchored event {head.pk} no longer has its anchored hash" in output


@pytest.mark.django_db
def test_without_anchors_verify_still_checks_the_chain_and_warns(settings, tmp_path, unit):
    receive(unit)
    settings.AUDIT_ANCHOR_FILE = ""
    intact, output = verify()
    assert intact and "removal of the newest events cannot be detected" in output
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "not-yet.log")
    intact, output = verify()
    assert intact and "not-yet.log does not exist" in output


@pytest.mark.django_db
def test_the_head_is_anchored_daily():
    schedule = Schedule.objects.get(name="recourse-audit-anchor")
    assert (schedule.func, schedule.schedule_type) == (
        "complaints.tasks.anchor_audit_head",
        Schedule.DAILY,
    )
