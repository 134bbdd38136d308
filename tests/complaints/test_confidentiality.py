"""A unique canary phrase goes in through every door (narrative, contact detail,
follow-up message, staff reply) and must come out nowhere but the screens of the child
and of the focal point."""

import logging
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from complaints.models import Case
from notifications.models import Notification
from notifications.services import notification_deliver
from tests.conftest import all_rows_as_text, complaint_data, receipt_from, staff_login


@pytest.mark.django_db(transaction=True)
def test_canary_appears_nowhere_it_should_not(client, unit, focal_point, caplog):
    caplog.set_level(logging.DEBUG)
    canary = f"canary-{uuid.uuid4().hex}"
    contact = f"{canary}@example.org"

    client.cookies["django_language"] = "fr"
    response = client.post(
        reverse("intake:complaint_form", args=[unit.code]),
        complaint_data(
            narrative=f"Il m'a frappé. {canary}", contact_preference="email", contact_detail=contact
        ),
    )
    assert response.status_code == 200
    reference, code = receipt_from(response)
    client.post(reverse("intake:followup"), {"reference": reference, "code": code})
    client.post(reverse("intake:followup_case"), {"body": f"Encore une chose. {canary}"})

    staff = client.__class__()
    staff_login(staff, focal_point)
    case = Case.objects.get()
    page = staff.get(reverse("staff:case", args=[case.reference])).content.decode()
    assert canary in page  # the focal point does read it
    # The address only on request, as an audit event of its own.
    assert contact not in page
    revealed = staff.post(reverse("staff:case_contact", args=[case.reference])).content.decode()
    assert contact in revealed
    staff.post(reverse("staff:case", args=[case.reference]), {"body": f"Merci. {canary}"})
    assert canary in client.get(reverse("intake:followup_case")).content.decode()

    # Staff notifications were queued and sent: reference and link only.
    assert OrmQ.objects.exists()
    for task in OrmQ.objects.all():
        payload = SignedPackage.loads(task.payload)
        assert canary not in repr(payload)
        assert reference.replace("-", "") not in repr(payload["args"])
    for notification in Notification.objects.all():
        notification_deliver(notification.pk)
    assert len(mail.outbox) >= 1
    for message in mail.outbox:
        assert canary not in message.subject + message.body
        assert reference in message.subject + message.body

    # Not in any table (cases, messages, queue, sessions, audit, admin log) ...
    dump = all_rows_as_text()
    assert canary not in dump
    assert "Il m'a frappé" not in dump
    # ... nor in the session table specifically, decoded ...
    from django.contrib.sessions.models import Session

    for session in Session.objects.all():
        assert canary not in repr(session.get_decoded())
    # ... nor in the logs.
    assert canary not in caplog.text
    for record in caplog.records:
        assert canary not in repr(record.args)

    # And not in the bytes of the database file on disk (SQLite).
    if connection.vendor == "sqlite":
        connection.close()
        db_file = Path(connection.settings_dict["NAME"])
        assert db_file.exists()
        assert not file_contains(
            [db_file, Path(f"{db_file}-wal"), Path(f"{db_file}-journal")],
            [canary.encode(), canary.encode("utf-16-le")],
        )


def file_contains(paths: list[Path], needles: list[bytes]) -> bool:
    """Read the files in another process: closing a descriptor of the database file here
    would drop every POSIX lock this process's SQLite connections hold on it (the live
    server's too), and later reads could see a stale snapshot."""
    script = (
        "import sys, pathlib; needles = [bytes.fromhex(h) for h in sys.argv[1].split(',')]; "
        "print(any(n in p.read_bytes() for p in map(pathlib.Path, sys.argv[2:]) if p.exists() "
        "for n in needles))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, ",".join(n.hex() for n in needles), *map(str, paths)],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip() == "True"


@pytest.mark.django_db
def test_narrative_is_not_stored_in_plaintext(file_complaint, unit):
    file_complaint(unit, narrative="They locked me in the cold room all night.")
    case = Case.objects.get()
    assert b"cold room" not in bytes(case.narrative)
    assert "cold room" not in str(case.routing)
    assert case.followup_code_hash.startswith("$recourse-argon2id$")
