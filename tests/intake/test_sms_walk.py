"""Walking the SMS conversation off the main path, as children do: danger at every
step, answers that are not exactly YES or NO, cases that close meanwhile, two open
cases, a stopped number, a first text that is only a cry for help. Signed webhooks with
the real twilio RequestValidator (the `sms` fixture), in English, French and Spanish."""

from datetime import timedelta

import pytest
from django.utils import timezone

from complaints.danger import Danger, danger_in
from complaints.models import Case
from intake.language import language_of
from intake.models import SmsConversation, SmsReporter
from intake.sms import conversations_sweep
from notifications.gsm import segments
from notifications.models import Notification
from policies.models import ChildProtectionPolicy
from tests.conftest import staff_reads
from tests.intake.test_sms_safety import CALL_NOW, file_by_sms

# Every case here has a focal point to read it with their own key (no server copy).
pytestmark = pytest.mark.usefixtures("focal_point")

ASK_LINE = "In danger now? Call 116 (Child helpline), 17 (Police)."


def file_two_cases(sms):
    for _ in range(2):
        for text in ("TST1 the guard hit me", "DONE", "2", "NO"):
            sms(text)
    return list(Case.objects.order_by("-received_at"))


def everything_kept() -> str:
    """Every narrative, message and unfiled draft, as staff could come to read them."""
    chunks = []
    for case in Case.objects.all():
        content = staff_reads(case)
        chunks += [content.narrative, *(m.body for m in content.messages)]
    chunks += [c.read_draft() for c in SmsConversation.objects.all()]
    return "\n".join(chunks)


# --- Danger that is heard nowhere -------------------------------------------------------------


@pytest.mark.django_db
def test_danger_said_after_the_case_closed_during_the_danger_question_alerts_and_is_kept(
    sms, unit, focal_point
):
    case = file_by_sms(sms, unit)
    sms("I am scared")  # asked "Are you in danger right now?"
    Case.objects.filter(pk=case.pk).update(status=Case.Status.WITHDRAWN)  # closed meanwhile
    reply = sms("he is hitting me now")
    assert reply.startswith(CALL_NOW)
    assert "he is hitting me now" in everything_kept()
    assert Case.objects.filter(in_danger=True, status__in=Case.OPEN_STATUSES).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "answer",
    [
        "yeah",
        "yep",
        "yes he is here",
        "yes please help me",
        "ouais",
        "oui il est là",
        "siii",
        "sí, tengo miedo",
    ],
)
def test_yes_in_other_words_at_the_danger_question_files_an_emergency(
    sms, unit, focal_point, answer
):
    sms("TST1 I am scared, he came back")  # asked "Are you in danger right now?"
    sms(answer)
    case = Case.objects.filter(in_danger=True).first()
    assert case is not None and case.urgency == "emergency"


@pytest.mark.django_db
def test_yes_in_other_words_after_filing_makes_the_case_an_emergency(sms, unit, focal_point):
    case = file_by_sms(sms, unit)
    sms("I am scared, he came back")
    assert sms("yeah").startswith(CALL_NOW)
    case.refresh_from_db()
    assert case.in_danger and case.urgency == "emergency"


@pytest.mark.django_db
def test_unsure_words_from_a_stopped_number_alert_staff(sms, unit, focal_point):
    """No question can reach a number that sent STOP: unsure words are all we will hear."""
    case = file_by_sms(sms, unit)
    sms("STOP")
    Notification.objects.all().delete()
    assert sms("I am scared, he came back to my room") == ""
    assert Notification.objects.filter(case=case, kind=Notification.Kind.DANGER).exists()


@pytest.mark.django_db
def test_an_unanswered_danger_question_is_filed_after_the_pause_not_a_day_later(
    sms, unit, focal_point, settings
):
    sms("TST1 I am scared, he came back to my cell")  # asked, never answered
    later = timezone.now() + timedelta(minutes=settings.SMS_NARRATIVE_PAUSE_MINUTES + 1)
    conversations_sweep(now=later)
    case = Case.objects.get()  # staff can read it now, not after SMS_CONVERSATION_EXPIRY_HOURS
    assert case.urgency != "standard"


@pytest.mark.django_db
def test_unsure_words_with_two_open_cases_ask_the_danger_question(sms, unit, focal_point):
    file_two_cases(sms)
    reply = sms("I'm scared, he came back")
    assert reply.startswith(ASK_LINE) and "Reply YES or NO" in reply


