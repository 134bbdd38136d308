"""Retention (issue 17 §2): expired closed cases lose their content, a legal hold keeps
a case, SMS reporter records go after the policy's period."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from complaints import retention
from complaints.models import AuditEvent, Case, CaseEvent, CaseLastOpened, Message
from complaints.retention import expired_cases, purge_expired, purge_sms_reporters
from complaints.services import case_note, case_reply, complaint_receive
from complaints.tasks import purge_expired_cases
from config.schedule import DAILY, PERIODIC_JOBS
from intake.models import InboundSms, SmsConversation, SmsReporter
from notifications.models import OutboundSms
from policies.forms import PolicyDraftForm
from policies.models import ChildProtectionPolicy, Membership
from policies.services import policy_draft_get_or_create
from tests.conftest import make_staff, make_unit, receipt_from, staff_login, staff_reads
from vault.models import CaseKey

pytestmark = pytest.mark.usefixtures("focal_point")

D = timedelta(days=1)
STORY = "retention-canary the officer took my phone"
NOTE = "retention-canary-note spoke to the shift lead"
REPLY = "retention-canary-reply thank you for telling us"


def closed_case(unit, focal_point, *, closed_days_ago: int, policy=None, **receive):
    """A web case with a reply and a note, closed `closed_days_ago` days ago."""
    case = complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative=STORY,
        category="neglect",
        in_danger=False,
        about_staff_answer="no",
        contact_preference="follow_up_page",
        **receive,
    ).case
    case_reply(case=case, actor=focal_point, body=REPLY)
    case_note(case=case, actor=focal_point, body=NOTE)
    CaseLastOpened.objects.create(case=case, user=focal_point)
    closed_at = timezone.now() - closed_days_ago * D
    Case.objects.filter(pk=case.pk).update(
        status=Case.Status.CLOSED,
        outcome=Case.Status.UNSUBSTANTIATED,
        decided_at=closed_at - D,
        closed_at=closed_at,
        **({"policy": policy} if policy else {}),
    )
    return Case.objects.get(pk=case.pk)


def policy_version(unit, *, retention_days: int) -> ChildProtectionPolicy:
    """A later published version of the unit's policy with its own retention."""
    policy = ChildProtectionPolicy.objects.filter(unit=unit).order_by("-version").first()
    policy.pk = None
    policy.version += 1
    policy.retention_days = retention_days
    policy.published_at = timezone.now()
    policy.save()
    return policy


def metadata(case) -> dict:
    case = Case.objects.get(pk=case.pk)
    return {
        field: getattr(case, field)
        for field in (
            "unit_id",
            "handling_unit_id",
            "policy_id",
            "category",
            "urgency",
            "status",
            "outcome",
            "channel",
            "received_at",
            "acknowledged_at",
            "decided_at",
            "closed_at",
            "outcome_told_at",
            "assignee_id",
        )
    } | {"events": list(CaseEvent.objects.filter(case=case).values_list("id", "to_status"))}


@pytest.fixture
def short_policy(unit):
    return policy_version(unit, retention_days=30)


# --- Which cases -----------------------------------------------------------------------------


def test_expiry_follows_the_policy_version_the_case_was_routed_under(unit, focal_point):
    short = policy_version(unit, retention_days=30)
    long = policy_version(unit, retention_days=365)
    expired = closed_case(unit, focal_point, closed_days_ago=40, policy=short)
    kept_by_its_version = closed_case(unit, focal_point, closed_days_ago=40, policy=long)
    not_yet = closed_case(unit, focal_point, closed_days_ago=20, policy=short)
    still_open = complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative=STORY,
        category="neglect",
        in_danger=False,
        about_staff_answer="no",
        contact_preference="none",
    ).case
    Case.objects.filter(pk=still_open.pk).update(policy=short, received_at=timezone.now() - 400 * D)

    assert list(expired_cases()) == [expired]
    result = purge_expired()
    assert result.cases == 1
    assert Case.objects.get(pk=expired.pk).purged_at is not None
    for case in (kept_by_its_version, not_yet, still_open):
        case = Case.objects.get(pk=case.pk)
        assert case.purged_at is None and bytes(case.narrative)
        assert staff_reads(case).narrative == STORY
    # A second run finds nothing more.
    assert purge_expired().cases == 0


