import uuid

from django.db import connections, models, router
from django.utils import timezone

from config.rows import rows_select
from notifications.models import Delivery
from vault import server_sealed

WHATSAPP_PREFIX = "whatsapp:"


class SmsReporter(models.Model):
    """A phone number that wrote to the service, by SMS or by WhatsApp. The address
    ("+221..." or "whatsapp:+221...", as Twilio gives it) is sealed under the server
    key ring (the server must text it back with nobody present) and found again by a
    keyed HMAC of that whole address: the same phone by SMS and by WhatsApp is two
    reporters, who never see each other's cases. Staff screens say "SMS reporter",
    never the number."""

    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        WHATSAPP = "whatsapp", "WhatsApp"

    phone_index = models.CharField(max_length=64)
    phone = models.BinaryField(editable=False)
    # db_default, as for the fields below: rows written by code that predates them.
    channel = models.CharField(
        max_length=8, choices=Channel.choices, default=Channel.SMS, db_default=Channel.SMS
    )
    language = models.CharField(max_length=8, blank=True)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # When the child last wrote: WhatsApp allows free text only within a window after
    # it (notifications.sms); texts to send outside it wait for the next message.
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    # The service's own address the child last wrote to ("whatsapp:+..."): WhatsApp's
    # window is open with that sender only. Ours, not the child's: not sealed.
    service_address = models.CharField(max_length=64, blank=True, db_default="")

    class Meta:
        # A constraint, not unique=True: on PostgreSQL that also makes a LIKE index
        # (varchar_pattern_ops) that nothing reads and every new number writes.
        constraints = [models.UniqueConstraint(fields=["phone_index"], name="sms_reporter_once")]

    def __str__(self) -> str:
        return f"SMS reporter #{self.pk}"

    @property
    def opted_out(self) -> bool:
        return self.opted_out_at is not None

    @property
    def on_whatsapp(self) -> bool:
        return self.channel == self.Channel.WHATSAPP

    @staticmethod
    def channel_of(address: str) -> str:
        """The channel a Twilio address is on: "whatsapp:+221..." is WhatsApp."""
        if address.lower().startswith(WHATSAPP_PREFIX):
            return SmsReporter.Channel.WHATSAPP
        return SmsReporter.Channel.SMS

    @staticmethod
    def index_for(phone: str) -> str:
        return server_sealed.blind_index(phone, purpose="sms-reporter")

    def read_phone(self) -> str:
        return server_sealed.open_field(self, "phone")

    @classmethod
    def for_phone(cls, phone: str) -> tuple["SmsReporter", bool]:
        """The reporter of an E.164 number or a "whatsapp:" address, made (address
        sealed) if new: (reporter, created). Two first texts at once: the loser's
        insert raises IntegrityError."""
        index = cls.index_for(phone)
        reporter = cls.objects.filter(phone_index=index).first()
        if reporter:
            return reporter, False
        reporter = cls(phone_index=index, channel=cls.channel_of(phone))
        server_sealed.seal(reporter, "phone", phone)
        reporter.save(force_insert=True)
        return reporter, True

    @classmethod
    def wrote_in(
        cls, phone: str, *, to_number: str, language: str, since, also: tuple | None = None
    ) -> tuple["SmsReporter", bool, "SmsConversation | None", object]:
        """The reporter of the sender of an inbound text, noted as having written just
        now (to our `to_number`, when given: WhatsApp's window runs from that message,
        with that sender), and its conversation going on (going_on_statement),
        in one round trip on PostgreSQL, with the row of `also`, a (model, sql, params)
        that the text needs too: (reporter, created, conversation, that row). A new
        number is inserted with its address sealed and `language` (what its first
        text was written in, "" if unknown); a known one keeps its address and
        language. Two first texts at once: the second waits for the first's
        transaction, then updates the row it inserted; then, as its own statement,
        finds the conversation the first one started."""
        now = timezone.now()
        reporter = cls(
            phone_index=cls.index_for(phone),
            channel=cls.channel_of(phone),
            language=language,
            created_at=now,
            last_inbound_at=now,
            service_address=to_number,
        )
        server_sealed.seal(reporter, "phone", phone)
        inserted = ["phone_index", "phone", "channel", "language"]
        inserted += ["created_at", "last_inbound_at", "service_address"]
        fields = [cls._meta.get_field(name) for name in inserted]
        db = router.db_for_write(cls)
        quote = connections[db].ops.quote_name
        returned = [quote(f.column) for f in cls._meta.concrete_fields]
        table = quote(cls._meta.db_table)
        # An upsert returning the row: Django's ORM returns no more than the primary
        # key from an INSERT ... ON CONFLICT, and a SELECT then an INSERT or UPDATE
        # costs the webhook two round trips (PostgreSQL and SQLite 3.35+ both run it).
        upsert = (
            f"INSERT INTO {table} ({', '.join(quote(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))}) "
            "ON CONFLICT (phone_index) DO UPDATE SET "
            "last_inbound_at = excluded.last_inbound_at, "
            "service_address = CASE WHEN excluded.service_address = '' "
            f"THEN {table}.service_address ELSE excluded.service_address END "
            f"RETURNING {', '.join(returned)}"
        )
        params = [f.get_db_prep_save(getattr(reporter, f.attname), connections[db]) for f in fields]
        # The conversation is looked up by the number's index, not the id the upsert
        # returns, so both go out at once. A separate statement, not a CTE: it must
        # see a conversation committed by a concurrent text while this one waited.
        number = f"(SELECT {quote('id')} FROM {table} WHERE {quote('phone_index')} = %s)"
        going_on, going_on_params = SmsConversation.going_on_statement(
            db, number, reporter.phone_index, since
        )
        statements = [(cls, upsert, params), (SmsConversation, going_on, going_on_params)]
        found, conversation, *also_found = rows_select(
            statements + ([also] if also else []), alias=db
        )
        if conversation is not None:
            conversation.reporter = found  # the same row: no second read
        # The sealed address has a fresh random nonce: it came back only if inserted.
        created = bytes(found.phone) == bytes(reporter.phone)
        return found, created, conversation, also_found[0] if also_found else None