@pytest.mark.django_db
@pytest.mark.parametrize("word", ["help", "AIDE", "ayuda"])
def test_help_in_the_middle_of_the_story_asks_the_danger_question(sms, unit, focal_point, word):
    sms("TST1 the guard hit me")
    reply = sms(word)
    assert "Reply YES or NO" in reply
    assert SmsConversation.objects.get().step == SmsConversation.Step.DANGER_CHECK


@pytest.mark.django_db
def test_yes_with_words_at_the_last_question_files_an_emergency(sms, unit, focal_point):
    for text in ("TST1 the guard hit me", "DONE", "2"):
        sms(text)  # "Are you in danger right now? 1 yes 2 no"
    reply = sms("Yes he hit me")
    case = Case.objects.get()
    assert case.in_danger and case.urgency == "emergency"
    assert reply.startswith(CALL_NOW)
    assert "Yes he hit me" in everything_kept()


# --- A child in danger is slowed down ----------------------------------------------------------


@pytest.mark.django_db
def test_a_child_in_danger_without_a_code_is_shown_the_unit_menu(
    sms, unit, other_unit, focal_point
):
    reply = sms("he is hitting me")
    assert reply.startswith(CALL_NOW)
    assert "1 " in reply and unit.code in reply and other_unit.code in reply  # the numbered menu
    assert segments(reply) <= 2


@pytest.mark.django_db
def test_danger_from_a_number_whose_only_case_closed_is_filed_for_its_last_unit(
    sms, unit, focal_point
):
    case = file_by_sms(sms, unit)
    Case.objects.filter(pk=case.pk).update(status=Case.Status.REFERRED)
    reply = sms("he is hitting me")
    assert reply.startswith(CALL_NOW)
    new = Case.objects.exclude(pk=case.pk).get()  # no poster code to find first
    assert new.unit == unit and new.in_danger


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cry, call_now, language",
    [
        ("au secours", "Appelle vite :", "fr"),
        ("aidez-moi", "Appelle vite :", "fr"),
        ("socorro", "Llama ya:", "es"),
        ("ayúdame", "Llama ya:", "es"),
    ],
)
def test_a_first_cry_for_help_is_answered_in_its_language(sms, unit, cry, call_now, language):
    reply = sms(cry)
    assert reply.startswith(call_now)
    assert SmsReporter.objects.get().language == language


# --- Words lost -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_unit_code_after_the_danger_question_keeps_the_first_text(sms, unit, focal_point):
    sms("please help they took my phone")  # asked "Are you in danger right now?"
    sms("TST1")  # the child answers with the place instead
    for text in ("the guard kept it", "DONE", "2", "NO"):
        sms(text)
    narrative = staff_reads(Case.objects.get()).narrative
    assert "please help they took my phone" in narrative


@pytest.mark.django_db
def test_a_text_sent_at_the_case_menu_is_kept(sms, unit, focal_point):
    file_two_cases(sms)
    sms("one more thing")  # "Which complaint is this about?"
    sms("the guard took my shoes too")
    sms("1")
    assert "the guard took my shoes too" in everything_kept()


@pytest.mark.django_db
def test_a_new_complaint_started_at_the_case_menu_keeps_the_text_already_sent(
    sms, unit, focal_point
):
    file_two_cases(sms)
    sms("they locked me in the dark room")  # "Which complaint is this about?"
    sms("TST1 and a new thing happened")
    kept = [
        c
        for c in Case.objects.all()
        if "they locked me in the dark room"
        in "\n".join([staff_reads(c).narrative] + [m.body for m in staff_reads(c).messages])
    ]
    drafts = [
        c
        for c in SmsConversation.objects.exclude(step=SmsConversation.Step.FINISHED)
        if "they locked me in the dark room" in c.read_draft()
    ]
    assert kept or drafts


# --- Alerts -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_danger_with_two_open_cases_alerts_each_person_once(sms, unit, focal_point):
    newest, _older = file_two_cases(sms)
    Notification.objects.all().delete()
    assert sms("he is hitting me").startswith(CALL_NOW)
    alerts = Notification.objects.filter(
        case=newest, kind=Notification.Kind.DANGER, recipient=focal_point, channel="email"
    )
    assert alerts.count() == 1


