"""The SMS conversation: one inbound text in, at most one short reply out.

A child texts a unit's code (and, in the same text or the next ones, what happened),
sends DONE, picks a category from a numbered menu, answers the danger question, and
gets the case reference. Later texts from the same number add to that number's open
case. Keywords: STATUS, HELP/INFO, STOP/START, CODE, EN/FR/ES/AR (any language's
code or name: عربي), WITHDRAW (asked
first: YES or NO), RATE (after the outcome: three questions, one a text, answered
with a digit), REVIEW (after the outcome: the words after it are the reason; later
texts add to the review, as to any open case). Whatever the child wrote
is kept: in the conversation's sealed draft until the case is filed, then in the case.
Photos and voice messages (MMS, WhatsApp) go where the words of their message go; they
are fetched from Twilio after the reply is sent (intake/media.py).

Danger is listened for in every text (complaints/danger.py): a child who says they are
in danger now gets the unit's emergency numbers first and their case becomes an
emergency at once, filed there and then if it was not yet; when the words are unsure,
the child is asked "Are you in danger right now? Reply YES or NO".

WhatsApp arrives on the same webhook ("whatsapp:" addresses) and has the same
conversation: its own reporter (SmsReporter.channel), its cases filed with channel
WhatsApp, its replies unfolded (notifications.sms.whatsapp_replies).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone, translation
from django.utils.translation import get_language_info, gettext

from complaints.danger import ARABIC_VARIANTS, Danger, danger_in, first_word
from complaints.digits import ascii_digits
from complaints.lifecycle import WithdrawRefused, case_withdraw
from complaints.models import Case, Message, ServiceRating
from complaints.ratings import QUESTIONS, RatingRefused, rating_record
from complaints.reviews import review_request
from complaints.services import (
    MAX_TEXT_LENGTH,
    Added,
    ComplaintError,
    Receipt,
    case_danger_reported,
    clean_text,
    complaint_receive,
    followup_add_message,
    message_create,
)
from config.rows import deferred_writes, row_insert, row_save
from intake.language import is_greeting_only, language_of, offered_languages
from intake.media import (
    REFUSED_TYPE,
    MediaItem,
    conversation_media_to_case,
    media_record,
    media_refused_text,
)
from intake.models import InboundSms, SmsCodePickup, SmsConversation, SmsReporter
from intake.wording import status_for_child
from notifications.gsm import is_gsm, segments
from notifications.models import Notification
from notifications.services import notify_case_handlers
from notifications.sms import (
    held_texts_release,
    over_two_segments,
    render_sms,
    sms_queue,
    whatsapp_replies,
)
from policies.categories import policy_category_codes, sms_label
from policies.models import Unit
from policies.selectors import (
    emergency_contacts_everywhere,
    unit_codes_known,
    unit_current_policy,
    unit_emergency_contacts,
    unit_open_coded,
    unit_open_coded_statement,
    units_open_to_reporters,
)
from vault import server_sealed

Step = SmsConversation.Step
ServiceRatingAnswer = ServiceRating.Answer

logger = logging.getLogger(__name__)

# Twilio's own opt-out and opt-in keywords (single words only).

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
START_WORDS = {"START", "UNSTOP", "YES"}
# Every keyword is written as keyword() folds a text: capitals, no accents, Arabic
# without hamza or vowel marks and ة as ه ("مساعدة" is "مساعده").
# HELP may be a cry for help: with an open case it is heard as possible danger.
HELP_WORDS = {"HELP", "AIDE", "AYUDA", "مساعده"}
INFO_WORDS = {"INFO"}
STATUS_WORDS = {"STATUS", "STATUT", "ESTADO", "الحاله"}
CODE_WORDS = {"CODE", "CODIGO", "CODIGOWEB", "الرمز"}
WITHDRAW_WORDS = {"WITHDRAW", "RETIRER", "RETIRAR"}
# After the outcome was told: "how did we do?" (the outcome text says which word).
RATE_WORDS = {"RATE", "NOTER", "VALORAR"}
# After the outcome was told: ask the oversight unit to review the decision. The only
# keyword that may carry words after it (the reason).
REVIEW_WORDS = {"REVIEW", "REVISION", "REVISAR"}
# The digits that answer a rating question: ServiceRating.Answer, or 0 to skip it.
RATING_DIGITS = {"0": None, "1": 1, "2": 2, "3": 3}
DONE_WORDS = {"DONE", "FIN", "LISTO", "FINI", "TERMINE", "تم", "انتهيت"}
# Besides each language's code and name (language_of_keyword): more names children use.
LANGUAGE_NAMES = {
    "ENGLISH": "en",
    "FRANCAIS": "fr",
    "ESPANOL": "es",
    "ARABIC": "ar",
    "عربي": "ar",
    "عربيه": "ar",
    "العربيه": "ar",
    "العربي": "ar",
}
# How an answer to a yes-or-no question starts, as danger.first_word() reads it
# (lower case, no accents, a stretched letter made one: "siii" is "si").
YES_ANSWERS = {
    "1",
    "yes",
    "y",
    "ye",
    "yeah",
    "yea",
    "yep",
    "yup",
    "ya",
    "oui",
    "ouai",
    "ouais",
    "wi",
    "si",
    "sip",
    "claro",
    "نعم",
    "ايوه",
    "ايوا",
    "اي",
    "اجل",
}
NO_ANSWERS = {"2", "no", "n", "non", "nope", "nah", "nan", "لا", "كلا"}


def keyword(body: str) -> str:
    """The message as a keyword if it is a single word ("stop hurting me" is not), its
    digits in ASCII (an Arabic keyboard's ٣ answers a menu as 3)."""
    words = body.split()
    if len(words) != 1:
        return ""
    folded = unicodedata.normalize("NFKD", ascii_digits(words[0]))
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"[^\w]", "", folded.translate(ARABIC_VARIANTS)).upper()


def language_of_keyword(word: str) -> str | None:
    """EN, FR, WO...: a language's code, or its name (English, Francais, عربي), as a
    keyword; None when the word names no language the service has."""
    # The names are translated: as the active language gives them.
    code = _language_keywords(tuple(settings.LANGUAGES), translation.get_language()).get(word)
    return code if code in dict(settings.LANGUAGES) else None


@lru_cache(maxsize=4)
def _language_keywords(languages: tuple, active_language: str | None) -> dict[str, str]:
    """Keyword → code: a code wins over a known name, which wins over a language's name
    in the active language. Built once per LANGUAGES and active language, not per text."""
    keywords = {keyword(str(name)): code for code, name in languages}
    keywords.update(LANGUAGE_NAMES)
    keywords.update({code.upper(): code for code, _name in languages})
    return keywords


def language_menu(unit: Unit | None) -> list[tuple[str, str, str]]:
    """The SMS language menu: (number, code, name) for the languages the unit offers.
    Names without accents when they fold into GSM-7; a name that would not (العربية) is
    given in English, so the first reply stays GSM-7 and keeps the emergency numbers'
    labels (an Arabic first text is answered in Arabic already: intake.language)."""
    menu = []
    for number, (code, name) in enumerate(offered_languages(unit), start=1):
        folded = "".join(
            c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)
        )
        if not is_gsm(folded):
            folded = get_language_info(code)["name"]
        menu.append((str(number), code, folded))
    return menu