# --- What goes, what stays -------------------------------------------------------------------


def test_after_a_purge_no_content_no_key_no_contact_and_the_metadata_stays(
    unit, focal_point, short_policy, sms
):
    case = closed_case(unit, focal_point, closed_days_ago=40, policy=short_policy)
    # An SMS case too: its phone link, its texts and its conversation go.
    sms("tst1 retention-canary-sms he shouted at me")
    sms("DONE")
    sms("2")
    sms("2")
    sms_case = Case.objects.get(channel=Case.Channel.SMS)
    Case.objects.filter(pk=sms_case.pk).update(
        status=Case.Status.CLOSED, closed_at=timezone.now() - 40 * D, policy=short_policy
    )
    assert (
        OutboundSms.objects.filter(case=sms_case).exists()
        or SmsConversation.objects.filter(case=sms_case).exists()
    )
    before = {c.pk: metadata(c) for c in (case, sms_case)}
    assert CaseKey.objects.filter(case=case).exists()

    result = purge_expired()

    assert result.cases == 2 and result.messages >= 2 and result.key_copies >= 2
    for purged in Case.objects.filter(pk__in=[case.pk, sms_case.pk]):
        assert purged.purged_at is not None and purged.is_purged
        assert bytes(purged.narrative) == b""
        assert purged.contact_detail is None and purged.delivery_email is None
        assert purged.public_key is None and purged.reporter_public_key is None
        assert purged.followup_code_hash == ""
        assert purged.sms_reporter_id is None
        assert not CaseKey.objects.filter(case=purged).exists()
        assert not Message.objects.filter(case=purged).exists()
        assert not CaseLastOpened.objects.filter(case=purged).exists()
        assert not OutboundSms.objects.filter(case=purged).exists()
        assert not SmsConversation.objects.filter(case=purged).exists()
        assert metadata(purged) == before[purged.pk]
    # One audit event for the batch, with ids and references, no content.
    event = AuditEvent.objects.get(action="complaints.retention.purged")
    assert set(event.data["case_ids"]) == {str(case.pk), str(sms_case.pk)}
    assert set(event.data["references"]) == {case.reference, sms_case.reference}
    assert "canary" not in str(event.data)


def test_queries_per_batch_are_constant(unit, focal_point, short_policy):
    def purge_queries(count):
        for _ in range(count):
            closed_case(unit, focal_point, closed_days_ago=40, policy=short_policy)
        with CaptureQueriesContext(connection) as queries:
            assert purge_expired(batch_size=100).cases == count
        return len(queries)

    assert purge_queries(2) == purge_queries(6)


# --- Dry run and the command -----------------------------------------------------------------


def test_a_dry_run_counts_and_changes_nothing(unit, focal_point, short_policy):
    cases = [closed_case(unit, focal_point, closed_days_ago=40, policy=short_policy) for _ in "ab"]
    closed_case(unit, focal_point, closed_days_ago=10, policy=short_policy)
    keys, messages, audit = (
        CaseKey.objects.count(),
        Message.objects.count(),
        AuditEvent.objects.count(),
    )
    out = StringIO()
    call_command("purge_expired", "--dry-run", stdout=out)
    output = out.getvalue()
    assert "Dry run: 2 expired case(s) would be purged (4 message(s))" in output
    assert "Nothing was changed." in output
    assert (CaseKey.objects.count(), Message.objects.count(), AuditEvent.objects.count()) == (
        keys,
        messages,
        audit,
    )
    for case in cases:
        case = Case.objects.get(pk=case.pk)
        assert case.purged_at is None and staff_reads(case).narrative == STORY