@pytest.mark.django_db
def test_a_retried_danger_text_alerts_once_and_gets_the_same_reply(sms, unit, focal_point):
    file_two_cases(sms)
    Notification.objects.all().delete()
    first = sms("he is hitting me", sid="SMwalkretry0000000000000000000001")
    count = Notification.objects.filter(kind=Notification.Kind.DANGER).count()
    assert sms("he is hitting me", sid="SMwalkretry0000000000000000000001") == first
    assert Notification.objects.filter(kind=Notification.Kind.DANGER).count() == count


# --- Replies fit two segments -----------------------------------------------------------------


@pytest.mark.django_db
def test_help_fits_two_segments_in_french_with_long_contact_labels(sms, unit):
    ChildProtectionPolicy.objects.filter(unit=unit).update(
        emergency_contacts=[
            {"label": "Ligne nationale de protection de l'enfance", "number": "+221 33 889 00 00"},
            {"label": "Gendarmerie nationale brigade des mineurs", "number": "+221 33 889 00 01"},
        ]
    )
    sms("FR")
    reply = sms("AIDE")
    assert reply.startswith("En danger ? Appelle le +221 33 889 00 00")
    assert segments(reply) <= 2


# --- Language ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_spanish_yo_is_not_read_as_an_english_greeting(sms, unit):
    assert language_of("yo estoy en peligro") == "es"
    sms("yo no hice nada y el policia me pego")
    assert SmsReporter.objects.get().language == "es"


# --- The phrase list (complaints/data/danger_phrases.json) -------------------------------------

SAID_NOW = [
    # English, as typed on a phone: apostrophes split words ("can't" -> "can t").
    "I can't get out",
    "they won't let me leave",
    "I can't breathe",
    "i wanna die",
    "im suicidal",
    "he is going to beat me",
    "hes gonna hit me",
    "please come get me",
    "i dont want to live anymore",
    "he is touching me",
    "it's an emergency",
    # French: a noun subject, "je me fais ...", SMS spelling, common misspellings.
    "le gardien me frappe",
    "les surveillants me tabassent",
    "je me fais frapper",
    "jme fais taper",
    "il va me frapper",
    "aider moi svp",
    "au secour",
    "o secours",
    "a laide",
    "j'ai envie de mourir",
    "jveux mourir",
    "je veux plus vivre",
    "venez me chercher",
    "appelez la police",
    "le policier me bat",
    # Spanish: plurals, "me voy a ...", usted, "porfa".
    "me van a pegar",
    "me están tocando",
    "me quiero matar",
    "me voy a suicidar",
    "ya no quiero vivir",
    "llamen a la policía",
    "ayúdeme",
    "ayuda porfa",
]

MAYBE = [
    "he's back",
    "shes here",
    "they're here",
    "emergency",
    "danger!!",
    "kms",
    "i cut myself",
    "they threaten me",
    "I can't go home",
    "ils me menacent",
    "ils me suivent",
    "peligro",
    "me quieren pegar",
    "me amenazan",
    "me siguen",
]

NOT_DANGER = [
    # L'aide sociale à l'enfance is the French child social services: not "à l'aide".
    "j'ai demandé à l'aide sociale à l'enfance de me placer",
    "l'aide sociale m'a oublié",
    "ça me tape sur les nerfs",
    "I'm safe",
]


@pytest.mark.parametrize("text", SAID_NOW)
def test_common_ways_to_say_danger_now_are_heard(text):
    assert danger_in(text) is Danger.NOW


@pytest.mark.parametrize("text", MAYBE)
def test_common_unsure_words_are_asked_about(text):
    assert danger_in(text) is Danger.ASK


@pytest.mark.parametrize("text", NOT_DANGER)
def test_common_words_that_are_not_danger(text):
    assert danger_in(text) is Danger.NONE


@pytest.mark.parametrize(
    "text",
    ["ayudaaa", "socorroooo", "auxilioo", "heeelp me", "HELPPP ME", "au secoursss", "aidezzz moi"],
)
def test_elongated_cries_are_heard(text):
    """Children stretch a cry ("ayudaaa"): the list cannot hold every length."""
    assert danger_in(text) is not Danger.NONE


@pytest.mark.parametrize(
    "text",
    [
        "last week the officer was hitting me with his baton",
        "at the station they were beating me for an hour",
        "my nose was bleeding when they let me go",
        "he kept kicking me in the van yesterday",
    ],
)
def test_past_events_told_in_the_past_progressive_are_not_danger_now(text):
    """What happened is what complaints are about; asking is fine, an emergency is not."""
    assert danger_in(text) is not Danger.NOW
