import tempfile
import threading

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse
from django.utils import translation
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from psycopg import pq
from whitenoise.middleware import WhiteNoiseMiddleware

from policies.models import Membership, Unit
from policies.services import unit_create_with_policy
from vault import crypto
from vault.keys import staff_key_create
from vault.models import StaffKey

PASSWORD = "correct horse battery staple"


# The files whose tests take seconds each, mostly waiting on other processes (a real
# qcluster, racing subprocesses, migrations run back and forth).
LONG_TEST_FILES = (
    "tests/robustness/test_worker_killed.py",
    "tests/robustness/test_worker_stops.py",
    "tests/robustness/test_production_guards.py",
    "tests/vault/test_keyring_concurrency.py",
    "tests/complaints/test_about_staff_migration.py",
    "tests/vault/test_key_rotation_live.py",
    "tests/deploy/test_backup_drill.py",
    "tests/deploy/test_nginx_site.py",
    "tests/deploy/test_systemd_units.py",
    "tests/config/test_logs.py",
)


def _is_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", ())
    return bool(marker and marker.kwargs.get("transaction")) or (
        "transactional_db" in fixtures or "live_server" in fixtures
    )


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (make check), start the long tests early, so they run beside
    the short ones instead of ending the run on one worker while the other waits.
    pytest-django has already put the transactional tests after the others (their
    flush empties the tables the migrations filled); that order is kept: the long
    transactional tests only go to the head of their own group. `make test`, one
    process, keeps the usual order."""
    if not hasattr(config, "workerinput"):
        return
    long = [item for item in items if item.nodeid.split("::")[0] in LONG_TEST_FILES]
    if not long:
        return
    rest = [item for item in items if item.nodeid.split("::")[0] not in LONG_TEST_FILES]
    boundary = next((i for i, item in enumerate(rest) if _is_transactional(item)), len(rest))
    items[:] = (
        [item for item in long if not _is_transactional(item)]
        + rest[:boundary]
        + [item for item in long if _is_transactional(item)]
        + rest[boundary:]
    )


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the default language. LocaleMiddleware activates a request's
    language in the thread and leaves it there, so a test that reads gettext without
    a request would otherwise see the language of the last request of whichever test
    ran before it: under pytest-xdist, a different one from run to run."""
    translation.deactivate()
    yield


@pytest.fixture(scope="session", autouse=True)
def static_files_indexed_once():
    """Every test's client builds the middleware chain anew, and WhiteNoise (which
    serves static/ through the finders outside production) indexes each static file
    again every time: about 25 ms a test. The files do not change during a run, so
    the index of the first scan is reused by every later middleware with the same
    static settings; what a request gets back is the same."""
    scan = WhiteNoiseMiddleware.add_files_from_finders
    indexes = {}

    def add_files_once(self):
        names = ["DEBUG", "FORCE_SCRIPT_NAME", "STORAGES"] + sorted(
            name for name in dir(django_settings) if name.startswith(("STATIC", "WHITENOISE_"))
        )
        key = repr([(name, getattr(django_settings, name, None)) for name in names])
        if key not in indexes:
            before = dict(self.files)
            scan(self)
            indexes[key] = {u: f for u, f in self.files.items() if before.get(u) is not f}
        self.files.update(indexes[key])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(WhiteNoiseMiddleware, "add_files_from_finders", add_files_once)
        yield