def test_the_command_prints_counts_never_content(unit, focal_point, short_policy):
    case = closed_case(unit, focal_point, closed_days_ago=40, policy=short_policy)
    out = StringIO()
    call_command("purge_expired", stdout=out)
    output = out.getvalue()
    assert "Purged 1 case(s) in 1 batch(es)" in output and "2 message(s) deleted" in output
    assert "canary" not in output and case.reference not in output


def test_the_daily_job_is_scheduled_and_purges(unit, focal_point, short_policy):
    job = next(j for j in PERIODIC_JOBS if j.func == "complaints.tasks.purge_expired_cases")
    assert job.schedule_type == DAILY
    case = closed_case(unit, focal_point, closed_days_ago=40, policy=short_policy)
    purge_expired_cases()
    assert Case.objects.get(pk=case.pk).purged_at is not None


# --- Legal hold ------------------------------------------------------------------------------


def hold_url(case) -> str:
    return reverse("staff:case_legal_hold", args=[case.reference])


def test_a_hold_stops_the_purge_until_lifted(
    staff_client, unit, focal_point, manager, short_policy
):
    case = closed_case(unit, focal_point, closed_days_ago=40, policy=short_policy)
    client = staff_client(manager)
    page = client.get(hold_url(case))
    assert page.status_code == 200 and "never what the child said" in page.content.decode()
    assert "canary" not in page.content.decode()
    response = client.post(hold_url(case), {"action": "set", "reason": "Court order 2026/114"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.on_legal_hold and case.legal_hold_reason == "Court order 2026/114"
    assert case.legal_hold_by == manager
    set_event = AuditEvent.objects.get(action="complaints.case.legal_hold_set")
    assert set_event.case_id == case.pk and set_event.actor == manager
    assert "Court order" not in str(set_event.data)
    assert "On legal hold since" in client.get(hold_url(case)).content.decode()
    focal_client = Client()
    staff_login(focal_client, focal_point)
    focal_page = focal_client.get(reverse("staff:case", args=[case.reference]))
    assert 'id="legal-hold"' in focal_page.content.decode()

    result = purge_expired()
    assert result.cases == 0 and result.held == 1
    assert staff_reads(Case.objects.get(pk=case.pk)).narrative == STORY

    client.post(hold_url(case), {"action": "lift"})
    case.refresh_from_db()
    assert not case.on_legal_hold and case.legal_hold_reason == ""
    assert AuditEvent.objects.filter(
        action="complaints.case.legal_hold_lifted", case=case, actor=manager
    ).exists()
    assert purge_expired().cases == 1
    assert Case.objects.get(pk=case.pk).purged_at is not None


def test_an_empty_reason_is_refused_politely_and_sets_nothing(
    staff_client, unit, focal_point, manager
):
    case = closed_case(unit, focal_point, closed_days_ago=40)
    response = staff_client(manager).post(hold_url(case), {"action": "set", "reason": "   "})
    assert response.status_code == 200
    html = response.content.decode()
    assert "This field is required." in html or "Write why the case must be kept." in html
    assert 'aria-invalid="true"' in html
    assert not Case.objects.get(pk=case.pk).on_legal_hold
    assert not AuditEvent.objects.filter(action="complaints.case.legal_hold_set").exists()
    too_long = staff_client(manager).post(hold_url(case), {"action": "set", "reason": "x" * 301})
    assert too_long.status_code == 200 and not Case.objects.get(pk=case.pk).on_legal_hold


def test_a_manager_finds_the_hold_page_from_the_queue_by_reference(
    staff_client, unit, focal_point, manager
):
    case = closed_case(unit, focal_point, closed_days_ago=40)
    client = staff_client(manager)
    assert 'id="legal-hold-find"' in client.get(reverse("staff:queue")).content.decode()
    find = reverse("staff:legal_hold_find")
    response = client.get(find, {"reference": case.display_reference.lower()})
    assert response.status_code == 302 and response["Location"] == hold_url(case)
    unknown = client.get(find, {"reference": "ZZZZ-ZZZZ"}, follow=True)
    assert "No case of the units you manage has this reference." in unknown.content.decode()
    client.logout()
    assert staff_client(focal_point).get(find, {"reference": case.reference}).status_code == 404


def test_only_the_units_managers_set_a_hold(
    staff_client, django_user_model, unit, other_unit, focal_point
):
    case = closed_case(unit, focal_point, closed_days_ago=40)
    other_manager = make_staff(django_user_model, "othermgr", other_unit, Membership.Role.MANAGER)
    for person in (focal_point, other_manager):
        client = staff_client(person)
        assert client.get(hold_url(case)).status_code == 404
        assert client.post(hold_url(case), {"action": "set", "reason": "mine"}).status_code == 404
        client.logout()
    assert not Case.objects.get(pk=case.pk).on_legal_hold


# --- A purged case everywhere ----------------------------------------------------------------


def test_a_purged_case_is_a_tombstone_on_staff_pages_and_the_childs_code_opens_nothing(
    client, staff_client, unit, focal_point, manager, short_policy, file_complaint
):
    reference, code = receipt_from(file_complaint(unit))
    case = Case.objects.get(reference=reference.replace("-", ""))
    Case.objects.filter(pk=case.pk).update(
        status=Case.Status.CLOSED,
        outcome=Case.Status.SUBSTANTIATED,
        closed_at=timezone.now() - 40 * D,
        policy=short_policy,
    )
    purge_expired()

    staff = staff_client(focal_point)
    page = staff.get(reverse("staff:case", args=[case.reference]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Content removed under the retention policy on" in html
    assert staff.get(reverse("staff:queue"), {"status": "all"}).status_code == 200
    # Every action on it is refused politely, nothing is written.
    for name, data in (
        ("staff:case_note", {"body": "late note"}),
        ("staff:case_contact", {}),
        ("staff:case_status", {"to_status": "investigating", "reason": "x"}),
    ):
        refused = staff.post(reverse(name, args=[case.reference]), data, follow=True)
        assert refused.status_code == 200
        assert "removed under the retention policy: it cannot change" in refused.content.decode()
    assert not Message.objects.filter(case=case, author_kind=Message.Author.NOTE).exists()
    staff.logout()

    manager_client = staff_client(manager)
    assert "Content removed under the retention policy" in (
        manager_client.get(hold_url(case)).content.decode()
    )
    assert (
        manager_client.post(hold_url(case), {"action": "set", "reason": "late"}).status_code == 302
    )
    assert not Case.objects.get(pk=case.pk).on_legal_hold
    assert manager_client.get(reverse("oversight:compliance")).status_code == 200
    assert manager_client.get(reverse("oversight:report", args=[unit.code])).status_code == 200
    manager_client.logout()

    # The child's code no longer opens anything: the same answer as a wrong code.
    response = client.post(reverse("intake:followup"), {"reference": reference, "code": code})
    assert response.status_code == 400
    assert "follow-up/case" not in response.get("Location", "")


# --- SMS reporter records --------------------------------------------------------------------


def sms_case_closed(sms, *, closed_days_ago: int, phone: str):
    sms("tst1 retention-canary-sms he shouted at me", phone=phone)
    sms("DONE", phone=phone)
    sms("2", phone=phone)
    sms("2", phone=phone)
    reporter = SmsReporter.objects.get(phone_index=SmsReporter.index_for(phone))
    long_ago = timezone.now() - closed_days_ago * D
    Case.objects.filter(sms_reporter=reporter).update(status=Case.Status.CLOSED, closed_at=long_ago)
    SmsReporter.objects.filter(pk=reporter.pk).update(created_at=long_ago)
    InboundSms.objects.filter(reporter=reporter).update(received_at=long_ago)
    SmsConversation.objects.filter(reporter=reporter).update(
        updated_at=long_ago, started_at=long_ago
    )
    return reporter


def test_sms_reporters_with_no_open_case_go_after_the_policys_period(sms, unit):
    gone = sms_case_closed(sms, closed_days_ago=400, phone="+221770000011")
    recent = sms_case_closed(sms, closed_days_ago=100, phone="+221770000012")
    with_open_case = sms_case_closed(sms, closed_days_ago=400, phone="+221770000013")
    Case.objects.filter(sms_reporter=with_open_case).update(status="investigating", closed_at=None)
    kept_case = Case.objects.get(sms_reporter=gone)

    assert purge_sms_reporters() == 1

    assert not SmsReporter.objects.filter(pk=gone.pk).exists()
    assert not InboundSms.objects.filter(reporter_id=gone.pk).exists()
    assert SmsReporter.objects.filter(pk__in=[recent.pk, with_open_case.pk]).count() == 2
    # The case keeps its metadata; only the link to the phone is gone.
    kept_case.refresh_from_db()
    assert kept_case.sms_reporter_id is None and kept_case.category
    event = AuditEvent.objects.get(action="intake.sms_reporter.purged")
    assert event.data == {"sms_reporter_ids": [gone.pk]}


def test_a_child_who_files_while_the_removal_runs_keeps_their_record_and_is_not_counted(
    sms, unit, monkeypatch
):
    """Chosen as quiet, then a new complaint arrives before the delete: the record stays,
    and neither the count nor the audit event names it."""
    reporter = sms_case_closed(sms, closed_days_ago=400, phone="+221770000031")
    chosen = retention._expired_reporter_ids(timezone.now())
    assert chosen == [reporter.pk]
    Case.objects.filter(sms_reporter=reporter).update(status="investigating", closed_at=None)
    monkeypatch.setattr(retention, "_expired_reporter_ids", lambda now: chosen)

    assert purge_sms_reporters() == 0
    assert SmsReporter.objects.filter(pk=reporter.pk).exists()
    assert not AuditEvent.objects.filter(action="intake.sms_reporter.purged").exists()


def test_the_sms_reporter_period_is_the_policys(sms, unit):
    reporter = sms_case_closed(sms, closed_days_ago=100, phone="+221770000021")
    short = policy_version(unit, retention_days=5 * 365)
    ChildProtectionPolicy.objects.filter(pk=short.pk).update(sms_reporter_retention_days=90)
    Case.objects.filter(sms_reporter=reporter).update(policy=short)
    assert purge_sms_reporters() == 1
    assert not SmsReporter.objects.filter(pk=reporter.pk).exists()


def test_a_units_short_retention_does_not_reach_another_units_cases(
    django_user_model, unit, focal_point
):
    other = make_unit("OTH3")
    other_focal = make_staff(django_user_model, "otherfocal", other, Membership.Role.FOCAL_POINT)
    policy_version(unit, retention_days=30)
    theirs = closed_case(other, other_focal, closed_days_ago=40)
    assert purge_expired().cases == 0
    assert Case.objects.get(pk=theirs.pk).purged_at is None


def test_a_manager_sets_the_sms_reporter_period_on_a_draft(staff_client, unit, manager):
    draft = policy_draft_get_or_create(unit=unit)
    client = staff_client(manager)
    url = reverse("policies:edit", args=[unit.code])
    page = client.get(url).content.decode()
    assert "Keep an SMS child&#x27;s phone number for (days)" in page
    data = {k: v for k, v in PolicyDraftForm(policy=draft).initial.items() if v is not None}
    data["emergency_contacts"] = "Child helpline | 116"
    data["confidentiality_limits"] = ["serious_harm"]
    refused = client.post(url, {**data, "sms_reporter_retention_days": "5"})
    assert refused.status_code == 200
    assert "greater than or equal to 30" in refused.content.decode()
    assert client.post(url, {**data, "sms_reporter_retention_days": "180"}).status_code == 302
    draft.refresh_from_db()
    assert draft.sms_reporter_retention_days == 180


def test_a_run_out_of_time_stops_between_batches_and_the_next_run_goes_on(
    unit, focal_point, short_policy
):
    cases = [closed_case(unit, focal_point, closed_days_ago=40, policy=short_policy) for _ in "ab"]
    stopped = purge_expired(batch_size=1, max_seconds=-1)
    assert not stopped.complete and stopped.cases == 0
    assert purge_expired(batch_size=1).cases == 2
    assert all(Case.objects.get(pk=c.pk).purged_at for c in cases)