class SmsConversation(models.Model):
    """What an SMS reporter is in the middle of: choosing a unit, telling what happened,
    picking a category, answering the danger question, or picking one of several cases.
    The draft narrative is sealed; it becomes the case narrative when the case is filed."""

    class Step(models.TextChoices):
        CHOOSE_UNIT = "choose_unit"
        CHOOSE_LANGUAGE = "choose_language"
        NARRATIVE = "narrative"
        CATEGORY = "category"
        DANGER = "danger"
        CHOOSE_CASE = "choose_case"
        # A text sounded like danger but not clearly: "Are you in danger right now?"
        DANGER_CHECK = "danger_check"
        # WITHDRAW was sent: "Withdraw complaint X? Reply YES or NO" (case = that one).
        WITHDRAW_CHECK = "withdraw_check"
        # RATE was sent after the outcome was told: one question a text (case = the
        # case rated, rating_question = the question asked now). Answers go to
        # complaints.ServiceRating only, never here.
        RATING = "rating"
        FINISHED = "finished"

    reporter = models.ForeignKey(
        SmsReporter, on_delete=models.CASCADE, related_name="conversations"
    )
    # What the sealed draft is bound to (vault.server_sealed): made in Python, so a
    # new conversation is written with its draft in one INSERT, before the database
    # gives it an id. NULL for rows made before it, whose drafts are bound to the id.
    seal_id = models.UUIDField(default=uuid.uuid4, null=True, unique=True, editable=False)
    step = models.CharField(max_length=16, choices=Step.choices)
    unit = models.ForeignKey("policies.Unit", null=True, blank=True, on_delete=models.PROTECT)
    draft = models.BinaryField(null=True, editable=False)
    category = models.CharField(max_length=40, blank=True)
    # For CHOOSE_CASE: the case references offered, in menu order.
    choices = models.JSONField(default=list, blank=True)
    case = models.ForeignKey("complaints.Case", null=True, blank=True, on_delete=models.SET_NULL)
    started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Set when the narrative step was closed by silence, not by DONE.
    prompted_at = models.DateTimeField(null=True, blank=True)
    # The child said they are in danger before a unit was known: the case is filed as
    # an emergency the moment one is.
    in_danger = models.BooleanField(default=False)
    # For RATING: which of complaints.ratings.QUESTIONS is asked now (0, 1 or 2).
    rating_question = models.PositiveSmallIntegerField(default=0)
    # For CATEGORY, where the menu takes more than one page (intake.sms.category_menu):
    # the position in the unit's list of the first category on the page shown.
    menu_start = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["step", "updated_at"])]

    @classmethod
    def going_on_statement(cls, db: str, reporter_sql: str, reporter_param, since):
        """(sql, params) of the reporter's conversation going on: the newest one not
        finished and written to since `since`, locked until the transaction ends
        (SELECT ... FOR UPDATE, so two texts at once take turns); the reporter's id is
        given by `reporter_sql`. Its unit is read only if used. Written as SQL because
        every inbound text asks it (SmsReporter.wrote_in): the ORM spent more CPU
        building this statement than the database spent running it (issue 20). Its
        equivalence with the ORM's form is tested (tests/intake/test_sms_round_trips.py)."""
        connection = connections[db]
        quote = connection.ops.quote_name
        table = quote(cls._meta.db_table)
        columns = ", ".join(quote(f.column) for f in cls._meta.concrete_fields)
        locking = " FOR UPDATE" if connection.features.has_select_for_update else ""
        sql = (
            f"SELECT {columns} FROM {table} "
            f"WHERE {quote('reporter_id')} = {reporter_sql} AND {quote('updated_at')} >= %s "
            f"AND {quote('step')} <> %s "
            f"ORDER BY {quote('updated_at')} DESC LIMIT 1{locking}"
        )
        since = connection.ops.adapt_datetimefield_value(since)
        return sql, [reporter_param, since, cls.Step.FINISHED.value]

    def read_draft(self) -> str:
        return server_sealed.open_field(self, "draft")

    def append_draft(self, text: str) -> None:
        if not text:
            return  # a picture-only MMS has no text to keep
        current = self.read_draft()
        server_sealed.seal(self, "draft", f"{current}\n{text}" if current else text)


