"""Key rotation: re-wrap data keys under the primary KEK, batch by batch."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from complaints import crypto
from complaints.audit import audit_record
from complaints.models import CaseKey


@dataclass(frozen=True)
class RewrapResult:
    primary_id: str
    rewrapped: int
    remaining: int


def data_keys_rewrap(*, batch_size: int = 500, max_batches: int | None = None) -> RewrapResult:
    """Each batch is its own transaction, so an interrupted run loses at most one
    batch of work and the next run picks up what is left."""
    ring = crypto.get_keyring()
    primary = ring.primary_id
    stale = CaseKey.objects.filter(holder_kind=CaseKey.HolderKind.SERVER).exclude(holder_id=primary)
    done = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        now = timezone.now()
        with transaction.atomic():
            envelopes = list(stale.select_for_update().order_by("pk")[:batch_size])
            if not envelopes:
                break
            for envelope in envelopes:
                data_key = crypto.unwrap_data_key_for_server(
                    envelope.wrapped_key, case_id=envelope.case_id, key_id=envelope.holder_id
                )
                envelope.holder_id, envelope.wrapped_key = crypto.wrap_data_key_for_server(
                    data_key, case_id=envelope.case_id
                )
                envelope.updated_at = now
            CaseKey.objects.bulk_update(envelopes, ["holder_id", "wrapped_key", "updated_at"])
        done += len(envelopes)
        batches += 1
    if done:
        audit_record(action="complaints.keys.rotated", data={"primary": primary, "count": done})
    return RewrapResult(primary_id=primary, rewrapped=done, remaining=stale.count())
