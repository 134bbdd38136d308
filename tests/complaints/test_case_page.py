"""Issue 14 §3: the case page a focal point works from. The child's conversation apart
from internal notes, one template choice, actions that come back to their section,
errors shown as errors, and replies to SMS children counted and held to a limit."""

import html
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints.lifecycle import case_transition
from complaints.models import Case, Message
from complaints.services import (
    ComplaintError,
    case_note,
    case_reply,
    complaint_receive,
    followup_add_message,
)
from notifications.backends import locmem
from notifications.gsm import segments
from notifications.models import OutboundSms
from notifications.sms import sms_deliver
from policies.models import Membership
from tests.conftest import make_staff

PHONE = "+221770000001"


def receive(unit, **overrides) -> Case:
    data = dict(
        unit=unit,
        channel="web",
        language="en",
        narrative="They shouted at me.",
        category="neglect",
        in_danger=False,
        about_staff_answer="no",
        contact_preference="none",
    )
    data.update(overrides)
    return complaint_receive(**data).case


def section(page: str, name: str) -> str:
    """The HTML of one <section id=...> of the case page."""
    found = re.search(rf'<section id="{name}"[^>]*>(.*?)</section>', page, re.S)
    assert found, f"no section {name}"
    return found.group(1)


def reply_box(page: str) -> str:
    found = re.search(r'<textarea name="body" id="id_body"[^>]*>(.*?)</textarea>', page, re.S)
    return html.unescape(found.group(1))


def shown_segments(page: str) -> int:
    return int(re.search(r'<span id="sms-segments">(\d+)</span>', page).group(1))


@pytest.fixture
def case(unit, focal_point):
    return receive(unit)


@pytest.fixture
def sms_case(sms, unit, focal_point):
    for text in ("TST1 they hit me", "DONE", "2", "2"):
        sms(text, phone=PHONE)
    return Case.objects.get()


@pytest.fixture
def page_of(staff_client, focal_point):
    client = staff_client(focal_point)

    def get(case) -> str:
        response = client.get(reverse("staff:case", args=[case.reference]))
        assert response.status_code == 200
        return response.content.decode()

    get.client = client
    return get


# --- The conversation, apart from internal notes ---------------------------------------


@pytest.mark.django_db
def test_the_childs_messages_and_replies_are_shown_apart_from_internal_notes(
    page_of, case, focal_point
):
    followup_add_message(case=case, body="He came back on Monday.")
    case_reply(case=case, actor=focal_point, body="Thank you, we will look into it.")
    case_note(case=case, actor=focal_point, body="Ask the shift lead about Monday.")
    page = page_of(case)
    conversation, notes = section(page, "conversation"), section(page, "notes")
    assert "He came back on Monday." in conversation and "we will look into it" in conversation
    assert "shift lead" not in conversation
    assert "shift lead" in notes and "He came back" not in notes and "look into it" not in notes


# --- Actions come back to where they were taken ----------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, data, fragment",
    [
        ("staff:case", {"action": "send", "body": "We read your message."}, "conversation"),
        ("staff:case_note", {"body": "Called the unit."}, "notes"),
        ("staff:case_note", {"body": ""}, "notes"),
        ("staff:case_status", {"to_status": "acknowledged"}, "handling"),
        ("staff:case_status", {"to_status": "closed"}, "handling"),
        ("staff:case_assign", {"assignee": "999"}, "assignment"),
        ("staff:case_refer", {"to_unit": "999"}, "referral"),
        ("staff:case_about", {"staff_member": "999"}, "conflict"),
        ("staff:case_recuse", {"reason": ""}, "conflict"),
        ("staff:case_substantiate", {}, "handling"),
    ],
)
def test_each_action_returns_to_its_section_of_the_page(page_of, case, name, data, fragment):
    response = page_of.client.post(reverse(name, args=[case.reference]), data)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('staff:case', args=[case.reference])}#{fragment}"
    assert f'id="{fragment}"' in page_of(case)


@pytest.mark.django_db
def test_a_refused_reply_comes_back_at_the_reply_box(page_of, case):
    page = page_of(case)
    assert (
        f'action="{reverse("staff:case", args=[case.reference])}#conversation" id="reply-form"'
        in page
    )


@pytest.mark.django_db
def test_actions_are_grouped_in_named_sections(page_of, case):
    page = page_of(case)
    for name, form_url in [
        ("handling", "staff:case_status"),
        ("assignment", "staff:case_assign"),
        ("conflict", "staff:case_recuse"),
        ("notes", "staff:case_note"),
    ]:
        assert f'action="{reverse(form_url, args=[case.reference])}"' in section(page, name)


# --- Errors show as errors ---------------------------------------------------------------