# --- Inbound -----------------------------------------------------------------------------


# The web code is shown once: a retry of the text that carried it gets this instead,
# because anyone holding the database and the server's keys could otherwise read the
# code and, with it, open the child's copy of the case key.
CODE_NOT_KEPT = "**** **** ****"


class Reply(str):
    """A reply whose kept copy (for a Twilio retry of the same MessageSid) differs
    from the text sent now."""

    def __new__(cls, text: str, *, kept: str):
        reply = super().__new__(cls, text)
        reply.kept = kept
        return reply


def sms_receive(
    *,
    message_sid: str,
    from_number: str,
    body: str,
    to_number: str = "",
    media: Sequence[MediaItem] = (),
) -> str:
    """Handle one inbound text, SMS or WhatsApp (a "whatsapp:" From, written to our
    `to_number`), and the photos or voice messages with it (`media`); return the reply
    ("" for none). Idempotent on MessageSid: a retry or replay gets the first answer and
    changes nothing."""
    try:
        return _receive_new(message_sid, from_number, body, to_number, media)
    except IntegrityError:
        # Seen before (a Twilio retry), or a concurrent delivery of the same MessageSid
        # committed first: all of this one rolled back. Retries are rare, so the
        # MessageSid is not looked up before the work.
        existing = InboundSms.objects.filter(message_sid=message_sid).first()
        if existing is None:
            raise
        return server_sealed.open_field(existing, "reply")


def _receive_new(
    message_sid: str, from_number: str, body: str, to_number: str, media: Sequence[MediaItem]
) -> str:
    # The InboundSms row is written last, with the reply, in the same transaction: its
    # unique MessageSid makes a concurrent duplicate fail and roll back as a whole.
    # The conversation's INSERT or UPDATE waits to go out with it and the COMMIT, in
    # one round trip on PostgreSQL (config.rows.deferred_writes).
    with transaction.atomic(), deferred_writes() as deferred:
        text = clean_text(body)
        # A first text's language (its greeting, its cry for help, common words) is the
        # new reporter's; a known number keeps the one it has.
        # The unit a first word names is read with the reporter and the conversation.
        code, rest = _first_word_as_code(text)
        reporter, created, conversation, named_unit = SmsReporter.wrote_in(
            from_number,
            to_number=to_number,
            language=language_of(text) or "",
            since=_conversation_since(),
            also=unit_open_coded_statement(code) if code else None,
        )
        if conversation is not None:
            deferred.row_locked(conversation)  # read FOR UPDATE
        was_opted_out = reporter.opted_out
        with whatsapp_replies(reporter.on_whatsapp):
            if media and not text:
                reply = _media_only(reporter, list(media), conversation, new_reporter=created)
            else:
                started = timezone.now()
                named = (named_unit, rest)
                reply = _respond(reporter, text, conversation, named, new_reporter=created)
                if media:
                    reply = _media_with_text(reporter, list(media), reply, since=started)
        if was_opted_out and reporter.opted_out:
            # STOP means no outbound text of any kind until START. What they wrote is
            # still kept, and a danger text still alerts staff.
            reply = ""
        inbound = InboundSms(message_sid=message_sid, reporter=reporter)
        if reply:
            kept = getattr(reply, "kept", reply)
            server_sealed.seal(inbound, "reply", kept)
        if reporter.on_whatsapp:  # its window is open again: held texts go, after this reply
            row_insert(inbound)
            held_texts_release(reporter)
        else:
            deferred.finish(inbound)
    return reply


def _channel(reporter: SmsReporter) -> str:
    """The channel a case of this reporter is filed and followed on."""
    return Case.Channel.WHATSAPP if reporter.on_whatsapp else Case.Channel.SMS


# --- Photos and voice messages ---------------------------------------------------------


def _media_home(
    reporter: SmsReporter,
    *,
    since: datetime | None = None,
    going_on: SmsConversation | None = None,
) -> tuple[SmsConversation | None, Case | None]:
    """Where the photos and voice messages of a message belong: where its words went
    (the conversation the text moved on since `since`: its draft until the case is
    filed, or the case it filed or chose), else the child's one open case. With no
    words (`since` None), the conversation going on (`going_on`, read with the
    reporter). (None, None): nowhere yet, or several open cases to choose from."""
    if since is None:
        conversation = going_on
    else:
        conversation = (
            SmsConversation.objects.filter(reporter=reporter, updated_at__gte=since)
            .select_related("unit", "case__unit")
            .order_by("-updated_at")
            .first()
        )
    if conversation is not None:
        if conversation.case_id is None and conversation.step != Step.FINISHED:
            return conversation, None
        if conversation.case_id and conversation.case.is_open:
            return None, conversation.case
    open_cases = list(_open_cases(reporter)[:2])
    return None, open_cases[0] if len(open_cases) == 1 else None


def _media_with_text(
    reporter: SmsReporter, media: list[MediaItem], reply: str, *, since: datetime
) -> str:
    """Media that came with words: kept where the words went. The words' reply already
    says they were received, so it stays the one reply; only a file not kept adds a
    line (or, when the reply has no room for it, a text of its own)."""
    conversation, case = _media_home(reporter, since=since)
    if conversation is None and case is None:
        # Nothing is going on (a keyword, a rating): the newest case this number filed
        # keeps them, or, before any, a conversation that asks which place.
        case = (
            Case.objects.filter(sms_reporter=reporter, purged_at__isnull=True)
            .select_related("unit")
            .order_by("-received_at")
            .first()
        )
        if case is None:
            conversation = SmsConversation.objects.create(reporter=reporter, step=Step.CHOOSE_UNIT)
    rows = media_record(reporter, media, conversation=conversation, case=case)
    if not any(row.refused_because for row in rows):
        return reply
    unit = case.unit if case is not None else conversation.unit
    note = media_refused_text(REFUSED_TYPE, _language(reporter, unit))
    combined = f"{reply}\n{note}" if reply else note
    if segments(combined) <= 2:
        return combined
    sms_queue(reporter=reporter, case=case, body=note)
    return reply


def _media_only(
    reporter: SmsReporter,
    media: list[MediaItem],
    going_on: SmsConversation | None,
    *,
    new_reporter: bool,
) -> str:
    """A photo or voice message with no words: kept with the story being told or the
    open case, and acknowledged ("We got your photo", with the complaint's reference).
    Otherwise it is answered as a text with no words would be, and waits where that
    leads: a new conversation asking which place, or which of several cases."""
    conversation, case = (None, None) if new_reporter else _media_home(reporter, going_on=going_on)
    if conversation is None and case is None:
        started = timezone.now()
        reply = _respond(reporter, "", None, (None, ""), new_reporter=new_reporter)
        return _media_with_text(reporter, media, reply, since=started)
    rows = media_record(reporter, media, conversation=conversation, case=case)
    kept = [row.kind for row in rows if row.kind]
    if case is not None and kept:
        notify_case_handlers(case=case, kind=Notification.Kind.CASE_UPDATED)
    unit = case.unit if case is not None else conversation.unit
    return render_sms(
        "media_received",
        _language(reporter, unit),
        case=case,
        kind=kept[0] if len(kept) == 1 else "several" if kept else "",
        refused=len(kept) < len(rows),
    )


