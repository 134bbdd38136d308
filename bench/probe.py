"""What the bench and the soak ask the bench database, run in a Django process of their
environment: `python bench/probe.py NAME [ARG...]` prints the answer as JSON."""

import json
import os
import sys
import time
from importlib import import_module

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db.models import Count  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402
from django_q.models import OrmQ  # noqa: E402

from complaints.models import Case, Message  # noqa: E402
from intake.models import InboundSms, SmsConversation  # noqa: E402
from notifications.models import Notification, OutboundSms  # noqa: E402
from policies.categories import policy_category_codes  # noqa: E402
from policies.models import Membership, Unit  # noqa: E402
from policies.selectors import unit_current_policy  # noqa: E402
from vault import crypto  # noqa: E402


def facts() -> dict:
    """The unit with the most cases, one of its focal points, its manager, a category."""
    unit = Unit.objects.annotate(n=Count("cases")).order_by("-n").first()
    members = Membership.objects.filter(unit=unit)
    return {
        "unit": unit.code,
        "cases": Case.objects.count(),
        "focal": members.filter(role="focal_point").values_list("user_id", flat=True).first(),
        "manager": members.filter(role="manager").values_list("user_id", flat=True).first(),
        "category": policy_category_codes(unit_current_policy(unit).categories)[0],
    }


def counts() -> dict:
    return {
        "cases": Case.objects.count(),
        "web_cases": Case.objects.filter(channel="web").count(),
        "sms_cases": Case.objects.filter(channel="sms").count(),
        "inbound_sms": InboundSms.objects.count(),
        "reporter_messages": Message.objects.filter(author_kind="reporter").count(),
        "notifications": Notification.objects.count(),
        "last_notification": Notification.objects.order_by("-pk")
        .values_list("pk", flat=True)
        .first()
        or 0,
    }


def backlog(after_notification: str) -> dict:
    """What the worker still has to do for notifications created after the given id."""
    newer = Notification.objects.filter(pk__gt=int(after_notification))
    return {
        "queued_tasks": OrmQ.objects.count(),
        "unsent_notifications": newer.exclude(status__in=["sent", "skipped"]).count(),
        "failed_notifications": newer.filter(status="failed").count(),
    }


def kdf_ms() -> float:
    """Median time of one follow-up code derivation at the configured cost."""
    times = []
    for _ in range(7):
        started = time.perf_counter()
        crypto.followup_secret_new("123456789012")
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)[3]


def staff_session(user_id: str) -> str:
    """A session past both login steps (password and second factor), as a cookie value."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(pk=int(user_id))
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store.update(
        {
            "_auth_user_id": str(user.pk),
            "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
            "_auth_user_hash": user.get_session_auth_hash(),
            "otp_device_id": TOTPDevice.objects.filter(user=user, confirmed=True)
            .first()
            .persistent_id,
        }
    )
    store.create()
    return store.session_key


def clear_sms() -> int:
    """Texts of earlier runs would be prompted by the worker's sweep ten minutes later and
    load this run: every run starts with no SMS conversation."""
    return sum(
        model.objects.all().delete()[0] for model in (OutboundSms, InboundSms, SmsConversation)
    )


if __name__ == "__main__":
    name, *args = sys.argv[1:]
    print("\nJSON", json.dumps(globals()[name](*args), default=str))
