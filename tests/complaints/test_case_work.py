import pytest
from django.urls import reverse

from complaints.models import AuditEvent, Case, Message
from complaints.services import complaint_receive
from notifications.models import Notification
from policies.models import Membership
from tests.conftest import child_sees, make_staff, staff_reads


def receive(unit, language="en"):
    return complaint_receive(
        unit=unit,
        channel="web",
        language=language,
        narrative="x",
        category="neglect",
        in_danger=False,
        about_staff_answer="no",
        contact_preference="follow_up_page",
    ).case


@pytest.mark.django_db
def test_internal_notes_are_encrypted_and_never_shown_to_the_child(staff_client, unit, focal_point):
    case = receive(unit)
    client = staff_client(focal_point)
    client.post(
        reverse("staff:case_note", args=[case.reference]), {"body": "Spoke to the shift lead."}
    )
    note = Message.objects.get(author_kind=Message.Author.NOTE)
    assert b"shift lead" not in bytes(note.body)
    assert (
        "Spoke to the shift lead."
        in client.get(reverse("staff:case", args=[case.reference])).content.decode()
    )
    assert child_sees(case) == []
    assert AuditEvent.objects.filter(action="complaints.case.noted").exists()


def reply_box(response) -> str:
    """What the reply box holds on the page that came back."""
    import html
    import re

    found = re.search(
        r'<textarea name="body" id="id_body"[^>]*>(.*?)</textarea>', response.content.decode(), re.S
    )
    return html.unescape(found.group(1))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "language, text",
    [
        ("en", "Can you tell us more about when and where it happened?"),
        ("fr", "Peux-tu nous en dire plus sur quand et où c'est arrivé ?"),
        ("es", "¿Puedes contarnos más sobre cuándo y dónde pasó?"),
    ],
)
def test_reply_template_is_inserted_in_the_childs_language_then_sent(
    staff_client, unit, focal_point, language, text
):
    case = receive(unit, language=language)
    client = staff_client(focal_point)
    url = reverse("staff:case", args=[case.reference])
    inserted = client.post(url, {"action": "insert", "template": "more", "body": "Merci / Gracias"})
    # Inserted before what was typed, for the focal point to read and edit: not sent.
    assert reply_box(inserted) == f"{text}\n\nMerci / Gracias"
    assert child_sees(case) == []
    client.post(url, {"action": "send", "body": reply_box(inserted)})
    assert child_sees(case) == [f"{text}\n\nMerci / Gracias"]


@pytest.mark.django_db
def test_a_template_chosen_but_not_inserted_is_inserted_not_sent_unseen(
    staff_client, unit, focal_point
):
    case = receive(unit)
    response = staff_client(focal_point).post(
        reverse("staff:case", args=[case.reference]),
        {"action": "send", "template": "thanks", "body": ""},
    )
    assert reply_box(response) == "Thank you for telling us. We are looking into it."
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_the_case_page_offers_one_template_choice(staff_client, unit, focal_point):
    case = receive(unit)
    page = (
        staff_client(focal_point).get(reverse("staff:case", args=[case.reference])).content.decode()
    )
    assert page.count('name="template"') == 1
    assert page.count("Ask for more details") == 1


@pytest.mark.django_db
def test_an_empty_reply_is_refused(staff_client, unit, focal_point):
    case = receive(unit)
    response = staff_client(focal_point).post(
        reverse("staff:case", args=[case.reference]),
        {"action": "send", "template": "", "body": " "},
    )
    assert "Write a reply first, or insert a template to start from." in response.content.decode()
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_reassign_within_the_unit_only(
    staff_client, django_user_model, unit, focal_point, outsider
):
    colleague = make_staff(django_user_model, "colleague", unit, Membership.Role.FOCAL_POINT)
    case = receive(unit)
    client = staff_client(focal_point)
    client.post(reverse("staff:case_assign", args=[case.reference]), {"assignee": outsider.pk})
    assert Case.objects.get().assignee != outsider
    client.post(reverse("staff:case_assign", args=[case.reference]), {"assignee": colleague.pk})
    assert Case.objects.get().assignee == colleague
    assert Notification.objects.filter(recipient=colleague).exists()