def _language(reporter: SmsReporter, unit: Unit | None = None) -> str:
    return reporter.language or (unit.default_language if unit else settings.LANGUAGE_CODE)


def _conversation_language(conversation: SmsConversation) -> str:
    """_language, reading the conversation's unit only when the reporter has no language."""
    return conversation.reporter.language or _language(conversation.reporter, conversation.unit)


def _contacts(unit: Unit | None) -> list[dict]:
    """The emergency numbers a reply leads with: the unit's policy in force, or, before
    a unit is known, those every unit gives."""
    return unit_emergency_contacts(unit) if unit else emergency_contacts_everywhere()


def _respond(
    reporter: SmsReporter,
    body: str,
    conversation: SmsConversation | None,
    named: tuple[Unit | None, str],
    *,
    new_reporter: bool,
) -> str:
    """The reply to a text with words. `conversation` is the one going on (read, and
    locked, with the reporter); `named` is (the open unit whose code is the first
    word, the words after it), or (None, ...) when the first word is no such code."""
    # A number seen for the first time has no case to look up for a review.
    word = keyword(body)
    language = _language(reporter)
    reply = _keyword_reply(reporter, word, language)
    if reply is not None:
        return reply
    reply = None if new_reporter else _review_asked(reporter, body, language)
    if reply is not None:
        return reply
    unit, rest = named
    if unit:
        return _unit_named(reporter, conversation, unit, rest)
    if conversation:
        return _continue(conversation, body, word)
    return _outside_conversation(reporter, body, word, language, new_reporter=new_reporter)


def _keyword_reply(reporter: SmsReporter, word: str, language: str) -> str | None:
    """The keywords that work wherever the child is; None when the text is none of them."""
    if word in STOP_WORDS:
        return _stop(reporter, language)
    if reporter.opted_out and word in START_WORDS:
        reporter.opted_out_at = None
        reporter.save(update_fields=["opted_out_at"])
        return render_sms("restarted", language)
    chosen = language_of_keyword(word)
    if chosen:
        reporter.language = chosen
        reporter.save(update_fields=["language"])
        return render_sms("language_set", reporter.language)
    if word in STATUS_WORDS:
        return _status(reporter, language)
    if word in CODE_WORDS:
        return _code(reporter, language)
    if word in WITHDRAW_WORDS:
        return _withdraw_ask(reporter, language)
    if word in RATE_WORDS:
        return _rate_start(reporter, language)
    return None


def _unit_named(
    reporter: SmsReporter, conversation: SmsConversation | None, unit: Unit, rest: str
) -> str:
    """A text that starts with a unit's code."""
    if conversation and not (conversation.unit_id or conversation.case_id or conversation.choices):
        # The place they had not named yet: the same story goes on there.
        return _after_unit_chosen(conversation, unit, rest)
    if conversation:  # a new complaint replaces an unfinished one, which is kept
        _finish_abandoned(conversation)
    return _start(reporter, unit, rest)


def _outside_conversation(
    reporter: SmsReporter, body: str, word: str, language: str, *, new_reporter: bool
) -> str:
    """A text with no conversation going on and no unit code: for the child's open case,
    or the start of a conversation (which case? which place?)."""
    open_cases = [] if new_reporter else list(_open_cases(reporter))
    if word in INFO_WORDS or (word in HELP_WORDS and not open_cases):
        return render_sms("help", language, emergency_contacts=_contacts(_last_unit(reporter)))
    if len(open_cases) == 1 or (open_cases and word in HELP_WORDS):
        if word in DONE_WORDS:  # a DONE after the case was already filed: nothing to add
            return _status(reporter, language)
        return _append(reporter, open_cases[0], body, help_word=word in HELP_WORDS)
    # Saved once, with its draft, by whatever the text leads to (_touch or _file).
    conversation = SmsConversation(reporter=reporter, step=Step.CHOOSE_UNIT)
    if open_cases:
        return _ask_which_case(conversation, open_cases, body, language)
    last_unit = None if new_reporter else _last_unit(reporter)
    if last_unit is not None and _heard(reporter, body) is Danger.NOW:
        # Their cases are closed, but the place is known: no poster code to find first.
        conversation.unit = last_unit
        _keep(conversation, body)
        return _file_in_danger(conversation)
    return _choose_unit(conversation, body, word, language)


def _ask_which_case(
    conversation: SmsConversation, open_cases: list[Case], body: str, language: str
) -> str:
    """Several open cases: the text is kept until the child says which one it is about."""
    conversation.step = Step.CHOOSE_CASE
    conversation.choices = [c.reference for c in open_cases]
    conversation.append_draft(body)
    danger = _heard(conversation.reporter, body)
    if danger is Danger.NOW:
        return _draft_to_case_in_danger(conversation, open_cases[0])
    if danger is Danger.ASK:
        return _ask_danger(conversation)
    _touch(conversation)
    return render_sms("choose_case", language, references=[c.display_reference for c in open_cases])


def _heard(reporter: SmsReporter, body: str) -> Danger:
    """What a text says about danger. A number that sent STOP can be asked nothing, so
    unsure words from it are taken as danger."""
    danger = danger_in(body)
    return Danger.NOW if danger is Danger.ASK and reporter.opted_out else danger


def _says_yes(body: str) -> bool:
    """ "yes", "yeah", "oui il est la", "siii": an answer that starts with a yes."""
    return first_word(body) in YES_ANSWERS


def _says_no(body: str) -> bool:
    return first_word(body) in NO_ANSWERS


def _keep(conversation: SmsConversation, body: str) -> None:
    """Add a text to the story, unless it holds no story: a greeting, a keyword."""
    if body and keyword(body) not in DONE_WORDS | HELP_WORDS and not is_greeting_only(body):
        conversation.append_draft(body)


def _choose_unit(conversation: SmsConversation, body: str, word: str, language: str) -> str:
    """No unit yet: keep what they said and ask which place. A child in danger hears the
    numbers first, and their case is filed the moment the place is known."""
    _keep(conversation, body)
    danger = _heard(conversation.reporter, body)
    if danger is Danger.NOW:
        conversation.in_danger = True
    elif danger is Danger.ASK and not conversation.in_danger:
        return _ask_danger(conversation)
    _touch(conversation)
    if conversation.in_danger:
        return _welcome(language, in_danger=True)
    return _welcome(language)


def _welcome(language: str, *, in_danger: bool = False) -> str:
    units = list(units_open_to_reporters()[: settings.SMS_UNIT_MENU_MAX + 1])
    return welcome_text(
        language, units if len(units) <= settings.SMS_UNIT_MENU_MAX else [], in_danger=in_danger
    )


