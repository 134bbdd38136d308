import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.languages import language_choices
from policies.models import ChildProtectionPolicy, Unit, Urgency


class Case(models.Model):
    """A complaint. Sensitive fields are AES-GCM ciphertexts (vault/cases.py);
    everything else is metadata that staff screens, statistics and the admin may show."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        ASSESSING = "assessing", _("Being assessed")
        INVESTIGATING = "investigating", _("Being investigated")
        SUBSTANTIATED = "substantiated", _("Substantiated")
        UNSUBSTANTIATED = "unsubstantiated", _("Not substantiated")
        REFERRED = "referred", _("Referred")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        # The decisions on a review (a case with review_of): the oversight unit found
        # the first decision right, or changed it.
        UPHELD = "upheld", _("Review: decision upheld")
        CHANGED = "changed", _("Review: decision changed")
        CLOSED = "closed", _("Closed")

    class Channel(models.TextChoices):
        WEB = "web", _("Web")
        SMS = "sms", _("SMS")
        WHATSAPP = "whatsapp", _("WhatsApp")

    class FiledFor(models.TextChoices):
        SELF = "self", _("Me")
        SOMEONE_ELSE = "someone_else", _("Someone else (a friend, my child, a child I help)")

    class AboutStaff(models.TextChoices):
        """The child's answer to "Is this about someone who works there?"."""

        YES = "yes", _("Yes")
        NO = "no", _("No")
        UNSURE = "unsure", _("Not sure")

    class ContactPreference(models.TextChoices):
        FOLLOW_UP_PAGE = "follow_up_page", _("I will check for answers on this website")
        SMS = "sms", _("Send me a text message (SMS)")
        PHONE = "phone", _("Call me")
        EMAIL = "email", _("Send me an email")
        NONE = "none", _("Do not contact me")

    DECIDED_STATUSES = (
        Status.SUBSTANTIATED,
        Status.UNSUBSTANTIATED,
        Status.REFERRED,
        Status.WITHDRAWN,
        Status.UPHELD,
        Status.CHANGED,
    )
    # What a review decides (only a review: see complaints.reviews).
    REVIEW_OUTCOMES = (Status.UPHELD, Status.CHANGED)
    # The decisions a child may ask the oversight unit to review.
    REVIEWABLE_OUTCOMES = (Status.SUBSTANTIATED, Status.UNSUBSTANTIATED)

    OPEN_STATUSES = (
        Status.RECEIVED,
        Status.ACKNOWLEDGED,
        Status.ASSESSING,
        Status.INVESTIGATING,
    )
    # What a focal point still has work on: open, or decided or withdrawn but not closed
    # (a child to call with the outcome, a case to close). The queue's default.
    TO_HANDLE_STATUSES = OPEN_STATUSES + DECIDED_STATUSES

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=8, unique=True, editable=False)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="cases")
    policy = models.ForeignKey(
        ChildProtectionPolicy, on_delete=models.PROTECT, related_name="cases"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    language = models.CharField(max_length=8, choices=language_choices)
    category = models.CharField(max_length=40)
    urgency = models.CharField(max_length=16, choices=Urgency.choices)
    in_danger = models.BooleanField(default=False)
    # What the child answered; blank when nobody asked (the SMS conversation does not
    # ask) or the answer was not kept (filed before it was: "no" and "not sure" were
    # both stored as no). Whom staff found it is about is about_staff_member.
    about_staff_answer = models.CharField(max_length=8, choices=AboutStaff.choices, blank=True)
    # Who the complaint is about: the person filing it, or a child they file for.
    filed_for = models.CharField(max_length=16, choices=FiledFor.choices, default=FiledFor.SELF)
    contact_preference = models.CharField(max_length=16, choices=ContactPreference.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    # Why the case went where it went (policies.routing.RoutingDecision.as_record()).
    routing = models.JSONField(default=dict)

    received_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # The decision, kept after the case is closed (status then says "closed").
    outcome = models.CharField(max_length=16, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # When the child was told the decision: they opened the follow-up page after it
    # was posted, or the SMS carrying it was sent.
    outcome_told_at = models.DateTimeField(null=True, blank=True)
    # Last time the child opened the follow-up page (web) for this case.
    reporter_seen_at = models.DateTimeField(null=True, blank=True)
    acknowledge_due_at = models.DateTimeField(null=True, blank=True)
    assess_due_at = models.DateTimeField(null=True, blank=True)
    resolve_due_at = models.DateTimeField(null=True, blank=True)

    # Ciphertexts under the case's data key; never shown by the admin.
    narrative = models.BinaryField(editable=False)
    contact_detail = models.BinaryField(null=True, editable=False)
    # The email address a web child asked to be told at, sealed under the server key ring
    # (vault/server_sealed.py), not the case key: a late notice is sent by the sweep with
    # nobody present, as an SMS child's number (SmsReporter.phone) is. Never in clear;
    # emails carry only "there is news" and how to read it. Dropped when the case closes.
    delivery_email = models.BinaryField(null=True, editable=False)
    followup_code_hash = models.CharField(max_length=200, editable=False)
    # The case's X25519 public key (vault/cases.py): content added after intake is
    # sealed to it, so writing never needs the data key.
    public_key = models.BinaryField(null=True, editable=False)
    # The child's X25519 public key, derived from their follow-up code: their copy of
    # the data key is wrapped to it, and only the code opens it again.
    reporter_public_key = models.BinaryField(null=True, editable=False)
    # One random token per web form, so a double submission files one case. NULL, not "",
    # for SMS cases: unique ignores NULLs, and every SMS case has no token.
    submission_token = models.CharField(  # noqa: DJ001
        max_length=64, unique=True, null=True, editable=False
    )
    # Who handles it: the unit itself, or the oversight unit when the complaint is about
    # the unit's manager or all of its focal points.
    handling_unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="handled_cases", null=True
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="case_assignments",
    )
    about_staff_member = models.ForeignKey(
        "competencies.StaffMember",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # A case referred here from another unit's case (the child keeps the same code).
    referred_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="referred_to"
    )
    # A review the child asked for (complaints.reviews): this case, at the oversight
    # unit, reviews that one's decision. One to one: a second request makes no second
    # review. The child follows it with the first case's reference and code.
    review_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="review"
    )
    # Kept for the triage queue's index: the urgency's rank (emergency first) and the
    # deadline of the step the case is at (none once decided). Set by the services.
    queue_priority = models.PositiveSmallIntegerField(default=2)
    next_due_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    escalated_at = models.DateTimeField(null=True, blank=True)
    # The phone that filed it (SMS cases), or the number a web child asked us to text:
    # replies and notices go back there through the SMS pipeline, STOP honoured.
    sms_reporter = models.ForeignKey(
        "intake.SmsReporter", null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    # Retention (complaints/retention.py): while a legal hold is set the purge leaves the
    # case alone. The reason is staff text, never what the child said.
    legal_hold_reason = models.CharField(max_length=300, blank=True)
    legal_hold_at = models.DateTimeField(null=True, blank=True)
    legal_hold_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The tombstone: when the case's content was removed under the retention policy.
    # The metadata stays for the compliance review.
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["unit", "status", "urgency", "acknowledge_due_at"]),
            models.Index(fields=["handling_unit", "status"]),
            models.Index(
                fields=["handling_unit", "queue_priority", "next_due_at"],
                condition=models.Q(
                    status__in=[
                        "received",
                        "acknowledged",
                        "assessing",
                        "investigating",
                        "substantiated",
                        "unsubstantiated",
                        "referred",
                        "withdrawn",
                        "upheld",
                        "changed",
                    ]
                ),
                name="case_open_queue_idx",
            ),
            models.Index(fields=["unit", "received_at"]),
            # The queue sorted by "received" (any status): newest first within the units.
            models.Index(
                fields=["handling_unit", "received_at"], name="case_handling_received_idx"
            ),
            models.Index(fields=["received_at"]),
            # Routing reads each focal point's load (policies.selectors._focal_points).
            models.Index(
                fields=["assignee"],
                condition=models.Q(
                    status__in=["received", "acknowledged", "assessing", "investigating"]
                ),
                name="case_assignee_open_idx",
            ),
            models.Index(fields=["assignee", "received_at"], name="case_assignee_received_idx"),
            # The escalation sweep: open cases below the last step, by deadline.
            models.Index(
                fields=["next_due_at"],
                condition=models.Q(
                    status__in=["received", "acknowledged", "assessing", "investigating"],
                    escalation_level__lt=3,
                ),
                name="case_escalation_due_idx",
            ),
            # The compliance summary's sweep: undecided cases whose deadline just passed.
            models.Index(
                fields=["acknowledge_due_at"],
                condition=models.Q(decided_at__isnull=True),
                name="case_undecided_ack_due_idx",
            ),
            models.Index(
                fields=["resolve_due_at"],
                condition=models.Q(decided_at__isnull=True),
                name="case_undecided_resolve_due_idx",
            ),
            models.Index(
                fields=["next_due_at"],
                condition=models.Q(
                    status__in=["received", "acknowledged", "assessing", "investigating"]
                ),
                name="case_open_next_due_idx",
            ),
            # The queue's count (its "of N"): the cases to handle of a unit, each one's id
            # for the exclusions, read from the index alone.
            models.Index(
                fields=["handling_unit", "id"],
                condition=models.Q(
                    status__in=[
                        "received",
                        "acknowledged",
                        "assessing",
                        "investigating",
                        "substantiated",
                        "unsubstantiated",
                        "referred",
                        "withdrawn",
                        "upheld",
                        "changed",
                    ]
                ),
                name="case_to_handle_count_idx",
            ),
            # The review's time to acknowledge (median, 90th percentile) over a period,
            # read from the index alone on PostgreSQL (INCLUDE: ignored elsewhere).
            models.Index(
                fields=["unit", "received_at"],
                include=["acknowledged_at"],
                condition=models.Q(acknowledged_at__isnull=False),
                name="case_acknowledged_received_idx",
            ),
            # The key epochs sweep looks up closed cases among those under an open epoch
            # (vault.epochs._cases_to_move): most cases are closed, and this index
            # answers without reading them (merged with case_epoch_open_current_idx).
            models.Index(
                fields=["id"],
                include=["closed_at"],
                condition=models.Q(closed_at__isnull=False),
                name="case_closed_id_idx",
            ),
            # The compliance review's reviews table: the few reviews in a period.
            models.Index(
                fields=["received_at"],
                condition=models.Q(review_of__isnull=False),
                name="case_review_received_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.display_reference

    @property
    def text_language(self) -> str:
        """The language of texts to the child: the one they last chose by SMS (FR, ES...),
        else the one they filed in."""
        reporter = self.sms_reporter
        return reporter.language if reporter is not None and reporter.language else self.language

    @classmethod
    def outcome_told(cls, case_id, *, at=None) -> None:
        """The child was told the decision (on the phone, or a text or an email about it
        went out): the first time counts, later ones leave it."""
        cls.objects.filter(pk=case_id, outcome_told_at__isnull=True).update(
            outcome_told_at=at or timezone.now()
        )

    def current_next_due(self):
        """The deadline of the step the case is at."""
        if self.status not in self.OPEN_STATUSES:
            return None
        if self.acknowledged_at is None:
            return self.acknowledge_due_at
        if self.status == self.Status.ACKNOWLEDGED:
            return self.assess_due_at
        return self.resolve_due_at

    @property
    def display_reference(self) -> str:
        return f"{self.reference[:4]}-{self.reference[4:]}"

    @property
    def reporter_reference(self) -> str:
        """The reference the child knows this case by: a review is followed with the
        reference (and code) of the case it reviews, so the child needs nothing new."""
        if self.review_of_id:
            return self.review_of.display_reference
        return self.display_reference

    @property
    def is_purged(self) -> bool:
        return self.purged_at is not None

    @property
    def on_legal_hold(self) -> bool:
        return self.legal_hold_at is not None

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def outcome_label(self) -> str:
        """The decision in words, in the active language ("Not substantiated")."""
        return (
            str(self.Status(self.outcome).label)
            if self.outcome in self.Status.values
            else self.outcome
        )


class CaseExclusion(models.Model):
    """A person who must never see this case: its subject, or a focal point who recused."""

    class Reason(models.TextChoices):
        SUBJECT = "subject", "The complaint is about this person"
        RECUSED = "recused", "Recused"
        # A child said it is about someone who works there (or was not sure), and the
        # policy keeps such complaints away from the primary focal points.
        POLICY = "policy", "Kept away by the policy (a complaint about staff)"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="exclusions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], name="case_exclusion_unique")
        ]


class CaseEvent(models.Model):
    """A recorded step in a case's life: who, when, from, to, why."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["at", "id"]


class Message(models.Model):
    """Information the child adds, or a reply from staff; the body is a ciphertext."""

    class Author(models.TextChoices):
        REPORTER = "reporter", _("You")
        STAFF = "staff", _("Complaints team")
        NOTE = "note", _("Internal note")  # staff only; never shown to the child

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    author_kind = models.CharField(max_length=16, choices=Author.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    body = models.BinaryField(editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]


class CaseLastOpened(models.Model):
    """When a staff member last opened a case's page: the queue marks a case whose
    child wrote after that, per person."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="openings")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], name="case_last_opened_unique"),
        ]