def notices(page: str) -> list[tuple[str, str, str]]:
    """(class, role, text) of each notice on the page."""
    return [
        (cls, role, re.sub(r"<[^>]+>", "", text).strip())
        for cls, role, text in re.findall(
            r'<p class="notice ([\w-]+)" role="(\w+)">(.*?)</p>', page, re.S
        )
    ]


@pytest.mark.django_db
def test_a_refused_close_is_an_error_not_a_green_notice(page_of, case, focal_point):
    # A child who asked to be called: the case waits for the call (issue 14 §1).
    Case.objects.filter(pk=case.pk).update(contact_preference=Case.ContactPreference.PHONE)
    case.refresh_from_db()
    for status, reason in [
        ("acknowledged", ""),
        ("assessing", ""),
        ("investigating", ""),
        ("unsubstantiated", "Nothing found"),
    ]:
        case_transition(case=case, actor=focal_point, to_status=status, reason=reason)
    page = page_of.client.post(
        reverse("staff:case_status", args=[case.reference]),
        {"to_status": "closed", "reason": "Done"},
        follow=True,
    ).content.decode()
    [(cls, role, text)] = notices(page)
    assert (cls, role) == ("notice-error", "alert")
    assert "has not been told the outcome yet" in text and text.startswith("Error:")
    assert Case.objects.get().status == "unsubstantiated"
    # The page says it too, where the case is handled.
    assert "The child has not read the outcome yet" in section(page, "handling")


@pytest.mark.django_db
def test_a_step_that_worked_is_a_success_notice(page_of, case):
    page = page_of.client.post(
        reverse("staff:case_status", args=[case.reference]),
        {"to_status": "acknowledged"},
        follow=True,
    ).content.decode()
    assert notices(page) == [("notice-success", "status", "Case moved to: Acknowledged.")]


@pytest.mark.django_db
def test_an_empty_note_is_an_error(page_of, case):
    page = page_of.client.post(
        reverse("staff:case_note", args=[case.reference]), {"body": " "}, follow=True
    ).content.decode()
    assert notices(page) == [("notice-error", "alert", "Error: The note is empty.")]


@pytest.mark.django_db
def test_not_published_is_an_error_for_the_manager(staff_client, unit, focal_point, manager):
    client = staff_client(manager)
    client.post(reverse("policies:new_draft", args=[unit.code]))
    # The unit has no backup focal point: the draft cannot be published.
    page = client.post(reverse("policies:publish", args=[unit.code]), follow=True).content.decode()
    [(cls, role, text)] = notices(page)
    assert (cls, role) == ("notice-error", "alert") and "Not published" in text


@pytest.mark.django_db
def test_routed_away_is_information_not_success(
    staff_client, django_user_model, unit, focal_point, case
):
    make_staff(django_user_model, "colleague", unit, Membership.Role.FOCAL_POINT)
    client = staff_client(focal_point)
    page = client.post(
        reverse("staff:case_recuse", args=[case.reference]),
        {"reason": "I know the family"},
        follow=True,
    ).content.decode()
    assert notices(page) == [
        ("notice-info", "status", f"Case {case.display_reference} was routed away from you.")
    ]


# --- Replies to a child who wrote by SMS ------------------------------------------------