def welcome_text(language: str, units: list[Unit], *, in_danger: bool = False) -> str:
    """The numbered unit menu when it fits two segments; else ask for the code. A child
    in danger gets the numbers first."""
    name = "welcome_danger" if in_danger else "welcome"
    contacts = emergency_contacts_everywhere()
    text = render_sms(name, language, units=units, emergency_contacts=contacts)
    if units and over_two_segments(text):
        text = render_sms(name, language, units=[], emergency_contacts=contacts)
    return text


def _stop(reporter: SmsReporter, language: str) -> str:
    """STOP: no text of any kind until START. Twilio blocks texts to the number from
    now on, so this confirmation is the last thing the child reads from us: it carries
    the emergency numbers and the way back."""
    reporter.opted_out_at = timezone.now()
    reporter.save(update_fields=["opted_out_at"])
    return render_sms("stopped", language, emergency_contacts=_contacts(_last_unit(reporter)))


def _last_unit(reporter: SmsReporter) -> Unit | None:
    """The unit this number last wrote about, if any."""
    case = (
        Case.objects.filter(sms_reporter=reporter)
        .select_related("unit")
        .order_by("-received_at")
        .first()
    )
    if case:
        return case.unit
    conversation = (
        SmsConversation.objects.filter(reporter=reporter, unit__isnull=False)
        .select_related("unit")
        .order_by("-updated_at")
        .first()
    )
    return conversation.unit if conversation else None


def _conversation_since() -> datetime:
    """A conversation not written to since then has expired."""
    return timezone.now() - timedelta(hours=settings.SMS_CONVERSATION_EXPIRY_HOURS)


def _open_cases(reporter: SmsReporter):
    return (
        Case.objects.filter(sms_reporter=reporter, status__in=Case.OPEN_STATUSES)
        .select_related("unit")
        .order_by("-received_at")[:5]
    )


def _first_word_as_code(body: str) -> tuple[str, str]:
    """(the first word, as a unit's code, the words after it); ("", body) when it is no
    unit's code ("and", "he", "bonjour"): most texts, which then cost no look-up."""
    parts = body.split(maxsplit=1)
    code = ascii_digits(parts[0]).upper() if parts else ""
    if code not in unit_codes_known():
        return "", body
    return code, parts[1] if len(parts) > 1 else ""


def _open_unit(code: str) -> Unit | None:
    return unit_open_coded(code) if code else None


def _unit_from_first_word(body: str) -> tuple[Unit | None, str]:
    code, rest = _first_word_as_code(body)
    unit = _open_unit(code)
    return (unit, rest) if unit else (None, body)


def _start(reporter: SmsReporter, unit: Unit, rest: str) -> str:
    # Saved once, with its draft, by whatever the text leads to (_touch or _file).
    conversation = SmsConversation(reporter=reporter, step=Step.NARRATIVE, unit=unit)
    return _after_unit_chosen(conversation, unit, rest)


def _after_unit_chosen(conversation: SmsConversation, unit: Unit, rest: str) -> str:
    """The unit is known. A first-time reporter whose language could not be told speaks
    the unit's language until they pick another: the language menu (or the EN/FR/ES
    hint) is offered once, with the unit's emergency numbers."""
    reporter = conversation.reporter
    first_contact = not reporter.language
    if first_contact:
        reporter.language = language_of(rest) or unit.default_language
        reporter.save(update_fields=["language"])
    conversation.unit = unit
    _keep(conversation, rest)
    danger = _heard(reporter, rest)
    if conversation.in_danger or danger is Danger.NOW:
        return _file_in_danger(conversation)
    if danger is Danger.ASK:
        return _ask_danger(conversation)
    contacts = _contacts(unit) if first_contact else []
    if conversation.draft:
        conversation.step = Step.NARRATIVE
        _touch(conversation)
        return render_sms(
            "narrative_received",
            reporter.language,
            offer_language=first_contact,
            languages=language_menu(unit) if first_contact else [],
            emergency_contacts=contacts,
        )
    if first_contact:
        conversation.step = Step.CHOOSE_LANGUAGE
        _touch(conversation)
        return render_sms(
            "choose_language",
            reporter.language,
            unit=unit,
            languages=language_menu(unit),
            emergency_contacts=contacts,
        )
    conversation.step = Step.NARRATIVE
    _touch(conversation)
    return render_sms("ask_narrative", reporter.language)


def _touch(conversation: SmsConversation) -> None:
    """Save the conversation: an UPDATE, or its INSERT if it is new."""
    conversation.updated_at = timezone.now()
    row_save(conversation)


def _continue(conversation: SmsConversation, body: str, word: str) -> str:
    """A text inside a conversation: the answer to the question it is at, or more of
    the story."""
    language = _conversation_language(conversation)
    if conversation.step == Step.DANGER_CHECK:
        return _danger_answer(conversation, body, word, language)
    if conversation.step == Step.WITHDRAW_CHECK:
        return _withdraw_answer(conversation, body)
    if word in INFO_WORDS:
        return render_sms("help", language, emergency_contacts=_contacts(conversation.unit))
    if word in HELP_WORDS:
        # In the middle of anything, HELP may be a cry: the numbers, and the question.
        return _ask_danger(conversation)
    step_handler = STEP_HANDLERS.get(conversation.step, _more_story)
    return step_handler(conversation, body, word, language)


def _unit_answer(conversation: SmsConversation, body: str, word: str, language: str) -> str:
    """CHOOSE_UNIT: a unit's code, or its number in the menu."""
    unit, rest = _unit_from_first_word(body)
    if unit is None:
        # A digit answers the menu; it never says anything about the language.
        unit, rest = _unit_from_menu(word), ""
    if unit is None:
        return _choose_unit(conversation, body, word, language)
    return _after_unit_chosen(conversation, unit, rest)


def _language_answer(conversation: SmsConversation, body: str, word: str, language: str) -> str:
    """CHOOSE_LANGUAGE: a number from the language menu, or already the story."""
    chosen = {number: code for number, code, _name in language_menu(conversation.unit)}
    if word in chosen:
        reporter = conversation.reporter
        reporter.language = chosen[word]
        reporter.save(update_fields=["language"])
        conversation.step = Step.NARRATIVE
        _touch(conversation)
        return render_sms("ask_narrative", reporter.language)
    conversation.step = Step.NARRATIVE  # they went straight to telling: fine
    return _narrative_text(conversation, body, word, language)


def _case_answer(conversation: SmsConversation, body: str, word: str, language: str) -> str:
    """CHOOSE_CASE: the number of the case the texts so far are about, or more words."""
    references = conversation.choices
    if word.isdigit() and 1 <= int(word) <= len(references):
        return _case_chosen(
            conversation, Case.objects.get(reference=references[int(word) - 1]), language
        )
    _keep(conversation, body)  # more words before the choice: kept for it
    danger = _heard(conversation.reporter, body)
    if danger is Danger.NOW:
        return _draft_to_case_in_danger(conversation, Case.objects.get(reference=references[0]))
    if danger is Danger.ASK:
        return _ask_danger(conversation)
    _touch(conversation)
    return _case_menu(conversation, language)


