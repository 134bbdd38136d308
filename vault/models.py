"""The key models: who holds a copy of which case's data key, each staff member's key
pair, and who approved a late-joining reader. They moved here from `complaints` with
their tables (db_table keeps each table's name): vault/migrations/0001_initial."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class CaseKey(models.Model):
    """One wrapped copy of a case's data key, for one holder: a staff member (holder_id =
    user id), the unit's offline recovery key (unit code) or the child (their follow-up
    code's key). Holders are added and removed without re-encrypting any field."""

    class HolderKind(models.TextChoices):
        USER = "user", "A staff member's public key"
        RECOVERY = "recovery", "The unit's offline recovery key"
        REPORTER = "reporter", "The child's follow-up code"

    case = models.ForeignKey("complaints.Case", on_delete=models.CASCADE, related_name="keys")
    holder_kind = models.CharField(max_length=16, choices=HolderKind.choices)
    holder_id = models.CharField(max_length=64)
    wrapped_key = models.BinaryField()
    # The epoch key the copy is sealed under (vault/epochs.py); "" for none yet.
    epoch = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "complaints_casekey"  # the table it had before the vault; see 0001
        constraints = [
            models.UniqueConstraint(
                fields=["case", "holder_kind", "holder_id"], name="casekey_one_per_holder"
            ),
        ]
        indexes = [
            models.Index(
                fields=["holder_kind", "holder_id"], name="complaints__holder__ffdf9a_idx"
            ),
            models.Index(fields=["epoch"], name="casekey_epoch_idx"),
        ]


class CaseEpoch(models.Model):
    """Every epoch a case's key copies were ever sealed under (so were its backups): an
    epoch key may be destroyed only once none is left, which the retention purge
    ensures by deleting these rows with the case's keys. `current` is the epoch its
    copies are sealed under now: the month it was filed while open, the month it
    closed once closed."""

    case = models.ForeignKey("complaints.Case", on_delete=models.CASCADE, related_name="epochs")
    epoch = models.CharField(max_length=40)
    current = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "epoch"], name="case_epoch_once"),
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(current=True), name="case_epoch_one_current"
            ),
        ]
        indexes = [
            models.Index(fields=["epoch"], name="case_epoch_epoch_idx"),
            # The sweep's look-up of cases still under an open epoch (few: the open ones).
            models.Index(
                fields=["case"],
                condition=models.Q(current=True, epoch__startswith="open-"),
                name="case_epoch_open_current_idx",
            ),
        ]


def holder_name(holder_kind: str, holder_id: str) -> str:
    """A copy's holder as named in its associated data: "user:12", "recovery:DKR1",
    "reporter"; a copy moved to another row or holder fails to open."""
    if holder_kind == CaseKey.HolderKind.REPORTER:
        return holder_id
    return f"{holder_kind}:{holder_id}"


class StaffKey(models.Model):
    """A staff member's X25519 key pair: the public key in clear, the private key only
    wrapped under a key derived from their password (vault/crypto.py)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_key"
    )
    public_key = models.BinaryField()
    wrapped_private_key = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "complaints_staffkey"


class ReaderApproval(models.Model):
    """A focal point who joined a unit after some of its cases were filed may read
    those past cases only once a different person approved it: a manager of the unit,
    or a focal point who already holds access. Cases filed after they joined reach
    them by routing, as for everyone."""

    unit = models.ForeignKey(
        "policies.Unit", on_delete=models.CASCADE, related_name="reader_approvals"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reader_approvals"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "complaints_readerapproval"
        constraints = [
            models.UniqueConstraint(fields=["unit", "user"], name="reader_approval_unique"),
            models.CheckConstraint(
                condition=~models.Q(user=models.F("approved_by")), name="reader_approval_not_self"
            ),
        ]