@pytest.mark.django_db
def test_a_660_character_reply_to_an_sms_child_is_refused_and_the_text_kept(page_of, sms_case):
    body = ("We are sorry this happened to you. " * 20)[:660]
    texts_before = OutboundSms.objects.count()
    response = page_of.client.post(
        reverse("staff:case", args=[sms_case.reference]), {"action": "send", "body": body}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "By SMS this reply would be 5 text messages; the limit is 3." in html.unescape(page)
    assert reply_box(page) == body
    assert shown_segments(page) == 5
    assert OutboundSms.objects.count() == texts_before
    assert not Message.objects.filter(case=sms_case, author_kind=Message.Author.STAFF).exists()


@pytest.mark.django_db
def test_the_service_refuses_an_sms_reply_over_the_limit(sms_case, focal_point):
    before = OutboundSms.objects.count()
    with pytest.raises(ComplaintError, match="5 text messages"):
        case_reply(case=sms_case, actor=focal_point, body="x" * 660)
    assert OutboundSms.objects.count() == before
    assert not Message.objects.filter(case=sms_case, author_kind=Message.Author.STAFF).exists()


@pytest.mark.django_db
def test_the_count_is_of_the_text_actually_sent(page_of, sms_case):
    # Curly quotes are folded to GSM-7 and the reference goes before the reply: 295
    # characters typed, 312 sent, 3 segments (two would take 306).
    body = ("It’s not your fault. " * 15)[:295]
    url = reverse("staff:case", args=[sms_case.reference])
    counted = page_of.client.post(url, {"action": "preview", "body": body}).content.decode()
    assert shown_segments(counted) == 3
    assert reply_box(counted) == body
    before = OutboundSms.objects.count()
    assert page_of.client.post(url, {"action": "send", "body": body}).status_code == 302
    outbound = OutboundSms.objects.order_by("-created_at").first()
    assert OutboundSms.objects.count() == before + 1
    locmem.outbox.clear()
    assert sms_deliver(outbound.pk) == "sent"
    sent = locmem.outbox[0]["body"]
    assert sent.startswith(f"About {sms_case.display_reference}: It's not your fault.")
    assert segments(sent) == 3


@pytest.mark.django_db
def test_a_unicode_reply_is_counted_in_ucs2(page_of, sms_case):
    body = ("نحن آسفون لما حدث لك. سنتصل بك قريبا. " * 4).strip()  # 151 characters
    page = page_of.client.post(
        reverse("staff:case", args=[sms_case.reference]), {"action": "preview", "body": body}
    ).content.decode()
    assert shown_segments(page) == 3  # 17 + 151 = 168 UCS-2 characters, 67 a segment
    assert re.search(r'<span id="sms-unicode">', page)  # shown, not hidden


@pytest.mark.django_db
def test_the_limit_is_a_setting(page_of, sms_case, settings):
    settings.STAFF_SMS_REPLY_MAX_SEGMENTS = 1
    page = page_of.client.post(
        reverse("staff:case", args=[sms_case.reference]), {"action": "send", "body": "y" * 200}
    ).content.decode()
    assert "the limit is 1" in page
    assert "of at most 1 text messages" in page


@pytest.mark.django_db
def test_the_counter_gets_the_sms_frame_and_tables_but_no_content(page_of, sms_case):
    page = page_of(sms_case)
    data = json.loads(
        re.search(
            r'<script id="sms-counter-data" type="application/json">(.*?)</script>', page, re.S
        ).group(1)
    )
    assert data["before"] == f"About {sms_case.display_reference}: " and data["after"] == ""
    assert data["limit"] == 3 and data["gsm"] == [160, 153] and data["ucs2"] == [70, 67]
    assert '<script src="/static/recourse/sms-counter.js" defer></script>' in page
    assert "they hit me" not in json.dumps(data)


@pytest.mark.django_db
def test_a_web_child_gets_no_sms_counter_and_no_sms_limit(page_of, case):
    page = page_of(case)
    assert "sms-counter" not in page and 'id="sms-cost"' not in page
    page_of.client.post(
        reverse("staff:case", args=[case.reference]), {"action": "send", "body": "z" * 1000}
    )
    assert Message.objects.filter(case=case, author_kind=Message.Author.STAFF).count() == 1


@pytest.mark.django_db
def test_opening_the_case_page_is_recorded_once_per_person(page_of, case, focal_point):
    from complaints.models import CaseLastOpened

    before = timezone.now()
    page_of(case)
    opened = CaseLastOpened.objects.get(case=case, user=focal_point)
    assert opened.opened_at >= before
    page_of(case)
    assert CaseLastOpened.objects.filter(case=case).count() == 1


@pytest.mark.django_db
def test_the_case_page_query_count_does_not_grow_with_messages_notes_or_events(
    page_of, case, focal_point
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            page_of(case)
        return len(captured.captured_queries)

    def add(count):
        for i in range(count):
            followup_add_message(case=case, body=f"Message {i}")
            case_reply(case=case, actor=focal_point, body=f"Reply {i}")
            case_note(case=case, actor=focal_point, body=f"Note {i}")

    add(2)
    few = queries()
    add(20)
    case_transition(case=case, actor=focal_point, to_status="acknowledged")
    assert queries() == few


@pytest.mark.django_db
def test_the_same_reply_box_sent_twice_sends_one_reply_and_one_text(page_of, sms_case):
    from notifications.models import OutboundSms

    texts_before = OutboundSms.objects.count()
    page = page_of(sms_case)
    reply_id = re.search(r'name="reply_id" value="([0-9a-f-]{36})"', page).group(1)
    url = reverse("staff:case", args=[sms_case.reference])
    post = {"action": "send", "template": "", "body": "We read it today.", "reply_id": reply_id}
    # Two tabs, or Back and Send again: the same box, posted twice.
    first = page_of.client.post(url, post, follow=True).content.decode()
    second = page_of.client.post(url, post, follow=True).content.decode()
    assert Message.objects.filter(case=sms_case, author_kind=Message.Author.STAFF).count() == 1
    assert OutboundSms.objects.count() == texts_before + 1
    assert "Reply sent" in first and "already sent" in second
    # A fresh page is a fresh box: the next reply goes.
    fresh = re.search(r'name="reply_id" value="([0-9a-f-]{36})"', second).group(1)
    assert fresh != reply_id
    page_of.client.post(url, {**post, "reply_id": fresh, "body": "And we will call."})
    assert Message.objects.filter(case=sms_case, author_kind=Message.Author.STAFF).count() == 2
