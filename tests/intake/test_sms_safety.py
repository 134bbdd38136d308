"""A child in danger after filing, or on a shared phone, by SMS: signed webhooks with
the real twilio RequestValidator (the `sms` fixture), in English, French and Spanish."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from complaints.danger import Danger, danger_in
from complaints.models import Case, CaseEvent
from intake.language import is_greeting_only, language_of
from intake.models import SmsCodePickup, SmsConversation, SmsReporter
from intake.sms import conversations_sweep
from notifications.backends import locmem
from notifications.models import Notification
from notifications.services import notification_deliver
from policies.models import ChildProtectionPolicy, Membership, StaffProfile
from tests.conftest import make_staff, staff_reads

# Every case here has a focal point to read it with their own key (no server copy).
pytestmark = pytest.mark.usefixtures("focal_point")

CALL_NOW = "Call now: 116 Child helpline, 17 Police."


def file_by_sms(sms, unit, phone="+221770000001", language_word=None):
    sms(f"{unit.code} the guard hit me", phone=phone)
    if language_word:
        sms(language_word, phone=phone)
    sms("DONE", phone=phone)
    sms("2", phone=phone)
    sms("NO", phone=phone)
    return Case.objects.get(sms_reporter__phone_index=SmsReporter.index_for(phone))


@pytest.fixture
def team(django_user_model, unit, focal_point):
    """The unit's focal point, a backup and a manager, each with an alert phone."""
    backup = make_staff(django_user_model, "backup", unit, Membership.Role.FOCAL_POINT)
    Membership.objects.filter(user=backup).update(is_backup=True)
    manager = make_staff(django_user_model, "boss", unit, Membership.Role.MANAGER)
    for i, user in enumerate((focal_point, backup, manager)):
        StaffProfile.objects.create(user=user, alert_phone=f"+1500555000{i}")
    return focal_point, backup, manager


# --- Danger after filing --------------------------------------------------------------------