def _case_chosen(conversation: SmsConversation, case: Case, language: str) -> str:
    long_story = _long_story(conversation)
    added = _draft_added_to(conversation, case)
    if added is None:
        return render_sms("narrative_received", language, offer_language=False)
    if added.danger is Danger.NOW:
        return _danger_told(case, language)
    return _with_long_story_note(render_sms("appended", language, case=case), long_story, language)


def _case_menu(conversation: SmsConversation, language: str) -> str:
    """ "Which case is this about?", listing the conversation's choices."""
    return render_sms(
        "choose_case", language, references=[f"{r[:4]}-{r[4:]}" for r in conversation.choices]
    )


def _narrative_text(conversation: SmsConversation, body: str, word: str, language: str) -> str:
    """NARRATIVE: more of the story, until DONE."""
    if word not in DONE_WORDS:
        return _more_story(conversation, body, word, language)
    if not conversation.draft:
        _touch(conversation)
        return render_sms("ask_narrative", language)
    return _ask_category(conversation, language)


def _category_answer(conversation: SmsConversation, body: str, word: str, language: str) -> str:
    """CATEGORY: a number from the category menu, or 0 for its next page."""
    categories = _categories(conversation.unit)
    if word == "0" and conversation.menu_start + 1 < len(categories):
        return _ask_category(conversation, language, next_page=True)
    if not (word.isdigit() and 1 <= int(word) <= len(categories)):
        return _more_story(conversation, body, word, language)
    conversation.category = categories[int(word) - 1]
    conversation.step = Step.DANGER
    _touch(conversation)
    return render_sms("ask_danger", language)


def _filing_danger_answer(
    conversation: SmsConversation, body: str, word: str, language: str
) -> str:
    """DANGER, the last question: a yes or a no files the complaint, unless the words
    say danger now: then they are more of the story, and it is filed as an emergency."""
    if not (_says_yes(body) or _says_no(body)) or _heard(conversation.reporter, body) is Danger.NOW:
        return _more_story(conversation, body, word, language)
    if not keyword(body):  # "yes he hit me": the words are story too
        _keep(conversation, body)
    long_story = _long_story(conversation)
    receipt = _file(conversation, in_danger=_says_yes(body))
    filed = render_sms(
        "filed", language, case=receipt.case, emergency_contacts=_contacts(conversation.unit)
    )
    return _with_long_story_note(filed, long_story, language)


def _more_story(conversation: SmsConversation, body: str, word: str, language: str) -> str:
    """More of the story, not an answer to the question asked: kept, heard for danger,
    and the question asked again."""
    _keep(conversation, body)
    danger = _heard(conversation.reporter, body)
    if danger is Danger.NOW:
        return _file_in_danger(conversation)
    if danger is Danger.ASK:
        return _ask_danger(conversation)
    if conversation.step == Step.CATEGORY:
        return _ask_category(conversation, language)
    _touch(conversation)
    if conversation.step == Step.DANGER:
        return render_sms("ask_danger", language)
    return render_sms("narrative_received", language, offer_language=False)


def _review_asked(reporter: SmsReporter, body: str, language: str) -> str | None:
    """REVIEW (REVISION, REVISAR), alone or followed by the reason: the newest decided
    case of this number goes to the oversight unit for review. None when the text is no
    such request: a story that happens to start with "review", from a number with no
    decided case, is heard as any text."""
    first, _space, reason = body.partition(" ")
    if keyword(first) not in REVIEW_WORDS:
        return None
    case = (
        Case.objects.filter(sms_reporter=reporter, review_of__isnull=True)
        .exclude(decided_at=None)
        .select_related("unit", "policy__oversight_unit", "sms_reporter")
        .order_by("-decided_at")
        .first()
    )
    reason = reason.strip()
    if case is None and reason:
        return None
    if case is None:  # nothing decided yet: the newest case says why not
        case = (
            Case.objects.filter(sms_reporter=reporter, review_of__isnull=True)
            .select_related("unit", "policy__oversight_unit", "sms_reporter")
            .order_by("-received_at")
            .first()
        )
    if case is None:
        with translation.override(language):
            refusal = gettext("You can ask for a review once we have told you what we decided.")
        return render_sms("review_refused", language, case=None, refusal=refusal)
    language = _language(reporter, case.unit)
    try:
        with translation.override(language):  # the refusal is worded now
            requested = review_request(case=case, reason=reason, channel=_channel(reporter))
    except ComplaintError as refused:  # ReviewRefused, or a reason too long
        with translation.override(language):
            refusal = str(refused.message)
        return render_sms("review_refused", language, case=case, refusal=refusal)
    if reason and not requested.created and requested.review.is_open:
        # REVIEW again, with more words: they go to the review, as any later text does.
        followup_add_message(case=requested.review, body=reason, channel=_channel(reporter))
    return render_sms(
        "review_asked",
        language,
        case=requested.review,
        again=not requested.created,
        with_reason=bool(reason),
        in_danger=requested.in_danger,
        emergency_contacts=_contacts(case.unit) if requested.in_danger else [],
    )


def _rate_start(reporter: SmsReporter, language: str) -> str:
    """RATE: the three questions about the newest case whose outcome the child was
    told, one a text. Nothing to rate yet: say when they can."""
    case = (
        Case.objects.filter(sms_reporter=reporter, outcome_told_at__isnull=False)
        .exclude(outcome__in=["", Case.Status.WITHDRAWN])
        .select_related("unit")
        .order_by("-decided_at")
        .first()
    )
    if case is None:
        return render_sms("rate_none", language)
    SmsConversation.objects.create(
        reporter=reporter, step=Step.RATING, case=case, rating_question=0
    )
    return render_sms("rate_ask", _language(reporter, case.unit), case=case, question=0, first=True)


def _rating_answer(conversation: SmsConversation, body: str, word: str, language: str) -> str:
    """RATING: a digit answers the question asked (0 skips it) and the next one is
    asked. "No" to "did you feel safe" alerts the team (complaints.ratings) and the
    reply leads with the emergency numbers. Words instead of a digit: a single word
    asks again; anything longer, or danger, ends the questions and is heard as any
    text outside a conversation is (kept, never lost)."""
    reporter, case = conversation.reporter, conversation.case
    if word not in RATING_DIGITS:
        if case is not None and len(body.split()) == 1 and _heard(reporter, body) is Danger.NONE:
            _touch(conversation)
            return render_sms(
                "rate_ask", language, case=case, question=conversation.rating_question, again=True
            )
        conversation.step = Step.FINISHED
        _touch(conversation)
        return _outside_conversation(reporter, body, word, language, new_reporter=False)
    question = conversation.rating_question
    names = list(QUESTIONS)
    value = RATING_DIGITS[word]
    unsafe = False
    if case is not None and value is not None and question < len(names):
        try:
            rating_record(case, channel=_channel(reporter), **{names[question]: value})
        except RatingRefused:
            pass  # the case is gone (shredded): nothing to keep the answer against
        unsafe = names[question] == "felt_safe" and value == ServiceRatingAnswer.NO
    contacts = _contacts(case.unit) if unsafe and case is not None else []
    if case is None or question + 1 >= len(names):
        conversation.step = Step.FINISHED
        _touch(conversation)
        return render_sms("rate_thanks", language, unsafe=unsafe, emergency_contacts=contacts)
    conversation.rating_question = question + 1
    _touch(conversation)
    return render_sms(
        "rate_ask",
        language,
        case=case,
        question=question + 1,
        unsafe=unsafe,
        emergency_contacts=contacts,
    )