class InboundSms(models.Model):
    """One webhook delivery, kept by MessageSid so retries and replays count once. The
    text itself is not kept here: it went into a draft, a case or a message."""

    message_sid = models.CharField(max_length=64)
    reporter = models.ForeignKey(SmsReporter, null=True, on_delete=models.CASCADE)
    # The TwiML reply, sealed: a retry of the same MessageSid gets the same answer.
    reply = models.BinaryField(null=True, editable=False)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # Every text inserts a row: one unique index, without the LIKE index that
        # unique=True adds on PostgreSQL (SmsReporter's Meta).
        constraints = [models.UniqueConstraint(fields=["message_sid"], name="inbound_sms_once")]


class SmsCodePickup(models.Model):
    """The web follow-up code of a case filed by SMS, waiting for the child to ask for
    it (CODE). It is not put in the filing text, where anyone reading the phone would
    find it. Sealed under the server key ring only until it is sent once or
    SMS_CODE_PICKUP_HOURS pass, then deleted: the one window in which the server can
    read a code."""

    case = models.OneToOneField(
        "complaints.Case", on_delete=models.CASCADE, related_name="sms_code_pickup"
    )
    reporter = models.ForeignKey(SmsReporter, on_delete=models.CASCADE, related_name="+")
    code = models.BinaryField(editable=False)
    expires_at = models.DateTimeField(db_index=True)


class InboundMedia(Delivery):
    """A photo or voice message that came with an inbound text (MMS or WhatsApp). The
    webhook records it and answers at once; a task fetches it from Twilio with the
    account's credentials, seals it and deletes it from Twilio (intake/media.py). The
    row is the work order, as an outbound text's is: its state, not the queue, says
    what is left to do, and the sweep finds what a lost task left.

    Twilio names the item by its message and media ids only (no number, no content);
    the bytes live sealed in one of two places: `content`, sealed to the case's public
    key (the server writes it but cannot read it), or, before the case is filed,
    `draft_content`, sealed under the server key ring with the conversation's draft and
    moved to the case with it."""

    class Status(models.TextChoices):
        PENDING = "pending"  # to fetch (or, refused, to delete from Twilio)
        SENT = "sent"  # sealed, and deleted from Twilio
        REFUSED = "refused"  # a type or size not kept: nothing kept, deleted from Twilio
        FAILED = "failed"  # Twilio would not give it (after the retries)

    class Kind(models.TextChoices):
        PHOTO = "photo"
        AUDIO = "audio"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reporter = models.ForeignKey(SmsReporter, on_delete=models.CASCADE, related_name="+")
    # Where it belongs: the conversation's draft until the case is filed, then the case.
    conversation = models.ForeignKey(
        SmsConversation, null=True, blank=True, on_delete=models.CASCADE, related_name="media"
    )
    case = models.ForeignKey(
        "complaints.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="media"
    )
    message_sid = models.CharField(max_length=64)
    media_sid = models.CharField(max_length=64)
    # As Twilio declared it (image/jpeg, audio/ogg ...), checked against what it serves.
    content_type = models.CharField(max_length=100)
    kind = models.CharField(max_length=8, choices=Kind.choices, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True)
    content = models.BinaryField(null=True, editable=False)
    draft_content = models.BinaryField(null=True, editable=False)
    # Not kept, and why ("type", "size"): only its deletion from Twilio is left to do.
    refused_because = models.CharField(max_length=8, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    error_code = models.CharField(max_length=32, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message_sid", "media_sid"], name="inbound_media_once")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"Inbound {self.kind or 'media'} {self.pk}"