DANGER_AFTER_FILING = {
    "en": ("EN", "he is hitting me again", "Call now: 116 Child helpline, 17 Police."),
    "fr": ("FR", "il me frappe, au secours", "Appelle vite : 116 Child helpline, 17 Police."),
    "es": ("ES", "me está pegando otra vez", "Llama ya: 116 Child helpline, 17 Police."),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", DANGER_AFTER_FILING)
def test_danger_after_filing_makes_an_emergency_and_alerts_everyone(
    sms, unit, team, language, django_capture_on_commit_callbacks
):
    from notifications.gsm import to_gsm

    focal_point, backup, manager = team
    word, text, call_now = DANGER_AFTER_FILING[language]
    case = file_by_sms(sms, unit, language_word=word)
    assert case.urgency == "urgent" and not case.in_danger
    Notification.objects.all().delete()
    before = timezone.now()

    reply = sms(text)

    # The emergency numbers first, then what happens now.
    assert reply.splitlines()[0] == to_gsm(call_now)
    assert case.display_reference in reply
    case.refresh_from_db()
    assert case.in_danger and case.urgency == "emergency" and case.queue_priority == 0
    # Deadlines recomputed from the policy's emergency row (acknowledge within 1 h).
    assert (
        before + timedelta(minutes=59)
        < case.acknowledge_due_at
        <= timezone.now() + timedelta(hours=1)
    )
    assert case.next_due_at == case.acknowledge_due_at
    assert CaseEvent.objects.filter(case=case, reason__contains="in danger now").exists()
    # Stored with the case, like any other text.
    assert staff_reads(case).messages[-1].body == text
    # Every focal point and backup, by email and SMS; the manager reads no case.
    alerts = Notification.objects.filter(case=case, kind=Notification.Kind.DANGER)
    assert {(n.recipient_id, n.channel) for n in alerts} == {
        (focal_point.pk, "email"),
        (focal_point.pk, "sms"),
        (backup.pk, "email"),
        (backup.pk, "sms"),
    }
    for notification in alerts:
        assert notification_deliver(notification.pk) == "sent"
    assert {m.to[0] for m in mail.outbox} == {focal_point.email, backup.email}
    staff_texts = [m for m in locmem.outbox if m["to"].startswith("+1500555")]
    assert len(staff_texts) == 2
    for body in [m.subject + m.body for m in mail.outbox] + [m["body"] for m in staff_texts]:
        assert text not in body and "hitting" not in body and "+221" not in body  # metadata only
        assert case.display_reference in body


@pytest.mark.django_db
def test_unsure_words_after_filing_ask_and_yes_makes_an_emergency(sms, unit, focal_point):
    case = file_by_sms(sms, unit)
    reply = sms("I am scared, he came back")
    assert reply == (
        "In danger now? Call 116 (Child helpline), 17 (Police).\n"
        "Are you in danger right now? Reply YES or NO."
    )
    case.refresh_from_db()
    assert not case.in_danger  # asked, not assumed
    assert sms("YES").startswith(CALL_NOW)
    case.refresh_from_db()
    assert case.in_danger and case.urgency == "emergency"
    # And the next text is an ordinary addition again.
    assert sms("he left now").startswith("Added to your complaint")


@pytest.mark.django_db
def test_unsure_words_answered_no_stay_an_ordinary_addition(sms, unit, focal_point):
    case = file_by_sms(sms, unit)
    sms("I am afraid of the guard")
    assert sms("NO") == f"OK. We added it to your complaint {case.display_reference}. Thank you."
    case.refresh_from_db()
    assert not case.in_danger and case.urgency == "urgent"
    assert staff_reads(case).messages[-1].body == "I am afraid of the guard"


@pytest.mark.django_db
def test_help_after_filing_gives_the_numbers_first_and_asks(sms, unit, focal_point):
    file_by_sms(sms, unit)
    for word in ("help", "AYUDA"):
        reply = sms(word)
        assert reply.startswith("In danger now? Call 116")
        assert "Reply YES or NO" in reply
        sms("NO")


@pytest.mark.django_db
def test_danger_in_the_middle_of_the_story_files_an_emergency_at_once(sms, unit, focal_point):
    sms("TST1 the officer took my phone")
    assert Case.objects.count() == 0
    reply = sms("now he is beating me")
    assert reply.startswith(CALL_NOW)
    case = Case.objects.get()
    assert case.urgency == "emergency" and case.in_danger
    assert case.display_reference in reply
    assert staff_reads(case).narrative == ("the officer took my phone\nnow he is beating me")
    assert Notification.objects.filter(case=case, kind=Notification.Kind.NEW_CASE).exists()
    # Later texts add to it; DONE adds nothing.
    assert sms("DONE").startswith(f"Complaint {case.display_reference}")
    assert sms("please come").startswith("Added to your complaint")


@pytest.mark.django_db
def test_a_first_text_in_danger_from_a_new_number_is_filed_once_the_place_is_known(
    sms, unit, focal_point
):
    reply = sms("au secours il me frappe")
    assert reply.startswith("Appelle vite : 116")  # French, recognised
    assert SmsConversation.objects.get().in_danger
    reply = sms(unit.code)
    assert reply.startswith("Appelle vite : 116")
    case = Case.objects.get()
    assert case.urgency == "emergency" and case.language == "fr"
    assert staff_reads(case).narrative == "au secours il me frappe"


@pytest.mark.django_db
def test_stop_then_danger_is_stored_and_alerts_staff_without_a_reply(sms, unit, team):
    case = file_by_sms(sms, unit)
    stop = sms("STOP")
    assert "116" in stop and "START" in stop  # the last text they get carries the numbers
    assert sms("help he is hitting me") == ""  # Twilio would block any reply
    case.refresh_from_db()
    assert case.in_danger and case.urgency == "emergency"
    assert staff_reads(case).messages[-1].body == "help he is hitting me"
    assert Notification.objects.filter(case=case, kind=Notification.Kind.DANGER).count() == 4


@pytest.mark.django_db
def test_stop_confirmation_uses_the_units_policy_numbers(sms, unit):
    policy = ChildProtectionPolicy.objects.get(unit=unit)
    ChildProtectionPolicy.objects.filter(pk=policy.pk).update(
        emergency_contacts=[{"label": "Linea", "number": "+50255510000"}]
    )
    file_by_sms(sms, unit)
    reply = sms("STOP")
    assert "+50255510000" in reply and "116" not in reply


# --- The first text, language and greetings -----------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "greeting, language",
    [
        ("hola", "es"),
        ("Buenos días", "es"),
        ("bonjour", "fr"),
        ("Salut !", "fr"),
        ("hello", "en"),
        ("Hi there", "en"),
    ],
)
def test_a_greeting_sets_the_language_and_is_never_the_story(sms, unit, greeting, language):
    reply = sms(greeting)
    assert SmsReporter.objects.get().language == language
    conversation = SmsConversation.objects.get()
    assert conversation.read_draft() == ""
    first_line = {
        "es": "Recourse: cuéntanos",
        "fr": "Recourse : dis-nous",
        "en": "Recourse: tell us",
    }
    assert reply.startswith(first_line[language])
    assert (
        "In danger now? Call 116" in reply or "116" in reply
    )  # one short line, every unit's number
    # A digit answers the menu: the unit is chosen, the language stays.
    sms("1")
    assert SmsReporter.objects.get().language == language
    sms("the officer shouted at me")
    sms("DONE" if language == "en" else "FIN" if language == "fr" else "LISTO")
    sms("2")
    sms("2")
    case = Case.objects.get()
    assert case.language == language
    assert staff_reads(case).narrative == "the officer shouted at me"