# How a conversation goes on from the step it is at (DANGER_CHECK and WITHDRAW_CHECK
# are answered first, before HELP and INFO: see _continue).
STEP_HANDLERS = {
    Step.CHOOSE_UNIT: _unit_answer,
    Step.CHOOSE_LANGUAGE: _language_answer,
    Step.CHOOSE_CASE: _case_answer,
    Step.NARRATIVE: _narrative_text,
    Step.CATEGORY: _category_answer,
    Step.DANGER: _filing_danger_answer,
    Step.RATING: _rating_answer,
}


def _ask_danger(conversation: SmsConversation) -> str:
    """Unsure words: ask, inside the conversation. The story goes on after the answer."""
    conversation.step = Step.DANGER_CHECK
    _touch(conversation)
    unit = conversation.unit or (conversation.case.unit if conversation.case_id else None)
    return render_sms(
        "ask_danger_now", _language(conversation.reporter, unit), emergency_contacts=_contacts(unit)
    )


def _danger_answer(conversation: SmsConversation, body: str, word: str, language: str) -> str:
    """The answer to "Are you in danger right now? Reply YES or NO". Danger words or a
    yes in any words ("yeah", "oui il est la") mean yes; whatever else they write is
    kept where the story was."""
    case, unit = conversation.case, conversation.unit
    if case is not None and not case.is_open:
        # The case closed while we waited: the words go to a new one for its unit.
        case, unit = None, case.unit
        conversation.case, conversation.unit = None, unit
    danger = _heard(conversation.reporter, body)
    story = not keyword(body) and not _says_no(body)
    if danger is Danger.NOW or _says_yes(body):
        if case is not None:
            return _case_in_danger(conversation, case, body, language, danger=danger, story=story)
        return _story_in_danger(conversation, unit, body, language, story=story)
    return _not_in_danger(conversation, case, unit, body, word, language)


def _case_in_danger(
    conversation: SmsConversation,
    case: Case,
    body: str,
    language: str,
    *,
    danger: Danger,
    story: bool,
) -> str:
    """Yes, about a filed case: it becomes an emergency; any words go to it."""
    conversation.step = Step.FINISHED
    _touch(conversation)
    if story and danger is Danger.NOW:
        return _append(conversation.reporter, case, body)  # reports the danger itself
    if story:
        followup_add_message(case=case, body=body, channel=_channel(conversation.reporter))
    return _danger_reported(case, language)


def _story_in_danger(
    conversation: SmsConversation, unit: Unit | None, body: str, language: str, *, story: bool
) -> str:
    """Yes, before the story was filed: filed now as an emergency, or, with no place
    named yet, the numbers first and the case filed the moment the place is known."""
    conversation.in_danger = True
    if story:
        _keep(conversation, body)
    if conversation.choices:
        return _draft_to_case_in_danger(
            conversation, Case.objects.get(reference=conversation.choices[0])
        )
    if unit is not None:
        return _file_in_danger(conversation)
    conversation.step = Step.CHOOSE_UNIT
    _touch(conversation)
    return _welcome(language, in_danger=True)


def _not_in_danger(
    conversation: SmsConversation,
    case: Case | None,
    unit: Unit | None,
    body: str,
    word: str,
    language: str,
) -> str:
    """NO, or they went on writing: back to where they were."""
    conversation.step = (
        Step.FINISHED
        if case is not None
        else Step.CHOOSE_CASE
        if conversation.choices
        else Step.NARRATIVE
        if unit is not None
        else Step.CHOOSE_UNIT
    )
    _touch(conversation)
    if _says_no(body) and keyword(body):
        if conversation.step == Step.CHOOSE_CASE:
            return _case_menu(conversation, language)
        if case is None and unit is None:
            return _welcome(language)
        return render_sms("no_danger", language, case=case)
    if case is not None:
        if word in DONE_WORDS:
            return render_sms("no_danger", language, case=case)
        return _append(conversation.reporter, case, body)
    return _continue(conversation, body, word)


def _file_in_danger(conversation: SmsConversation) -> str:
    """The child said they are in danger before the story was finished: file what they
    told now, as an emergency, so every focal point is alerted at once. Later texts
    add to the case."""
    language = _language(conversation.reporter, conversation.unit)
    receipt = _file(conversation, in_danger=True)
    return render_sms(
        "danger_filed", language, case=receipt.case, emergency_contacts=_contacts(conversation.unit)
    )


def _danger_reported(case: Case, language: str) -> str:
    case_danger_reported(case=case, channel=_channel(case.sms_reporter))
    return _danger_told(case, language)


def _danger_told(case: Case, language: str) -> str:
    """The reply once a filed case became an emergency: the numbers first."""
    return render_sms("danger_now", language, case=case, emergency_contacts=_contacts(case.unit))


def _unit_from_menu(word: str) -> Unit | None:
    if word.isdigit():
        units = list(units_open_to_reporters()[: settings.SMS_UNIT_MENU_MAX])
        index = int(word) - 1
        return units[index] if 0 <= index < len(units) else None
    return _open_unit(word)


def _categories(unit: Unit) -> list[str]:
    policy = unit_current_policy(unit)
    return policy_category_codes(policy.categories) if policy else ["other"]


def _ask_category(conversation: SmsConversation, language: str, *, next_page: bool = False) -> str:
    """The category menu; asked again (more story came instead of a number), the same
    page; `next_page` (the child sent 0), the page after it, the first after the last."""
    codes = _categories(conversation.unit)
    start = conversation.menu_start if conversation.step == Step.CATEGORY else 0
    if next_page:
        start += len(category_menu(codes, language, start)[1])
    text, shown = category_menu(codes, language, start if start < len(codes) else 0)
    conversation.step = Step.CATEGORY
    conversation.menu_start = codes.index(shown[0])
    _touch(conversation)
    return text


def category_menu(codes: list[str], language: str, start: int = 0) -> tuple[str, list[str]]:
    """The menu from position `start`: (text, the codes on it). Numbers run through the
    whole list, so any number answers from any page. A list too long for two segments
    (Arabic: 134 characters in UCS-2; 15 categories take about 250) is cut into pages
    that do, each but the last ending "0 More"."""
    labels = [(number, sms_label(code)) for number, code in enumerate(codes, start=1)]
    text = render_sms("ask_category", language, labels=labels[start:])
    if start == 0 and not over_two_segments(text):
        return text, codes
    end = start + 1  # at least one category a page, however long its label
    text = render_sms("ask_category", language, labels=labels[start:end], more=end < len(codes))
    while end < len(codes):
        more = end + 1 < len(codes)
        longer = render_sms("ask_category", language, labels=labels[start : end + 1], more=more)
        if over_two_segments(longer):
            break
        text, end = longer, end + 1
    return text, codes[start:end]


