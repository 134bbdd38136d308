"""The SMS conversation: one inbound text in, at most one short reply out.

A child texts a unit's code (and, in the same text or the next ones, what happened),
sends DONE, picks a category from a numbered menu, answers the danger question, and
gets the case reference. Later texts from the same number add to that number's open
case. Keywords: STATUS, HELP, STOP/START, EN/FR/ES. Whatever the child wrote is kept:
in the conversation's sealed draft until the case is filed, then in the case.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from complaints import crypto
from complaints.models import Case
from complaints.services import (
    MAX_TEXT_LENGTH,
    ComplaintError,
    Receipt,
    clean_text,
    complaint_receive,
    followup_add_message,
)
from intake.models import InboundSms, SmsConversation, SmsReporter
from intake.wording import status_for_child
from notifications.gsm import segments
from notifications.sms import render_sms, sms_queue
from policies.categories import policy_category_codes, sms_label
from policies.models import Unit
from policies.selectors import (
    unit_current_policy,
    unit_emergency_contacts,
    units_open_to_reporters,
)

Step = SmsConversation.Step

# Twilio's own opt-out and opt-in keywords (single words only).
logger = logging.getLogger(__name__)

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
START_WORDS = {"START", "UNSTOP", "YES"}
HELP_WORDS = {"HELP", "INFO", "AIDE", "AYUDA"}
STATUS_WORDS = {"STATUS", "STATUT", "ESTADO"}
DONE_WORDS = {"DONE", "FIN", "LISTO", "FINI", "TERMINE"}
LANGUAGE_WORDS = {"EN": "en", "ENGLISH": "en", "FR": "fr", "FRANCAIS": "fr",
                  "ES": "es", "ESPANOL": "es"}
MENU_LANGUAGES = {"1": "en", "2": "fr", "3": "es"}
YES_WORDS = {"1", "YES", "Y", "OUI", "SI"}
NO_WORDS = {"2", "NO", "N", "NON"}


def keyword(body: str) -> str:
    """The message as a keyword if it is a single word ("stop hurting me" is not)."""
    words = body.split()
    if len(words) != 1:
        return ""
    folded = unicodedata.normalize("NFKD", words[0])
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"[^\w]", "", folded).upper()


# --- Inbound -----------------------------------------------------------------------------


# The web code is shown once: a retry of the text that filed the case gets this instead,
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


def sms_receive(*, message_sid: str, from_number: str, body: str) -> str:
    """Handle one inbound text; return the reply ("" for none). Idempotent on
    MessageSid: a retry or replay gets the first answer and changes nothing."""
    try:
        return _receive_new(message_sid, from_number, body)
    except IntegrityError:
        # Seen before (a Twilio retry), or a concurrent delivery of the same MessageSid
        # committed first: all of this one rolled back. Retries are rare, so the
        # MessageSid is not looked up before the work.
        existing = InboundSms.objects.filter(message_sid=message_sid).first()
        if existing:
            return _stored_reply(existing)
    # The same new number texted twice at once and the other text created the
    # reporter: now it is found.
    return _receive_new(message_sid, from_number, body)


@transaction.atomic
def _receive_new(message_sid: str, from_number: str, body: str) -> str:
    # The InboundSms row is written last, with the reply, in the same transaction: its
    # unique MessageSid makes a concurrent duplicate fail and roll back as a whole.
    reporter, created = _reporter_for(from_number)
    reply = _respond(reporter, clean_text(body), new_reporter=created)
    if reporter.opted_out:
        reply = ""  # STOP means no outbound text of any kind until START
    inbound = InboundSms(message_sid=message_sid, reporter=reporter)
    if reply:
        kept = getattr(reply, "kept", reply)
        inbound.reply = crypto.server_seal(kept, context=inbound.reply_context())
    inbound.save(force_insert=True)
    return reply


def _stored_reply(inbound: InboundSms) -> str:
    return crypto.server_open(inbound.reply, context=inbound.reply_context()) if inbound.reply else ""


def _reporter_for(phone: str) -> tuple[SmsReporter, bool]:
    """(reporter, created)."""
    index = SmsReporter.index_for(phone)
    reporter = SmsReporter.objects.filter(phone_index=index).first()
    if reporter:
        return reporter, False
    reporter = SmsReporter(phone_index=index)
    reporter.phone = crypto.server_seal(phone, context=reporter.phone_context())
    reporter.save(force_insert=True)  # the same new number twice at once: see sms_receive
    return reporter, True


def _language(reporter: SmsReporter, unit: Unit | None = None) -> str:
    return reporter.language or (unit.default_language if unit else settings.LANGUAGE_CODE)


def _respond(reporter: SmsReporter, body: str, *, new_reporter: bool) -> str:
    # A number seen for the first time has no conversation or case to look up.
    word = keyword(body)
    language = _language(reporter)
    if word in STOP_WORDS:
        reporter.opted_out_at = timezone.now()
        reporter.save(update_fields=["opted_out_at"])
        return ""  # Twilio confirms an opt-out itself
    if reporter.opted_out and word in START_WORDS:
        reporter.opted_out_at = None
        reporter.save(update_fields=["opted_out_at"])
        return render_sms("restarted", language)
    if word in HELP_WORDS:
        return render_sms("help", language)
    if word in LANGUAGE_WORDS:
        reporter.language = LANGUAGE_WORDS[word]
        reporter.save(update_fields=["language"])
        return render_sms("language_set", reporter.language)
    if word in STATUS_WORDS:
        return _status(reporter, language)

    conversation = None if new_reporter else _active_conversation(reporter)
    unit, rest = _unit_from_first_word(body)
    if unit and (conversation is None or conversation.step != Step.CHOOSE_UNIT):
        if conversation:  # a new complaint replaces an unfinished one, which is kept
            _finish_abandoned(conversation)
        return _start(reporter, unit, rest)
    if conversation:
        return _continue(conversation, body, word)

    open_cases = [] if new_reporter else list(_open_cases(reporter))
    if len(open_cases) == 1:
        return _append(reporter, open_cases[0], body)
    conversation = SmsConversation.objects.create(reporter=reporter, step=Step.CHOOSE_UNIT)
    if len(open_cases) > 1:
        conversation.step = Step.CHOOSE_CASE
        conversation.choices = [c.reference for c in open_cases]
        conversation.append_draft(body)
        conversation.save()
        return render_sms("choose_case", language,
                          references=[c.display_reference for c in open_cases])
    if body and word not in DONE_WORDS:
        conversation.append_draft(body)  # what they said first is kept, not lost
        conversation.save()
    return _welcome(language)


def _welcome(language: str) -> str:
    units = list(units_open_to_reporters()[: settings.SMS_UNIT_MENU_MAX + 1])
    return welcome_text(language, units if len(units) <= settings.SMS_UNIT_MENU_MAX else [])


def welcome_text(language: str, units: list[Unit]) -> str:
    """The numbered unit menu when it fits two segments; else ask for the code."""
    text = render_sms("welcome", language, units=units)
    if units and segments(text) > 2:
        text = render_sms("welcome", language, units=[])
    return text


def _active_conversation(reporter: SmsReporter) -> SmsConversation | None:
    since = timezone.now() - timedelta(hours=settings.SMS_CONVERSATION_EXPIRY_HOURS)
    conversation = (
        SmsConversation.objects.select_for_update(of=("self",))
        .select_related("unit")
        .filter(reporter=reporter, updated_at__gte=since)
        .exclude(step=Step.FINISHED)
        .order_by("-updated_at")
        .first()
    )
    if conversation:
        conversation.reporter = reporter  # the same row: no second read
    return conversation


def _open_cases(reporter: SmsReporter):
    return Case.objects.filter(sms_reporter=reporter, status__in=Case.OPEN_STATUSES).order_by(
        "-received_at"
    )[:5]


def _unit_from_first_word(body: str) -> tuple[Unit | None, str]:
    parts = body.split(maxsplit=1)
    if not parts or len(parts[0]) > 16:
        return None, body
    unit = units_open_to_reporters().filter(code=parts[0].upper()).first()
    if unit is None:
        return None, body
    return unit, parts[1] if len(parts) > 1 else ""


def _start(reporter: SmsReporter, unit: Unit, rest: str) -> str:
    conversation = SmsConversation.objects.create(reporter=reporter, step=Step.NARRATIVE, unit=unit)
    return _after_unit_chosen(conversation, unit, rest)


def _after_unit_chosen(conversation: SmsConversation, unit: Unit, rest: str) -> str:
    """The unit is known. A first-time reporter speaks the unit's language until they
    pick another: the language menu (or the EN/FR/ES hint) is offered once."""
    reporter = conversation.reporter
    first_contact = not reporter.language
    if first_contact:
        reporter.language = unit.default_language
        reporter.save(update_fields=["language"])
    conversation.unit = unit
    if rest:
        conversation.append_draft(rest)
    if conversation.draft:
        conversation.step = Step.NARRATIVE
        _touch(conversation)
        return render_sms("narrative_received", reporter.language, offer_language=first_contact)
    if first_contact:
        conversation.step = Step.CHOOSE_LANGUAGE
        _touch(conversation)
        return render_sms("choose_language", reporter.language, unit=unit)
    conversation.step = Step.NARRATIVE
    _touch(conversation)
    return render_sms("ask_narrative", reporter.language)


def _touch(conversation: SmsConversation) -> None:
    conversation.updated_at = timezone.now()
    conversation.save()


def _continue(conversation: SmsConversation, body: str, word: str) -> str:
    reporter = conversation.reporter
    language = _language(reporter, conversation.unit)

    if conversation.step == Step.CHOOSE_UNIT:
        unit, rest = _unit_from_first_word(body)
        if unit is None:
            unit, rest = _unit_from_menu(word), ""
        if unit is None:
            if body:
                conversation.append_draft(body)
            _touch(conversation)
            return _welcome(language)
        return _after_unit_chosen(conversation, unit, rest)

    if conversation.step == Step.CHOOSE_LANGUAGE:
        if word in MENU_LANGUAGES:
            reporter.language = MENU_LANGUAGES[word]
            reporter.save(update_fields=["language"])
            conversation.step = Step.NARRATIVE
            _touch(conversation)
            return render_sms("ask_narrative", reporter.language)
        conversation.step = Step.NARRATIVE  # they went straight to telling: fine
        return _continue(conversation, body, word)

    if conversation.step == Step.NARRATIVE:
        if word in DONE_WORDS:
            if not conversation.draft:
                _touch(conversation)
                return render_sms("ask_narrative", language)
            return _ask_category(conversation, language)
        conversation.append_draft(body)
        _touch(conversation)
        return render_sms("narrative_received", language, offer_language=False)

    if conversation.step == Step.CATEGORY:
        categories = _categories(conversation.unit)
        if word.isdigit() and 1 <= int(word) <= len(categories):
            conversation.category = categories[int(word) - 1]
            conversation.step = Step.DANGER
            _touch(conversation)
            return render_sms("ask_danger", language)
        if body and word not in DONE_WORDS:
            conversation.append_draft(body)  # more of the story, not a menu answer
        return _ask_category(conversation, language)

    if conversation.step == Step.DANGER:
        if word in YES_WORDS or word in NO_WORDS:
            receipt = _file(conversation, in_danger=word in YES_WORDS)
            contacts = unit_emergency_contacts(conversation.unit)
            return Reply(render_sms("filed", language, case=receipt.case, code=receipt.display_code,
                                    emergency_contacts=contacts),
                         kept=render_sms("filed", language, case=receipt.case, code=CODE_NOT_KEPT,
                                         emergency_contacts=contacts))
        if body:
            conversation.append_draft(body)
        _touch(conversation)
        return render_sms("ask_danger", language)

    if conversation.step == Step.CHOOSE_CASE:
        references = conversation.choices
        if word.isdigit() and 1 <= int(word) <= len(references):
            case = Case.objects.get(reference=references[int(word) - 1])
            if _draft_added_to(conversation, case):
                return render_sms("appended", language, case=case)
            return render_sms("narrative_received", language, offer_language=False)
        _touch(conversation)
        return render_sms("choose_case", language,
                          references=[f"{r[:4]}-{r[4:]}" for r in references])
    return _welcome(language)


def _unit_from_menu(word: str) -> Unit | None:
    if word.isdigit():
        units = list(units_open_to_reporters()[: settings.SMS_UNIT_MENU_MAX])
        index = int(word) - 1
        return units[index] if 0 <= index < len(units) else None
    return units_open_to_reporters().filter(code=word).first() if word else None


def _categories(unit: Unit) -> list[str]:
    policy = unit_current_policy(unit)
    return policy_category_codes(policy.categories) if policy else ["other"]


def _ask_category(conversation: SmsConversation, language: str) -> str:
    conversation.step = Step.CATEGORY
    _touch(conversation)
    labels = [sms_label(code) for code in _categories(conversation.unit)]
    return render_sms("ask_category", language, labels=labels)


def _file(conversation: SmsConversation, *, in_danger: bool) -> Receipt:
    """File the collected complaint. A narrative longer than one complaint allows is
    kept whole: the rest follows as added messages."""
    reporter = conversation.reporter
    narrative = conversation.read_draft() or "(no text)"
    first, rest = narrative[:MAX_TEXT_LENGTH], narrative[MAX_TEXT_LENGTH:]
    receipt = complaint_receive(
        unit=conversation.unit,
        channel=Case.Channel.SMS,
        language=_language(reporter, conversation.unit),
        narrative=first,
        category=conversation.category or "other",
        in_danger=in_danger,
        about_staff=False,
        contact_preference=Case.ContactPreference.SMS,
        sms_reporter=reporter,
    )
    while rest.strip():
        followup_add_message(case=receipt.case, body=rest[:MAX_TEXT_LENGTH])
        rest = rest[MAX_TEXT_LENGTH:]
    conversation.case = receipt.case
    conversation.draft = None
    conversation.step = Step.FINISHED
    _touch(conversation)
    return receipt


def _draft_added_to(conversation: SmsConversation, case: Case) -> bool:
    """Add the conversation's draft to the case the child chose. The draft is cleared
    only once it is stored; if the case has closed meanwhile, the words stay as a new
    story for the same unit."""
    try:
        followup_add_message(case=case, body=conversation.read_draft())
    except ComplaintError:
        conversation.unit = case.unit
        conversation.step = Step.NARRATIVE
        _touch(conversation)
        return False
    conversation.draft = None
    conversation.step = Step.FINISHED
    _touch(conversation)
    return True


def _append(reporter: SmsReporter, case: Case, body: str) -> str:
    language = _language(reporter, case.unit)
    try:
        followup_add_message(case=case, body=body)
    except ComplaintError:
        return _welcome(language)
    return render_sms("appended", language, case=case)


def _status(reporter: SmsReporter, language: str) -> str:
    cases = list(_open_cases(reporter)) or list(
        Case.objects.filter(sms_reporter=reporter).order_by("-received_at")[:1]
    )
    if not cases:
        return render_sms("status", language, case=None)
    case = cases[0]
    return render_sms("status", language, case=case, status_text=status_for_child(case.status),
                      more=len(cases) - 1)


def _finish_abandoned(conversation: SmsConversation) -> None:
    """An unfinished conversation is filed if it holds a story, never dropped."""
    if conversation.unit_id and conversation.draft:
        _file(conversation, in_danger=False)
    else:
        conversation.step = Step.FINISHED
        _touch(conversation)


# --- Periodic ------------------------------------------------------------------------------


def conversations_sweep(*, now: datetime) -> dict:
    """Move on conversations the child left: after a pause in the story, ask the
    category; after the expiry, file what was told (and say so) rather than lose it."""
    pause = now - timedelta(minutes=settings.SMS_NARRATIVE_PAUSE_MINUTES)
    expiry = now - timedelta(hours=settings.SMS_CONVERSATION_EXPIRY_HOURS)
    paused = SmsConversation.objects.filter(
        step=Step.NARRATIVE, updated_at__lt=pause, updated_at__gte=expiry, prompted_at__isnull=True
    ).exclude(draft=None).values_list("pk", flat=True)
    asked = sum(_isolated(_prompt_paused, pk, now) for pk in list(paused[:200]))
    stale = SmsConversation.objects.filter(updated_at__lt=expiry).exclude(step=Step.FINISHED)
    kept = sum(_isolated(_move_on_expired, pk) for pk in list(stale.values_list("pk", flat=True)[:200]))
    return {"asked_category": asked, "filed_on_expiry": kept}


def _isolated(step, pk: int, *args) -> bool:
    """Run one conversation's step; if it fails (its unit closed, say) log the id and
    the error type, never content, so it cannot stop the sweep for everyone else."""
    try:
        return step(pk, *args)
    except Exception as exc:  # noqa: BLE001
        logger.warning("conversation %s not moved on: %s", pk, type(exc).__name__)
        return False


@transaction.atomic
def _prompt_paused(pk: int, now: datetime) -> bool:
    conversation = SmsConversation.objects.select_for_update(of=("self",)).select_related(
        "reporter", "unit").get(pk=pk)
    if conversation.step != Step.NARRATIVE or conversation.prompted_at:
        return False
    text = _ask_category(conversation, _language(conversation.reporter, conversation.unit))
    conversation.prompted_at = now
    conversation.save(update_fields=["prompted_at"])
    sms_queue(reporter=conversation.reporter, body=text)
    return True


@transaction.atomic
def _move_on_expired(pk: int) -> bool:
    """File what an expired conversation holds; True when it became a case."""
    conversation = SmsConversation.objects.select_for_update(of=("self",)).select_related(
        "reporter", "unit").get(pk=pk)
    if conversation.step == Step.FINISHED:
        return False
    if conversation.step == Step.CHOOSE_CASE and conversation.draft and conversation.choices:
        case = Case.objects.get(reference=conversation.choices[0])
        if _draft_added_to(conversation, case):
            return False  # else the case closed meanwhile: filed as a new one below
    if conversation.unit_id and conversation.draft:
        case = _file(conversation, in_danger=False).case
        language = _language(conversation.reporter, conversation.unit)
        sms_queue(reporter=conversation.reporter, case=case,
                  body=render_sms("kept_on_expiry", language, case=case))
        return True
    conversation.step = Step.FINISHED
    conversation.save(update_fields=["step"])
    return False