@pytest.mark.django_db
def test_a_first_text_with_the_unit_code_is_recognised_too(sms, other_unit):
    assert other_unit.default_language == "fr"
    sms(f"{other_unit.code} hola, el guardia me pegó en la comisaría")
    assert SmsReporter.objects.get().language == "es"


@pytest.mark.django_db
def test_a_greeting_in_the_middle_of_the_story_is_not_kept(sms, unit):
    sms("TST1 they hit me")
    sms("hello?")
    assert SmsConversation.objects.get().read_draft() == "they hit me"


def test_danger_words_in_three_languages():
    now = [
        "he is hitting me again",
        "HELP ME NOW",
        "au secours",
        "il me frappe",
        "Me está pegando",
        "socorro",
        "ils vont me tuer",
        "I want to die",
        "SOS",
    ]
    ask = ["help", "aide", "ayuda", "I'm scared", "j'ai peur", "tengo miedo", "he came back"]
    none = [
        "The officer hit me with a belt last week",
        "Il m'a frappé hier",
        "Me pegaron en la comisaría",
        "I am not in danger",
        "je ne suis pas en danger",
        "no estoy en peligro",
        "C'est la police qui m'a giflé",
        "hola",
        "DONE",
    ]
    assert [danger_in(t) for t in now] == [Danger.NOW] * len(now)
    assert [danger_in(t) for t in ask] == [Danger.ASK] * len(ask)
    assert [danger_in(t) for t in none] == [Danger.NONE] * len(none)


def test_language_of_a_first_text():
    assert language_of("hola") == "es" and language_of("bonjour madame") == "fr"
    assert language_of("le policier m'a frappé avec sa matraque") == "fr"
    assert language_of("el policía me pegó en la calle") == "es"
    assert language_of("the officer pushed me and took my bag") == "en"
    assert language_of("1") is None and language_of("DKR1") is None and language_of("ok") is None
    assert is_greeting_only("Hola!!") and not is_greeting_only("hola, me pegaron")


# --- The web code ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("word", ["CODE", "codigo", "Código"])
def test_code_in_every_language(sms, unit, word):
    file_by_sms(sms, unit)
    assert SmsCodePickup.objects.count() == 1
    reply = sms(word)
    assert "delete this text" in reply
    assert not SmsCodePickup.objects.exists()


@pytest.mark.django_db
def test_an_uncollected_code_is_deleted_when_its_time_is_up(sms, unit, settings):
    file_by_sms(sms, unit)
    later = timezone.now() + timedelta(hours=settings.SMS_CODE_PICKUP_HOURS, minutes=1)
    assert conversations_sweep(now=later)["codes_expired"] == 1
    assert not SmsCodePickup.objects.exists()
    assert "only once" in sms("CODE")


@pytest.mark.django_db
def test_sms_dates_read_in_the_units_time_zone(sms, unit):
    from policies.models import Unit

    Unit.objects.filter(pk=unit.pk).update(time_zone="America/Guatemala")
    sms("TST1 the guard hit me")
    sms("DONE")
    sms("2")
    filed = sms("NO")
    case = Case.objects.get()
    local = timezone.localtime(
        case.acknowledge_due_at, __import__("zoneinfo").ZoneInfo("America/Guatemala")
    )
    assert f"{local.day} {local:%b} {local.year}, {local:%H:%M}" in filed
    assert "/" not in filed.split("answer by", 1)[1]