def _file(conversation: SmsConversation, *, in_danger: bool) -> Receipt:
    """File the collected complaint. A narrative longer than one complaint allows is
    kept whole: the rest follows as added messages. The web code waits for CODE."""
    reporter = conversation.reporter
    narrative = conversation.read_draft() or "(no text)"
    first, rest = narrative[:MAX_TEXT_LENGTH], narrative[MAX_TEXT_LENGTH:]
    receipt = complaint_receive(
        unit=conversation.unit,
        channel=_channel(reporter),
        language=_language(reporter, conversation.unit),
        narrative=first,
        category=conversation.category or "other",
        in_danger=in_danger or conversation.in_danger,
        about_staff_answer="",  # the SMS conversation does not ask it
        contact_preference=Case.ContactPreference.SMS,
        sms_reporter=reporter,
    )
    while rest.strip():
        message_create(
            case=receipt.case, author_kind=Message.Author.REPORTER, body=rest[:MAX_TEXT_LENGTH]
        )
        rest = rest[MAX_TEXT_LENGTH:]
    code_pickup_create(case=receipt.case, reporter=reporter, code=receipt.display_code)
    conversation_media_to_case(conversation, receipt.case)
    conversation.case = receipt.case
    conversation.draft = None
    conversation.step = Step.FINISHED
    _touch(conversation)
    return receipt


def _long_story(conversation: SmsConversation) -> bool:
    return len(conversation.read_draft()) > MAX_TEXT_LENGTH


def _with_long_story_note(reply: str, long_story: bool, language: str) -> str:
    """A story too long for one message is kept as several: tell the child none of it
    was cut."""
    return f"{reply}\n{render_sms('long_story_kept', language)}" if long_story else reply


def _draft_added_to(conversation: SmsConversation, case: Case) -> Added | None:
    """Add the conversation's draft to the case the child chose. The draft is cleared
    only once it is stored; if the case has closed meanwhile, the words stay as a new
    story for the same unit (None)."""
    # Many texts before the choice can pass what one message holds: the rest follows
    # as more messages, as in _file, rather than being refused (and taken as a closed
    # case). Each text was already heard for danger as it came in.
    draft = conversation.read_draft()
    try:
        if draft.strip() or not case.is_open:
            added = followup_add_message(
                case=case, body=draft[:MAX_TEXT_LENGTH], channel=_channel(conversation.reporter)
            )
        else:  # photos or voice messages only (intake.media): no words to add
            notify_case_handlers(case=case, kind=Notification.Kind.CASE_UPDATED)
            added = Added(message=None, danger=Danger.NONE)
    except ComplaintError:
        conversation.unit = case.unit
        conversation.choices = []
        conversation.step = Step.NARRATIVE
        _touch(conversation)
        return None
    rest = draft[MAX_TEXT_LENGTH:]
    while rest.strip():
        message_create(case=case, author_kind=Message.Author.REPORTER, body=rest[:MAX_TEXT_LENGTH])
        rest = rest[MAX_TEXT_LENGTH:]
    conversation_media_to_case(conversation, case)
    # The case the texts went to: the photos and voice messages that came with the
    # answer go there too (_media_home).
    conversation.case = case
    conversation.draft = None
    conversation.step = Step.FINISHED
    _touch(conversation)
    return added


def _draft_to_case_in_danger(conversation: SmsConversation, case: Case) -> str:
    """Danger while the child was choosing which case a text is about: no time to ask,
    it goes to their newest case and that case becomes an emergency (once)."""
    language = _language(conversation.reporter, case.unit)
    added = _draft_added_to(conversation, case)
    if added is None:
        conversation.in_danger = True
        return _file_in_danger(conversation)
    if added.danger is Danger.NOW:  # the words themselves said it: already reported
        return _danger_told(case, language)
    return _danger_reported(case, language)


def _append(reporter: SmsReporter, case: Case, body: str, *, help_word: bool = False) -> str:
    """A text for the child's open case. If the case closed meanwhile, the words start a
    new complaint for the same unit rather than being lost."""
    language = _language(reporter, case.unit)
    try:
        added = followup_add_message(case=case, body=body, channel=_channel(reporter))
    except ComplaintError:
        conversation = SmsConversation.objects.create(
            reporter=reporter, step=Step.NARRATIVE, unit=case.unit
        )
        conversation.reporter = reporter
        return _after_unit_chosen(conversation, case.unit, body)
    if added.danger is Danger.NOW:
        return _danger_told(case, language)
    if reporter.opted_out and (added.danger is Danger.ASK or help_word):
        return _danger_reported(case, language)  # nobody can ask a stopped number
    if added.danger is Danger.ASK or help_word:
        conversation = SmsConversation.objects.create(
            reporter=reporter, step=Step.DANGER_CHECK, case=case, unit=None
        )
        conversation.reporter = reporter
        return _ask_danger(conversation)
    return render_sms("appended", language, case=case)


def _status(reporter: SmsReporter, language: str) -> str:
    cases = list(_open_cases(reporter)) or list(
        Case.objects.filter(sms_reporter=reporter).order_by("-received_at")[:1]
    )
    if not cases:
        return render_sms("status", language, case=None)
    case = cases[0]
    return render_sms(
        "status",
        language,
        case=case,
        status_text=status_for_child(case.status),
        more=len(cases) - 1,
    )


def _withdraw_ask(reporter: SmsReporter, language: str) -> str:
    """WITHDRAW: asked first, inside a conversation, as the danger question is. It is
    about the newest open case, named in the question."""
    cases = list(_open_cases(reporter))
    if not cases:
        last = Case.objects.filter(sms_reporter=reporter).order_by("-received_at").first()
        return render_sms("withdraw_none", language, case=last)
    case = cases[0]
    SmsConversation.objects.create(reporter=reporter, step=Step.WITHDRAW_CHECK, case=case)
    return render_sms("withdraw_ask", _language(reporter, case.unit), case=case)


def _withdraw_answer(conversation: SmsConversation, body: str) -> str:
    """YES stops the case; NO keeps it. Danger words, or anything else, are not an
    answer: they go to the case as any text does (and are heard for danger)."""
    reporter, case = conversation.reporter, conversation.case
    language = _language(reporter, case.unit)
    conversation.step = Step.FINISHED
    _touch(conversation)
    if _heard(reporter, body) is Danger.NONE:
        if _says_yes(body) and keyword(body):
            try:
                case_withdraw(case=case, channel=_channel(reporter))
            except WithdrawRefused:  # decided or closed while we waited
                return render_sms("withdraw_none", language, case=case)
            return render_sms("withdrawn", language, case=case)
        if _says_no(body) and keyword(body):
            return render_sms("withdraw_kept", language, case=case)
    return _append(reporter, case, body)


