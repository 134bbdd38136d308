"""What the backup drill (deploy/backup_drill.py) asks a database, run as a Django
process of the drill's environment: `python deploy/drill_probe.py NAME [ARG...]` prints
the answer as JSON after a "JSON " line. Answers hold counts, ids, statuses and times:
never a narrative, a name, a number, an address or a code. Case references go to the
drill only (which case pages to open); the drill prints counts.

`demo_fill` builds a demonstration source database (development settings only)."""

import base64
import io
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import django  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402
from django_q.models import OrmQ, Schedule  # noqa: E402

from complaints.models import AuditEvent, Case  # noqa: E402
from complaints.services import complaint_receive  # noqa: E402
from intake.models import SmsReporter  # noqa: E402
from notifications.child_email import child_email_deliver, child_email_queue  # noqa: E402
from notifications.models import Notification, OutboundEmail, OutboundSms  # noqa: E402
from notifications.services import notification_deliver  # noqa: E402
from notifications.sms import sms_deliver, sms_queue  # noqa: E402
from policies.categories import policy_category_codes  # noqa: E402
from policies.demo import DEMO_PASSWORD  # noqa: E402
from policies.models import Membership, Unit  # noqa: E402
from policies.selectors import unit_current_policy  # noqa: E402
from vault.epochs import epochs_unopenable, keyring_ready  # noqa: E402
from vault.models import CaseKey  # noqa: E402
from vault.server_sealed import fields_unopenable  # noqa: E402

READ_ACTION = "complaints.case.decrypted"
# The minute job that finds due rows from the database alone (config/schedule.py).
REQUEUE_JOB = "recourse-delivery-requeue"
# Each kind of outbound work, and the channel it leaves by when every row uses one.
DELIVERIES = {"notification": Notification, "sms": OutboundSms, "email": OutboundEmail}


def ring() -> dict:
    """Does the key ring restored from its own backup fit this database?"""
    reporter = SmsReporter.objects.order_by("pk").first()
    try:
        index_ok = reporter is None or (
            SmsReporter.index_for(reporter.read_phone()) == reporter.phone_index
        )
    except Exception:  # noqa: BLE001 - any failure to open the number means the ring does not fit
        index_ok = False
    return {
        "loads_with_this_month": keyring_ready(),
        "epochs_unopenable": epochs_unopenable(),
        "fields_unopenable": fields_unopenable(),
        "index_fits": index_ok,
    }


def deliveries() -> dict:
    """Every outbound row's delivery state, and the tasks still queued."""
    now = timezone.now()
    rows = {}
    for kind, model in DELIVERIES.items():
        due = set(model.objects.due(now=now).values_list("pk", flat=True))
        rows[kind] = [
            {
                # The row as the ledger backends name it: their lines are matched to it.
                "id": f"{model._meta.label_lower}:{row['pk']}",
                "status": row["status"],
                "attempts": row["attempts"],
                "sent_at": row["sent_at"].isoformat() if row["sent_at"] else None,
                "due": row["pk"] in due,
            }
            for row in model.objects.values("pk", "status", "attempts", "sent_at").order_by("pk")
        ]
    requeue = Schedule.objects.filter(name=REQUEUE_JOB).values_list("next_run", flat=True).first()
    return {
        "rows": rows,
        "queued_tasks": OrmQ.objects.count(),
        # Moves on each time the scheduler runs the sweep that re-enqueues due rows.
        "requeue_next_run": requeue.isoformat() if requeue else None,
    }


def audit_head() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def staff_cases(*usernames: str) -> dict:
    """For each person: whether they are a focal point, and the references of the kept
    cases they hold their own copy of the key to, newest first."""
    users = {u.username: u for u in get_user_model().objects.filter(username__in=usernames)}
    answer = {}
    for username in usernames:
        user = users.get(username)
        if user is None:
            answer[username] = {"known": False, "focal_point": False, "cases": []}
            continue
        held = CaseKey.objects.filter(
            holder_kind=CaseKey.HolderKind.USER, holder_id=str(user.pk)
        ).values("case_id")
        references = (
            Case.objects.filter(pk__in=held, purged_at__isnull=True)
            .order_by("-received_at")
            .values_list("reference", flat=True)
        )
        answer[username] = {
            "known": True,
            "focal_point": Membership.objects.filter(
                user=user, role=Membership.Role.FOCAL_POINT
            ).exists(),
            "cases": list(references),
        }
    return {"staff": answer, "audit_head": audit_head()}


def reads_since(audit_id: str, *usernames: str) -> dict:
    """Audited readings of case content per person since audit event `audit_id`."""
    events = AuditEvent.objects.filter(pk__gt=int(audit_id), action=READ_ACTION)
    return {name: events.filter(actor__username=name).count() for name in usernames}


def demo_fill(staff_file: str) -> dict:
    """Development only: demo units and staff, complaints by web and by SMS in two
    units (one in danger), a text and an email to children; then half of every kind of
    outbound row sent, the rest left pending with its task queued, as a backup taken
    while the worker was busy would hold them. The demo focal points' sign-in secrets
    go to `staff_file` (0600), never to the output."""
    if settings.RECOURSE_ENV != "development":
        raise SystemExit("demo_fill writes demo accounts: development settings only")
    call_command("seed_demo", stdout=io.StringIO())
    units = list(Unit.objects.exclude(sector=Unit.Sector.OVERSIGHT).order_by("code")[:2])
    n = 0
    for unit in units:
        category = policy_category_codes(unit_current_policy(unit).categories)[0]
        for contact, danger in (("none", False), ("email", False), ("sms", False), ("none", True)):
            n += 1
            detail = {"email": f"child{n}@example.org", "sms": f"+1500555{n:04d}"}.get(contact, "")
            case = complaint_receive(
                unit=unit,
                channel="web",
                language="en",
                narrative=f"Drill complaint number {n}.",
                category=category,
                in_danger=danger,
                about_staff_answer="no",
                contact_preference=contact,
                contact_detail=detail,
            ).case
            if contact == "email":
                child_email_queue(case=case)
            elif contact == "sms":
                sms_queue(reporter=case.sms_reporter, case=case, body="Drill news.")
    delivered = {
        "notification": [notification_deliver, Notification],
        "sms": [sms_deliver, OutboundSms],
        "email": [child_email_deliver, OutboundEmail],
    }
    for deliver, model in delivered.values():
        ids = list(
            model.objects.filter(status="pending").order_by("pk").values_list("pk", flat=True)
        )
        for pk in ids[::2]:
            deliver(pk)
    focal = Membership.objects.filter(unit__in=units, role=Membership.Role.FOCAL_POINT)
    staff = []
    for membership in focal.select_related("user").order_by("user__username"):
        device = TOTPDevice.objects.get(user=membership.user, confirmed=True)
        staff.append(
            {
                "username": membership.user.username,
                "password": DEMO_PASSWORD,
                "totp_secret": base64.b32encode(device.bin_key).decode().rstrip("="),
            }
        )
    fd = os.open(staff_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(staff, handle)
    return {
        "cases": Case.objects.count(),
        "staff": len(staff),
        "pending": {
            kind: model.objects.filter(status="pending").count()
            for kind, model in DELIVERIES.items()
        },
        "sent": {
            kind: model.objects.filter(status="sent").count() for kind, model in DELIVERIES.items()
        },
    }


if __name__ == "__main__":
    name, *args = sys.argv[1:]
    answer = globals()[name](*args)
    print("\nJSON", json.dumps(answer, default=str))