class ThrottleEvent(models.Model):
    """Something counted against a limit: a wrong follow-up code (per reference and per
    client) or a complaint filed (per client). The key is a reference or a keyed hash
    of the client address, never the address itself."""

    scope = models.CharField(max_length=16)
    key = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["scope", "key", "at"])]


class AuditEvent(models.Model):
    """Append-only, hash-chained log of what staff did, reads of decrypted content first.
    `data` holds ids and codes only, never content."""

    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64)
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL)
    case_reference = models.CharField(max_length=8, blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["case", "at"])]


class ServiceRating(models.Model):
    """A child's answers, after being told the outcome, to three optional questions
    about the service. Reports show them only in aggregate (the small-count rule), and
    the row names no case: `case_key` is a keyed hash of the case's id (one answer per
    case, found again only with the key ring), so a database reader cannot put a
    child's answers beside the case and the staff who handled it."""

    class Answer(models.IntegerChoices):
        # The digits a child texts back.
        YES = 1, _("Yes")
        PARTLY = 2, _("Partly")
        NO = 3, _("No")

    QUESTIONS = ("listened", "felt_safe", "fast_enough")

    case_key = models.CharField(max_length=64, unique=True)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=8)
    language = models.CharField(max_length=8)
    listened = models.PositiveSmallIntegerField(choices=Answer.choices, null=True, blank=True)
    felt_safe = models.PositiveSmallIntegerField(choices=Answer.choices, null=True, blank=True)
    fast_enough = models.PositiveSmallIntegerField(choices=Answer.choices, null=True, blank=True)
    # The month of the answer only: the day could match a case's outcome date.
    month = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["unit", "month"])]
