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
    done += server_sealed_reseal(batch_size=batch_size) if max_batches is None else 0
    if done:
        audit_record(action="complaints.keys.rotated", data={"primary": primary, "count": done})
    return RewrapResult(primary_id=primary, rewrapped=done, remaining=stale.count())


def _server_sealed_fields():
    """Values sealed directly under the key ring (crypto.server_seal): model, field,
    and how to rebuild each row's associated data."""
    from intake.models import InboundSms, SmsConversation, SmsReporter
    from notifications.models import OutboundSms

    return [
        (SmsReporter, "phone", SmsReporter.phone_context),
        (SmsConversation, "draft", SmsConversation.draft_context),
        (InboundSms, "reply", InboundSms.reply_context),
        (OutboundSms, "body", OutboundSms.body_context),
    ]


def server_sealed_reseal(*, batch_size: int = 500) -> int:
    """Re-seal server-sealed values under the primary key, batch by batch (each batch
    commits, so an interrupted run resumes)."""
    primary = crypto.get_keyring().primary_id
    resealed = 0
    for model, field_name, context_of in _server_sealed_fields():
        last_pk = None
        while True:
            rows = model.objects.exclude(**{field_name: None}).order_by("pk")
            if last_pk is not None:
                rows = rows.filter(pk__gt=last_pk)
            batch = list(rows[:batch_size])
            if not batch:
                break
            last_pk = batch[-1].pk
            changed = []
            for row in batch:
                blob = getattr(row, field_name)
                if crypto.server_sealed_key_id(blob) == primary:
                    continue
                context = context_of(row)
                setattr(row, field_name,
                        crypto.server_seal(crypto.server_open(blob, context=context), context=context))
                changed.append(row)
            with transaction.atomic():
                model.objects.bulk_update(changed, [field_name])
            resealed += len(changed)
    return resealed
