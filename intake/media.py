"""Photos and voice messages a child sends by MMS or WhatsApp ("a child who cannot
write can speak").

The webhook only records each item (media_record: an InboundMedia row naming Twilio's
message and media ids, no number, no content) and answers at once. A task fetches the
file from Twilio with the account's credentials (media_fetch), seals it where the text
went (to the case's key, or with the conversation's draft until the case is filed:
conversation_media_to_case), and then deletes it from Twilio. The row is the work
order: a task lost or a transient error leaves it pending for the sweep, and a run
twice fetches once (notifications.delivery).

Only the types below are kept, up to SMS_MEDIA_MAX_BYTES; anything else is deleted from
Twilio unread and the child is told, in their language, what we can keep.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django_q.tasks import async_task

from complaints.models import Case
from intake.models import InboundMedia, SmsConversation, SmsReporter
from notifications.backends.twilio import MediaTooLarge, TwilioMedia
from notifications.delivery import Done, RetryPolicy, delivery_attempt
from notifications.sms import render_sms, sms_queue
from vault import server_sealed
from vault.media import media_seal_draft, media_seal_to_case, media_to_case

logger = logging.getLogger(__name__)

Kind = InboundMedia.Kind

# What browsers show or play and a phone sends: WhatsApp voice notes are OGG/Opus,
# MMS voice recordings AMR or MP4/M4A. No SVG (a script can hide in it), no video.
KEPT_TYPES = {
    "image/jpeg": Kind.PHOTO,
    "image/png": Kind.PHOTO,
    "image/webp": Kind.PHOTO,
    "image/gif": Kind.PHOTO,
    "audio/ogg": Kind.AUDIO,
    "audio/opus": Kind.AUDIO,
    "audio/amr": Kind.AUDIO,
    "audio/mpeg": Kind.AUDIO,
    "audio/mp3": Kind.AUDIO,
    "audio/mp4": Kind.AUDIO,
    "audio/m4a": Kind.AUDIO,
    "audio/x-m4a": Kind.AUDIO,
    "audio/aac": Kind.AUDIO,
    "audio/wav": Kind.AUDIO,
    "audio/x-wav": Kind.AUDIO,
    "audio/wave": Kind.AUDIO,
}
# Twilio sends at most 10 items with a message.
MAX_ITEMS = 10
# How Twilio names an item: .../Accounts/AC.../Messages/MM.../Media/ME...
TWILIO_MEDIA_PATH = re.compile(
    r"/2010-04-01/Accounts/AC\w{1,62}/Messages/(?P<message>[A-Z]{2}\w{1,62})"
    r"/Media/(?P<media>ME\w{1,62})$"
)
MEDIA_RETRY = RetryPolicy(max_attempts=8)
REFUSED_TYPE, REFUSED_SIZE = "type", "size"


@dataclass(frozen=True)
class MediaItem:
    """One item of an inbound message, as the webhook declared it."""

    message_sid: str
    media_sid: str
    content_type: str

    @property
    def kind(self) -> str:
        """Kind.PHOTO or Kind.AUDIO, or "" for a type not kept."""
        return kind_of(self.content_type)


def kind_of(content_type: str) -> str:
    """Kind.PHOTO or Kind.AUDIO for a type kept (parameters ignored), else ""."""
    return KEPT_TYPES.get(content_type.split(";")[0].strip().lower(), "")


def media_items(url_and_types: list[tuple[str, str]]) -> list[MediaItem]:
    """The items of a webhook's MediaUrlN and MediaContentTypeN. A URL not in Twilio's
    form is skipped (logged without it): it could not be fetched with our credentials,
    and nothing but Twilio's API is ever fetched."""
    items = []
    for url, content_type in url_and_types[:MAX_ITEMS]:
        match = TWILIO_MEDIA_PATH.search(url.split("?")[0].removesuffix(".json"))
        if match is None:
            logger.warning("inbound media skipped: not a Twilio media URL")
            continue
        # The type as served to staff later: "audio/ogg; codecs=opus" is audio/ogg.
        content_type = content_type.split(";")[0].strip().lower()[:100]
        items.append(MediaItem(match["message"], match["media"], content_type))
    return items


