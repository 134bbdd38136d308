import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

# The statuses every kind of delivery has (each model's Status adds its own).
PENDING, SENT, FAILED = "pending", "sent", "failed"
# At most this many rows of one kind are re-enqueued by one sweep.
REQUEUE_LIMIT = 500


def claim_timeout() -> timedelta:
    """A claim older than this belongs to a worker that died; the row may be retried."""
    return timedelta(seconds=settings.NOTIFICATION_CLAIM_TIMEOUT_SECONDS)


class DeliveryQuerySet(models.QuerySet):
    def due(self, *, now) -> "DeliveryQuerySet":
        """Pending rows whose next attempt is due and that nobody holds (or whose holder
        died): what a claim may take and what the sweep re-enqueues."""
        return self.filter(status=PENDING, next_attempt_at__lte=now).filter(
            Q(claimed_at__isnull=True) | Q(claimed_at__lte=now - claim_timeout())
        )

    def claim(self, pk, *, now) -> bool:
        """Take row `pk` for one attempt with a conditional update: of workers racing for
        the same row, only one wins it until its claim times out."""
        return self.filter(pk=pk).due(now=now).update(claimed_at=now) == 1

    def due_ids(self, *, now) -> list:
        """Rows a lost task or a retry left waiting, for the sweep to re-enqueue."""
        return list(self.due(now=now).values_list("pk", flat=True)[:REQUEUE_LIMIT])


class Delivery(models.Model):
    """A row of outbound work and its delivery state: the row, not the queue, holds it
    (notifications/delivery.py). Each kind declares its own `status` (PENDING, SENT,
    FAILED and its own final states) and `error_code` (the provider's code or the
    exception's type name of the last failure, never a message)."""

    attempts = models.PositiveSmallIntegerField(default=0)
    # After a failure, not before this (backoff): the sweep leaves the row alone.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        abstract = True
        indexes = [models.Index(fields=["status", "next_attempt_at"])]


class Notification(Delivery):
    """A notice to a staff member about a case. The row is the record of work to do: a
    task that is lost is found again from rows still pending. Notices carry a case
    reference and a link, never complaint content."""

    class Kind(models.TextChoices):
        NEW_CASE = "new_case", "New case"
        CASE_UPDATED = "case_updated", "Reporter added information"
        ESCALATION = "escalation", "Deadline missed: escalated"
        DANGER = "danger", "The child says they are in danger now"
        NEW_READER = "new_reader", "A new focal point joined a unit"
        ACCESS_NEEDED = "access_needed", "A reader waits for the key: sign in"
        WITHDRAWN = "withdrawn", "The child withdrew the complaint"
        RETRAINING = "retraining", "Retraining assigned"
        RETRAINING_OVERDUE = "retraining_overdue", "Retraining overdue"
        # To a unit's managers: a child says a complaint is about someone who works
        # there (or is not sure). Metadata only, like every notice.
        ABOUT_STAFF = "about_staff", "A complaint about someone who works at the unit"
        # A case already acknowledged or decided, routed or reassigned to someone else:
        # not announced as a new case with a deadline that has passed.
        ROUTED_TO_YOU = "routed_to_you", "A case under way was routed to you"
        # A child told the outcome said they did not feel safe making the complaint:
        # possible reprisal. Reference and unit only, never the child's answers.
        REPRISAL_CONCERN = "reprisal_concern", "A child did not feel safe complaining"
        # To the focal points of a decided case: the child asked the oversight unit to
        # review the decision. Reference and unit only; the review is not theirs to read.
        REVIEW_REQUESTED = "review_requested", "The child asked for a review of the decision"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "SMS"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (no address)"

    case = models.ForeignKey(
        "complaints.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    assignment = models.ForeignKey(
        "competencies.RetrainingAssignment",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    # For NEW_READER: the membership that made someone a focal point (staff metadata).
    membership = models.ForeignKey(
        "policies.Membership", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    error_code = models.CharField(max_length=32, blank=True)

    @property
    def is_urgent(self) -> bool:
        """A child in danger now, or a new emergency case."""
        return self.kind == self.Kind.DANGER or (
            self.kind == self.Kind.NEW_CASE
            and self.case is not None
            and self.case.urgency == "emergency"
        )


class OutboundSms(Delivery):
    """A text to an SMS reporter. The row is the work order: the sweep sends what is
    due, so a lost task only delays a message. The body is sealed (server key ring)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"  # accepted by the provider
        DELIVERED = "delivered"
        UNDELIVERED = "undelivered"
        FAILED = "failed"
        SUPPRESSED = "suppressed"  # the number sent STOP
        # WhatsApp, outside the 24-hour window: held until the child next writes
        # (notifications.sms), with a template telling them there is news if the unit
        # has one. Not final: released as PENDING by the next inbound message.
        WAITING = "waiting"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reporter = models.ForeignKey("intake.SmsReporter", on_delete=models.CASCADE)
    case = models.ForeignKey("complaints.Case", null=True, blank=True, on_delete=models.SET_NULL)
    body = models.BinaryField(editable=False)
    # True when this text tells the child the decision on their case.
    carries_outcome = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    provider_sid = models.CharField(max_length=64, unique=True, null=True, blank=True)
    provider_status = models.CharField(max_length=16, blank=True)
    error_code = models.CharField(max_length=16, blank=True)
    # The provider's id of the WhatsApp template that told the child a held text waits
    # (empty: none was sent). Its status callbacks are kept, never applied to this row.
    template_sid = models.CharField(max_length=64, blank=True, db_default="")


class OutboundEmail(Delivery):
    """An email to a web child who asked to be told by email: only that there is news
    and how to read it (the follow-up page and the reference), rendered when sent. The
    address is the case's sealed delivery_email, not kept here. The row is the work
    order, as for OutboundSms."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"
        SKIPPED = "skipped"  # no address any more (the case closed)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey("complaints.Case", on_delete=models.CASCADE, related_name="+")
    # True when the news is the decision on the case: sending it tells the outcome.
    carries_outcome = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    error_code = models.CharField(max_length=32, blank=True)


class SmsStatusReport(models.Model):
    """A delivery status callback, kept as received: callbacks may arrive before the
    send call has stored the provider's id, out of order, or twice."""

    provider_sid = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=16)
    error_code = models.CharField(max_length=16, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