@pytest.mark.django_db
def test_referral_needs_consent_and_files_a_linked_case_the_child_can_follow(
    client, staff_client, unit, other_unit, focal_point, outsider
):
    from complaints.lifecycle import case_transition
    from tests.conftest import complaint_data, receipt_from

    response = client.post(
        reverse("intake:complaint_form", args=[unit.code]),
        complaint_data(narrative="They refused to call my mother."),
    )
    reference, code = receipt_from(response)
    case = Case.objects.get()
    for status in ("acknowledged", "assessing"):
        case_transition(case=case, actor=focal_point, to_status=status)
    staff = staff_client(focal_point)
    url = reverse("staff:case_refer", args=[case.reference])
    staff.post(url, {"to_unit": other_unit.pk, "reason": "Their jurisdiction"})
    assert Case.objects.count() == 1  # no consent: nothing happened
    staff.post(url, {"to_unit": other_unit.pk, "consent": "on", "reason": "Their jurisdiction"})
    case.refresh_from_db()
    linked = Case.objects.get(referred_from=case)
    assert case.status == "referred" and linked.unit == other_unit
    assert staff_reads(linked, outsider).narrative == "They refused to call my mother."
    messages = child_sees(case)
    assert any(linked.display_reference in m for m in messages)
    # The child follows the new case with the code they already have.
    assert (
        client.post(
            reverse("intake:followup"), {"reference": linked.display_reference, "code": code}
        ).status_code
        == 302
    )
    assert AuditEvent.objects.filter(action="complaints.case.referred", data__consent=True).exists()
    # Staff's own words stay encrypted: a note, not the plaintext history.
    assert not case.events.filter(reason__contains="jurisdiction").exists()
    notes = case.messages.filter(author_kind="note")
    assert notes.count() == 1 and b"jurisdiction" not in bytes(notes.get().body)


@pytest.mark.django_db
def test_emergency_alerts_every_focal_point_by_email_and_sms(django_user_model, unit, focal_point):
    from django.core import mail

    from notifications.backends import locmem
    from notifications.services import notification_deliver
    from policies.models import StaffProfile

    colleague = make_staff(django_user_model, "colleague", unit, Membership.Role.FOCAL_POINT)
    StaffProfile.objects.create(user=colleague, alert_phone="+221779999999")
    case = complaint_receive(
        unit=unit,
        channel="web",
        language="en",
        narrative="He is hitting me now",
        category="physical_violence",
        in_danger=True,
        about_staff_answer="yes",
        contact_preference="none",
    ).case
    for notification in Notification.objects.all():
        notification_deliver(notification.pk)
    assert sorted(m.to[0] for m in mail.outbox) == ["colleague@example.org", "focal@example.org"]
    assert [m["to"] for m in locmem.outbox] == ["+221779999999"]
    assert case.display_reference in locmem.outbox[0]["body"]
    assert "hitting" not in locmem.outbox[0]["body"] + "".join(m.body for m in mail.outbox)


@pytest.mark.django_db
def test_a_template_can_be_inserted_in_the_childs_language_and_edited(
    staff_client, unit, focal_point
):
    case = receive(unit, language="fr")
    client = staff_client(focal_point)
    url = reverse("staff:case", args=[case.reference])
    inserted = client.post(url, {"action": "insert", "template": "more", "body": ""})
    assert reply_box(inserted) == "Peux-tu nous en dire plus sur quand et où c'est arrivé ?"
    client.post(url, {"action": "send", "body": "Peux-tu nous dire quel jour c'était ?"})
    assert child_sees(case) == ["Peux-tu nous dire quel jour c'était ?"]


@pytest.mark.django_db
def test_manager_lists_referral_partners_in_the_draft(unit, focal_point):
    from policies.forms import PolicyDraftForm
    from policies.services import policy_draft_get_or_create

    draft = policy_draft_get_or_create(unit=unit)
    form = PolicyDraftForm(policy=draft)
    data = {k: ("" if v is None else v) for k, v in form.initial.items()}
    data["referral_partners"] = (
        "City clinic | health | +221 33 000 00 00\nLegal aid bureau | legal_aid |"
    )
    form = PolicyDraftForm(data, policy=draft)
    assert form.is_valid(), form.errors
    form.apply_to(draft)
    draft.save()
    draft.refresh_from_db()
    assert [p["name"] for p in draft.referral_partners] == ["City clinic", "Legal aid bureau"]
    bad = PolicyDraftForm({**data, "referral_partners": "Clinic | hospital |"}, policy=draft)
    assert not bad.is_valid() and "Unknown kind" in str(bad.errors)