def media_record(
    reporter: SmsReporter,
    items: list[MediaItem],
    *,
    conversation: SmsConversation | None = None,
    case: Case | None = None,
) -> list[InboundMedia]:
    """Record the items of one inbound message where its text went (the conversation's
    draft, or the case), each fetched by a task once the webhook's transaction commits.
    A type not kept is recorded refused: its task only deletes it from Twilio."""
    rows = [
        InboundMedia(
            reporter=reporter,
            conversation=None if case else conversation,
            case=case,
            message_sid=item.message_sid,
            media_sid=item.media_sid,
            content_type=item.content_type,
            kind=item.kind,
            refused_because="" if item.kind else REFUSED_TYPE,
        )
        for item in items
    ]
    for row in rows:
        row.save(force_insert=True)
        transaction.on_commit(lambda pk=row.pk: enqueue_media_fetch(pk))
    if conversation is not None and case is None and any(row.kind for row in rows):
        _draft_holds_media(conversation)
    return rows


def _draft_holds_media(conversation: SmsConversation) -> None:
    """A photo or voice message is story: a conversation that holds one is filed like
    one with words (its draft, empty of text, is no longer NULL; the case's narrative
    then reads "(no text)")."""
    if not conversation.draft:
        server_sealed.seal(conversation, "draft", "")
        conversation.save(update_fields=["draft"])


def conversation_media_to_case(conversation: SmsConversation, case: Case) -> None:
    """The conversation's draft became (part of) a case: its media go with it, locked
    against a fetch sealing them at the same moment."""
    if conversation.pk is None:  # filed from its first text: nothing is kept with it yet
        return
    rows = InboundMedia.objects.select_for_update().filter(conversation=conversation)
    for media in rows:
        media_to_case(media, case)
        media.save(update_fields=["conversation", "case", "content", "draft_content"])


def enqueue_media_fetch(media_id) -> None:
    async_task("intake.tasks.fetch_media", str(media_id), save=False)


def media_fetch(media_id) -> str:
    """Fetch, seal and delete one item at Twilio. Safe to run twice: only the run that
    claims the row works on it, and bytes sealed once are not fetched again."""
    return delivery_attempt(
        rows=InboundMedia.objects.all(),
        pk=media_id,
        send=_fetch_seal_delete,
        retry=lambda _media: MEDIA_RETRY,
    )


def _fetch_seal_delete(media: InboundMedia) -> Done:
    twilio = TwilioMedia()
    if not (media.content or media.draft_content or media.refused_because):
        media = _fetch_and_seal(twilio, media)
    # Only once the bytes are sealed and committed (or refused): a failure here is
    # retried with them kept, and nothing is fetched again.
    twilio.delete(message_sid=media.message_sid, media_sid=media.media_sid)
    status = InboundMedia.Status.REFUSED if media.refused_because else InboundMedia.Status.SENT
    return Done(status=status)


def _fetch_and_seal(twilio: TwilioMedia, media: InboundMedia) -> InboundMedia:
    try:
        fetched = twilio.fetch(
            message_sid=media.message_sid,
            media_sid=media.media_sid,
            max_bytes=settings.SMS_MEDIA_MAX_BYTES,
        )
    except MediaTooLarge:
        return _refuse(media, REFUSED_SIZE)
    if kind_of(fetched.content_type) != media.kind:
        return _refuse(media, REFUSED_TYPE)  # not what the webhook said it was
    with transaction.atomic():
        row = (
            InboundMedia.objects.select_for_update(of=("self",))
            .select_related("case")
            .get(pk=media.pk)
        )
        if row.case_id:
            media_seal_to_case(row, row.case, fetched.data)
        else:
            media_seal_draft(row, fetched.data)
        row.size = len(fetched.data)
        row.save(update_fields=["case", "content", "draft_content", "size"])
    return row


@transaction.atomic
def _refuse(media: InboundMedia, reason: str) -> InboundMedia:
    """Nothing of it is kept; the child is told once (the row says so for a retry)."""
    row = (
        InboundMedia.objects.select_for_update(of=("self",))
        .select_related("reporter", "case__unit", "conversation__unit")
        .get(pk=media.pk)
    )
    row.refused_because = reason
    row.save(update_fields=["refused_because"])
    unit = row.case.unit if row.case_id else row.conversation.unit if row.conversation_id else None
    sms_queue(
        reporter=row.reporter,
        case=row.case,
        body=media_refused_text(reason, media_language(row.reporter, unit)),
    )
    return row


def media_language(reporter: SmsReporter, unit) -> str:
    return reporter.language or (unit.default_language if unit else settings.LANGUAGE_CODE)


def media_refused_text(reason: str, language: str) -> str:
    return render_sms(
        "media_refused",
        language,
        too_big=reason == REFUSED_SIZE,
        max_mb=max(settings.SMS_MEDIA_MAX_BYTES // (1024 * 1024), 1),
    )


def due_media_requeue(*, now) -> None:
    """Every minute: enqueue again what a lost task or a retry left waiting."""
    for media_id in InboundMedia.objects.due_ids(now=now):
        enqueue_media_fetch(media_id)
