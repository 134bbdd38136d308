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

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (no address)"

    case = models.ForeignKey("complaints.Case", on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"])]