def code_pickup_create(*, case: Case, reporter: SmsReporter, code: str) -> None:
    """Keep the web code of a case filed by SMS until the child texts CODE (see
    SmsCodePickup: the filing text does not carry it)."""
    pickup = SmsCodePickup(
        case=case,
        reporter=reporter,
        expires_at=timezone.now() + timedelta(hours=settings.SMS_CODE_PICKUP_HOURS),
    )
    server_sealed.seal(pickup, "code", code)
    pickup.save(force_insert=True)


def _code(reporter: SmsReporter, language: str) -> str:
    """CODE: the web code of the newest case that still has one waiting, sent once and
    then deleted; a Twilio retry of this text gets it masked."""
    pickup = (
        SmsCodePickup.objects.select_for_update()
        .select_related("case__unit")
        .filter(reporter=reporter, expires_at__gt=timezone.now())
        .order_by("-case__received_at")
        .first()
    )
    if pickup is None:
        return render_sms("code_gone", language, hours=settings.SMS_CODE_PICKUP_HOURS)
    code = server_sealed.open_field(pickup, "code")
    case = pickup.case
    pickup.delete()
    language = _language(reporter, case.unit)
    return Reply(
        render_sms("code", language, case=case, code=code),
        kept=render_sms("code", language, case=case, code=CODE_NOT_KEPT),
    )


def _finish_abandoned(conversation: SmsConversation) -> None:
    """An unfinished conversation is filed if it holds a story, never dropped."""
    if conversation.unit_id and conversation.draft:
        _file(conversation, in_danger=conversation.in_danger)
    elif conversation.case_id and conversation.draft:
        _draft_added_to(conversation, conversation.case)
    elif conversation.choices and conversation.draft:
        _draft_added_to(conversation, Case.objects.get(reference=conversation.choices[0]))
    else:
        conversation.step = Step.FINISHED
        _touch(conversation)


# --- Periodic ------------------------------------------------------------------------------


def conversations_sweep(*, now: datetime) -> dict:
    """Move on conversations the child left: after a pause in the story, ask the
    category; after the expiry, file what was told (and say so) rather than lose it."""
    pause = now - timedelta(minutes=settings.SMS_NARRATIVE_PAUSE_MINUTES)
    expiry = now - timedelta(hours=settings.SMS_CONVERSATION_EXPIRY_HOURS)
    paused = (
        SmsConversation.objects.filter(
            step=Step.NARRATIVE,
            updated_at__lt=pause,
            updated_at__gte=expiry,
            prompted_at__isnull=True,
        )
        .exclude(draft=None)
        .values_list("pk", flat=True)
    )
    asked = sum(_isolated(_prompt_paused, pk, now) for pk in list(paused[:200]))
    # "Are you in danger right now?" left unanswered: a child who may be in danger and
    # went silent is an emergency, not a story to wait a day for.
    unanswered = SmsConversation.objects.filter(
        step=Step.DANGER_CHECK, updated_at__lt=pause, updated_at__gte=expiry
    ).filter(models.Q(case__isnull=False) | models.Q(unit__isnull=False) | ~models.Q(choices=[]))
    alerted = sum(
        _isolated(_danger_unanswered, pk)
        for pk in list(unanswered.values_list("pk", flat=True)[:200])
    )
    stale = SmsConversation.objects.filter(updated_at__lt=expiry).exclude(step=Step.FINISHED)
    kept = sum(
        _isolated(_move_on_expired, pk) for pk in list(stale.values_list("pk", flat=True)[:200])
    )
    codes, _by_model = SmsCodePickup.objects.filter(expires_at__lte=now).delete()
    return {
        "asked_category": asked,
        "danger_unanswered": alerted,
        "filed_on_expiry": kept,
        "codes_expired": codes,
    }


def _isolated(step, pk: int, *args) -> bool:
    """Run one conversation's step; if it fails (its unit closed, say) log the id and
    the error type, never content, so it cannot stop the sweep for everyone else. A
    WhatsApp child's texts are worded for WhatsApp, as their replies are."""
    on_whatsapp = SmsConversation.objects.filter(
        pk=pk, reporter__channel=SmsReporter.Channel.WHATSAPP
    ).exists()
    try:
        with whatsapp_replies(on_whatsapp):
            return step(pk, *args)
    except Exception as exc:  # noqa: BLE001
        logger.warning("conversation %s not moved on: %s", pk, type(exc).__name__)
        return False


@transaction.atomic
def _prompt_paused(pk: int, now: datetime) -> bool:
    conversation = (
        SmsConversation.objects.select_for_update(of=("self",))
        .select_related("reporter", "unit")
        .get(pk=pk)
    )
    if conversation.step != Step.NARRATIVE or conversation.prompted_at:
        return False
    text = _ask_category(conversation, _language(conversation.reporter, conversation.unit))
    conversation.prompted_at = now
    conversation.save(update_fields=["prompted_at"])
    sms_queue(reporter=conversation.reporter, body=text)
    return True


@transaction.atomic
def _danger_unanswered(pk: int) -> bool:
    """The danger question went unanswered past the pause: treated as a yes. A story not
    yet filed is filed as an emergency (the child is told its reference); a filed case
    becomes one."""
    conversation = (
        SmsConversation.objects.select_for_update(of=("self",))
        .select_related("reporter", "unit", "case")
        .get(pk=pk)
    )
    if conversation.step != Step.DANGER_CHECK:
        return False
    reporter = conversation.reporter
    conversation.in_danger = True
    if conversation.case_id and conversation.case.is_open:
        conversation.step = Step.FINISHED
        _touch(conversation)
        case_danger_reported(case=conversation.case, channel=_channel(reporter))
        return True
    if conversation.case_id:  # closed meanwhile: its unit takes a new one
        conversation.unit, conversation.case = conversation.case.unit, None
    if conversation.choices:
        text = _draft_to_case_in_danger(
            conversation, Case.objects.get(reference=conversation.choices[0])
        )
    elif conversation.unit_id and conversation.draft:
        text = _file_in_danger(conversation)
    else:
        return False
    sms_queue(reporter=reporter, case=conversation.case, body=text)
    return True


@transaction.atomic
def _move_on_expired(pk: int) -> bool:
    """File what an expired conversation holds; True when it became a case."""
    conversation = (
        SmsConversation.objects.select_for_update(of=("self",))
        .select_related("reporter", "unit")
        .get(pk=pk)
    )
    if conversation.step == Step.FINISHED:
        return False
    if conversation.step == Step.CHOOSE_CASE and conversation.draft and conversation.choices:
        case = Case.objects.get(reference=conversation.choices[0])
        if _draft_added_to(conversation, case):
            return False  # else the case closed meanwhile: filed as a new one below
    if conversation.unit_id and conversation.draft:
        case = _file(conversation, in_danger=False).case
        language = _language(conversation.reporter, conversation.unit)
        sms_queue(
            reporter=conversation.reporter,
            case=case,
            body=render_sms("kept_on_expiry", language, case=case),
        )
        return True
    conversation.step = Step.FINISHED
    conversation.save(update_fields=["step"])
    return False