def totp_now(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def make_unit(code: str, sector: str = Unit.Sector.SECURITY, language: str = "en") -> Unit:
    return unit_create_with_policy(
        code=code,
        name=f"Unit {code}",
        sector=sector,
        default_language=language,
        emergency_contacts=[
            {"label": "Child helpline", "number": "116"},
            {"label": "Police", "number": "17"},
        ],
    )


def make_staff(
    django_user_model,
    username: str,
    unit: Unit,
    role: str,
    enrolled: bool = True,
    with_key: bool = True,
):
    user = django_user_model.objects.create_user(
        username=username, password=PASSWORD, email=f"{username}@example.org"
    )
    Membership.objects.create(user=user, unit=unit, role=role)
    if enrolled:
        TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    if role == Membership.Role.FOCAL_POINT and with_key:
        # Production's key model: a focal point's key pair exists from the start, so
        # cases routed to them are wrapped to them (there is no server copy).
        staff_key_create(user=user, password=PASSWORD)
    return user


def staff_key_ready(user) -> None:
    """The person's key pair, made from PASSWORD if they have none yet (focal points
    made by make_staff already have one)."""
    if not StaffKey.objects.filter(user=user).exists():
        staff_key_create(user=user, password=PASSWORD)


def staff_reads(case, user=None):
    """The case as a staff reader opens it, with their own key (unwrapped with their
    password, as their sign-in does): `user`, or whoever holds a copy."""
    from vault.cases import case_content_for_staff
    from vault.models import CaseKey

    if user is None:
        holder = (
            CaseKey.objects.filter(case=case, holder_kind=CaseKey.HolderKind.USER)
            .order_by("holder_id")
            .first()
        )
        assert holder is not None, "nobody holds a copy of this case's key"
        user = get_user_model().objects.get(pk=int(holder.holder_id))
    private = crypto.unwrap_private_key(
        StaffKey.objects.get(user=user).wrapped_private_key, PASSWORD
    )
    return case_content_for_staff(case=case, actor=user, private_key=private)


def child_sees(case) -> list[str]:
    """The messages posted for the child (no internal notes), read by a staff holder:
    for tests that have no follow-up code at hand. The child's own path, through their
    code's key, is tested in tests/intake."""
    from complaints.models import Message

    return [m.body for m in staff_reads(case).messages if m.author_kind != Message.Author.NOTE]


@pytest.fixture
def unit(db):
    return make_unit("TST1")


@pytest.fixture
def other_unit(db):
    return make_unit("OTH2", sector=Unit.Sector.SOCIAL_SERVICES, language="fr")


@pytest.fixture
def focal_point(django_user_model, unit):
    return make_staff(django_user_model, "focal", unit, Membership.Role.FOCAL_POINT)


@pytest.fixture
def manager(django_user_model, unit):
    return make_staff(django_user_model, "manager", unit, Membership.Role.MANAGER)


@pytest.fixture
def outsider(django_user_model, other_unit):
    """A focal point of another unit: every case of `unit` is a 404 for them."""
    return make_staff(django_user_model, "outsider", other_unit, Membership.Role.FOCAL_POINT)


def staff_login(client, user) -> None:
    """The real two-step login: password, then the current TOTP code."""
    response = client.post(
        reverse("staff:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302, response.content
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    response = client.post(reverse("staff:verify"), {"token": totp_now(device)})
    assert response.status_code == 302, response.content
    assert client.session.get("otp_device_id"), "the session is not OTP-verified"


@pytest.fixture
def staff_client(client):
    def login(user):
        staff_login(client, user)
        return client

    return login


COMPLAINT = {
    "narrative": "The officer at the front desk pushed me against the wall.",
    "category": "physical_violence",
    "in_danger": "no",
    "about_staff": "yes",
    "contact_preference": "follow_up_page",
    "contact_detail": "",
}


def complaint_data(**overrides) -> dict:
    return {**COMPLAINT, **overrides}


def complaint_filed(unit, **overrides):
    """A web complaint filed through complaints.services.complaint_receive, as the form
    does; returns the receipt (case and follow-up code)."""
    from complaints.services import complaint_receive

    fields = {
        "channel": "web",
        "language": "en",
        "narrative": "They hit me.",
        "category": "neglect",
        "in_danger": False,
        "about_staff_answer": "no",
        "contact_preference": "none",
        **overrides,
    }
    return complaint_receive(unit=unit, **fields)


@pytest.fixture
def file_complaint(client):
    """Files a complaint through the web form; returns the confirmation response."""

    def post(unit, language: str = "en", **overrides):
        client.cookies["django_language"] = language
        return client.post(
            reverse("intake:complaint_form", args=[unit.code]), complaint_data(**overrides)
        )

    return post


def receipt_from(response) -> tuple[str, str]:
    """(reference, follow-up code) as the confirmation page shows them."""
    import re

    html = response.content.decode()

    def shown(element_id: str) -> str:
        # The value sits in its own left-to-right island (<bdi dir="ltr">, intake's |ltr).
        match = re.search(rf'id="{element_id}"><bdi dir="ltr">([^<]+)</bdi><', html)
        return match.group(1).strip() if match else ""

    return shown("case-reference"), shown("followup-code")


# --- SMS ------------------------------------------------------------------------------------

import itertools  # noqa: E402

from twilio.request_validator import RequestValidator  # noqa: E402

_sid_counter = itertools.count(1)


def sign_twilio(url: str, params: dict, token: str | None = None) -> str:
    return RequestValidator(token or django_settings.TWILIO_AUTH_TOKEN).compute_signature(
        url, params
    )


@pytest.fixture
def twilio_post(client):
    """POST form parameters as Twilio does, signed with the real RequestValidator."""

    def post(path: str, params: dict, *, signature: str | None = None, sign: bool = True):
        url = django_settings.PUBLIC_BASE_URL + path
        headers = {}
        if sign:
            headers["HTTP_X_TWILIO_SIGNATURE"] = signature or sign_twilio(url, params)
        return client.post(path, params, **headers)

    return post


@pytest.fixture
def sms(twilio_post):
    """Text the service from a phone; returns the reply text ('' when none)."""
    import re as _re
    from html import unescape

    def send(body: str, phone: str = "+221770000001", sid: str | None = None):
        params = {
            "MessageSid": sid or f"SM{next(_sid_counter):032d}",
            "From": phone,
            "To": "+15005550000",
            "Body": body,
            "AccountSid": "ACtest",
        }
        response = twilio_post("/sms/twilio/inbound/", params)
        assert response.status_code == 200, response.content
        messages = _re.findall(r"<Message>(.*?)</Message>", response.content.decode(), _re.S)
        return unescape("\n".join(messages))

    return send


@pytest.fixture(autouse=True)
def sms_outbox():
    from notifications.backends import locmem

    locmem.outbox.clear()
    locmem.fail_next.clear()
    locmem.next_sids.clear()
    yield locmem.outbox
    locmem.outbox.clear()


def all_rows_as_text() -> str:
    """Every value of every table, as a database dump would show it."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, (bytes, bytearray, memoryview)):
                        chunks.append(bytes(value).decode("latin-1"))
                    else:
                        chunks.append(str(value))
    return "\n".join(chunks)


def burst(count: int, request) -> list:
    """Run request(i) in `count` threads released at the same instant; their results."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        try:
            barrier.wait(timeout=20)
            results[i] = request(i)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def protocol_messages(raw, run) -> list[tuple[str, str, str]]:
    """(F or B, message type, the rest) of every message between a psycopg connection
    and PostgreSQL while `run()` runs: libpq's own trace of the wire protocol. From
    the client is F, from the server B."""
    with tempfile.TemporaryFile("w+") as trace:
        raw.pgconn.trace(trace.fileno())
        raw.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            run()
        finally:
            raw.pgconn.untrace()
        trace.seek(0)
        lines = trace.read().splitlines()
    return [tuple((line.split("\t") + ["", ""])[i] for i in (0, 2, 3)) for line in lines]


def round_trips(messages) -> int:
    """How many times the client sent and then waited for the server's answer."""
    sides = "".join(side for side, _, _ in messages)
    return sides.count("FB")
