"""Referral: a case passes to another unit (a linked case there) or to a referral
partner of the policy, with the child's consent recorded."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from complaints.audit import audit_record
from complaints.lifecycle import case_transition, child_tell
from complaints.models import Case
from complaints.services import ComplaintError, case_note, complaint_receive
from policies.models import Unit
from vault.cases import CaseLocked, case_content_for_staff


@transaction.atomic
def case_refer(
    *,
    case: Case,
    actor,
    consent: bool,
    reason: str,
    to_unit: Unit | None = None,
    partner: str = "",
    private_key: bytes | None = None,
) -> Case | None:
    """Refer a case being assessed. To a unit: a linked case is filed there with the
    same content and the same follow-up code, and the child is told its reference.
    To a partner service: recorded by name. Either way the child's consent is required."""
    if not consent:
        raise ComplaintError(_("Record the child's consent to the referral first."))
    if (to_unit is None) == (not partner):
        raise ComplaintError(_("Refer to one unit or one partner service."))
    if to_unit is not None and to_unit.pk == case.unit_id:
        raise ComplaintError(_("A case cannot be referred to its own unit."))
    linked = None
    if to_unit is not None:
        try:
            content = case_content_for_staff(case=case, actor=actor, private_key=private_key)
        except CaseLocked:
            # Referring files the child's words at the other unit: it needs the key.
            raise ComplaintError(
                _(
                    "This browser holds no key to this case, so it cannot be referred from here. "
                    "Sign out and sign in again with your password, then refer it."
                )
            ) from None
        # The child follows the new case with the code they already have.
        linked = complaint_receive(
            unit=to_unit,
            channel=case.channel,
            language=case.language,
            narrative=content.narrative,
            category=case.category,
            in_danger=case.in_danger,
            about_staff_answer=case.about_staff_answer,
            contact_preference=case.contact_preference,
            contact_detail=content.contact_detail,
            sms_reporter=case.sms_reporter,
            same_child_as=case,
            filed_for=case.filed_for,
        ).case
        Case.objects.filter(pk=linked.pk).update(referred_from=case)
        target = f"unit {to_unit.code} (case {linked.display_reference})"
    else:
        target = f"partner service {partner}"
    case_transition(
        case=case,
        actor=actor,
        to_status=Case.Status.REFERRED,
        reason=f"Referred to {target}, with the child's consent."[:200],
    )
    reason = " ".join(reason.split())
    if reason:
        # Staff's own words may name people: an encrypted note, not the plaintext history.
        case_note(case=case, actor=actor, body=f"Referral: {reason}")
    audit_record(
        action="complaints.case.referred",
        actor=actor,
        case=case,
        data={
            "to_unit": to_unit.code if to_unit else "",
            "partner": partner,
            "linked_case": linked.reference if linked else "",
            "consent": True,
        },
    )
    if linked is not None:
        child_tell(case=case, notice="referred", reference=linked.display_reference)
    return linked
