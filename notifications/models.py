import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Notification(models.Model):
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
    attempts = models.PositiveSmallIntegerField(default=0)
    # After a failure, not before this (backoff): the sweep leaves the notice alone.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # The provider's code or the exception's type name of the last failure, no message.
    error_code = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    @property
    def is_urgent(self) -> bool:
        """A child in danger now, or a new emergency case."""
        return self.kind == self.Kind.DANGER or (
            self.kind == self.Kind.NEW_CASE
            and self.case is not None
            and self.case.urgency == "emergency"
        )


class OutboundSms(models.Model):
    """A text to an SMS reporter. The row is the work order: the sweep sends what is
    due, so a lost task only delays a message. The body is sealed (server key ring)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"  # accepted by the provider
        DELIVERED = "delivered"
        UNDELIVERED = "undelivered"
        FAILED = "failed"
        SUPPRESSED = "suppressed"  # the number sent STOP

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
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]


class OutboundEmail(models.Model):
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
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]


class SmsStatusReport(models.Model):
    """A delivery status callback, kept as received: callbacks may arrive before the
    send call has stored the provider's id, out of order, or twice."""

    provider_sid = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=16)
    error_code = models.CharField(max_length=16, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
