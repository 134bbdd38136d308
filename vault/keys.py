"""Keys: rotation of the server key ring, staff key pairs, and the copies of each case's
data key wrapped to the people who may read it."""

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import CharField, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext

from access.cases import OVERSIGHT_LEVEL, case_readers, cases_for_focal_point
from complaints.audit import audit_record
from complaints.models import AuditEvent, Case, CaseExclusion
from notifications.models import Notification
from notifications.services import notify_users
from policies.models import Membership, Unit
from vault import crypto, server_sealed
from vault.epochs import case_epoch_current, case_epochs_current
from vault.models import CaseKey, ReaderApproval, StaffKey, holder_name


@dataclass(frozen=True)
class RotationResult:
    primary_id: str
    resealed: int


def keys_rotate(*, batch_size: int = 500) -> RotationResult:
    """After keyring_add: re-seal what the server seals under its key ring under the new
    primary key, so older keys can be retired. Case data keys are not under the ring
    (they are wrapped to people), so nothing of a case changes."""
    primary = crypto.get_keyring().primary_id
    resealed = server_sealed.reseal_all(batch_size=batch_size)
    if resealed:
        audit_record(action="complaints.keys.rotated", data={"primary": primary, "count": resealed})
    return RotationResult(primary_id=primary, resealed=resealed)


# --- Per-person keys ---------------------------------------------------------------------


def staff_key_create(*, user: User, password: str) -> StaffKey:
    """A new key pair for a staff member, its private half wrapped under the password.
    A forgotten password means a new key pair (and grants from colleagues)."""
    public, private = crypto.generate_keypair()
    key, _ = StaffKey.objects.update_or_create(
        user=user,
        defaults={
            "public_key": public,
            "wrapped_private_key": crypto.wrap_private_key(private, password),
        },
    )
    return key


def staff_key_rewrap(*, user: User, old_password: str, new_password: str) -> None:
    """A password change keeps the key pair: only its wrapping changes."""
    key = user.staff_key
    private = crypto.unwrap_private_key(key.wrapped_private_key, old_password)
    key.wrapped_private_key = crypto.wrap_private_key(private, new_password)
    key.save(update_fields=["wrapped_private_key", "updated_at"])


def recovery_key_create(*, unit: Unit) -> str:
    """A new offline recovery key pair for a unit. Returns the private half, base64, to
    show once; only the public half is stored."""
    public, private = crypto.generate_keypair()
    type(unit).objects.filter(pk=unit.pk).update(recovery_public_key=public)
    unit.recovery_public_key = public
    audit_record(action="complaints.keys.recovery_created", data={"unit": unit.code})
    return base64.b64encode(private).decode()


def user_holder(user_id: int) -> str:
    """A staff member as a holder, in the associated data of their copies."""
    return holder_name(CaseKey.HolderKind.USER, str(user_id))


def case_copy(
    *,
    case_id: Any,
    holder_kind: str,
    holder_id: str,
    data_key: bytes,
    public_key: crypto.Blob,
    epoch: str | None,
) -> CaseKey:
    """One copy of a case's data key (not saved): wrapped to the holder's public key,
    then sealed under the case's epoch key (vault/epochs.py)."""
    return CaseKey(
        case_id=case_id,
        holder_kind=holder_kind,
        holder_id=holder_id,
        epoch=epoch or "",
        wrapped_key=crypto.wrap_data_key_to_public(
            data_key,
            public_key,
            case_id=case_id,
            holder=holder_name(holder_kind, holder_id),
            epoch=epoch,
        ),
    )


def user_copy(
    *, case_id: Any, user_id: int, data_key: bytes, public_key: crypto.Blob, epoch: str | None
) -> CaseKey:
    """A staff member's copy of a case's data key (not saved): only their private key
    opens it, while the epoch key lasts."""
    return case_copy(
        case_id=case_id,
        holder_kind=CaseKey.HolderKind.USER,
        holder_id=str(user_id),
        data_key=data_key,
        public_key=public_key,
        epoch=epoch,
    )


def case_keys_for_holders(
    *, case: Case, data_key: bytes, readers: list[int], recovery: bool = True
) -> int:
    """Wrap a case's data key to each reader's public key and to the unit's recovery
    key. People without a key pair yet get nothing here: a grant reaches them later."""
    keys = {k.user_id: bytes(k.public_key) for k in StaffKey.objects.filter(user_id__in=readers)}
    epoch = case_epoch_current(case.id)
    rows = [
        user_copy(
            case_id=case.id,
            user_id=user_id,
            data_key=data_key,
            public_key=keys[user_id],
            epoch=epoch,
        )
        for user_id in dict.fromkeys(readers)  # each once, in order
        if user_id in keys
    ]
    unit = case.unit
    if recovery and unit.recovery_public_key:
        rows.append(
            case_copy(
                case_id=case.id,
                holder_kind=CaseKey.HolderKind.RECOVERY,
                holder_id=unit.code,
                data_key=data_key,
                public_key=unit.recovery_public_key,
                epoch=epoch,
            )
        )
    CaseKey.objects.bulk_create(rows)
    return len(rows)


def staff_private_key_open(*, user: User, password: str) -> tuple[bytes, bool]:
    """At login: unwrap the person's private key with their password (creating the key
    pair on a first login) and grant colleagues who wait for a copy of cases this
    person holds. Returns (private key, whether the key pair is new because the
    password was reset)."""
    key = StaffKey.objects.filter(user=user).first() or staff_key_create(
        user=user, password=password
    )
    renewed = False
    try:
        private = crypto.unwrap_private_key(key.wrapped_private_key, password)
    except crypto.DecryptionError:
        # The password was reset by an administrator: a new key pair, and the old
        # copies are useless; colleagues or the recovery key grant access again.
        CaseKey.objects.filter(holder_kind=CaseKey.HolderKind.USER, holder_id=str(user.pk)).delete()
        key = staff_key_create(user=user, password=password)
        private = crypto.unwrap_private_key(key.wrapped_private_key, password)
        renewed = True
    grants_fulfil(granter=user, private_key=private)
    return private, renewed


def case_keys_revoke(*, case: Case, user_ids: Iterable[int]) -> int:
    """A person excluded after intake (the subject, or recused) loses their copy."""
    deleted, _ = CaseKey.objects.filter(
        case=case, holder_kind=CaseKey.HolderKind.USER, holder_id__in=[str(u) for u in user_ids]
    ).delete()
    return deleted


def case_keys_missing(*, case: Case, user_ids: Iterable[int]) -> list[int]:
    """Who may read the case but holds no copy yet (a pending grant)."""
    held = set(
        CaseKey.objects.filter(case=case, holder_kind=CaseKey.HolderKind.USER).values_list(
            "holder_id", flat=True
        )
    )
    return [u for u in user_ids if str(u) not in held]


def _pairs_to_grant(
    *, granter_id: int, after: tuple[Any, int] | None, page_size: int
) -> list[tuple[Any, int, bytes, bytes]]:
    """One page, in (case, reader) order after `after`, of the copies the granter's
    session can make: (case id, reader id, the granter's wrapped copy, the reader's
    public key), for each case the granter holds a copy of and each reader who
    may read it now (an active focal point of its handling unit, or of the policy's
    oversight unit once the case reached OVERSIGHT_LEVEL; not excluded), has a key pair,
    holds no copy yet, and whom the gate lets in.

    The gate: a reader of a past case is someone who was a focal point of the case's
    handling unit when it was filed (or, for an escalated case, of the oversight unit
    when it escalated), or someone a different person approved as a reader of that unit
    (ReaderApproval). Anyone else who joined later waits, whatever rights they gave
    themselves."""
    fp = {"role": Membership.Role.FOCAL_POINT, "is_active": True}
    reader, case = OuterRef("reader"), OuterRef("pk")
    copies = CaseKey.objects.filter(case=case, holder_kind=CaseKey.HolderKind.USER)
    granter_copy = copies.filter(holder_id=str(granter_id))
    units = Q(unit_id=OuterRef("handling_unit_id")) | Q(unit_id=OuterRef("oversight"))
    joined_in_time = Membership.objects.filter(user_id=reader, **fp).filter(
        Q(unit_id=OuterRef("handling_unit_id"), created_at__lte=OuterRef("received_at"))
        | Q(unit_id=OuterRef("oversight"), created_at__lte=OuterRef("escalated_at"))
    )

    def readers_through(path: str, **case_filter: Any) -> QuerySet[Case, Any]:
        # Each case with one row per member of the unit at the end of `path`.
        rows = (
            Case.objects.filter(
                Exists(granter_copy), **case_filter, **{f"{path}__{k}": v for k, v in fp.items()}
            )
            .annotate(reader=F(f"{path}__user_id"), oversight=F("policy__oversight_unit_id"))
            .exclude(reader=granter_id)
            .filter(Exists(StaffKey.objects.filter(user_id=reader)))
            .exclude(Exists(CaseExclusion.objects.filter(case=case, user_id=reader)))
            .exclude(Exists(copies.filter(holder_id=Cast(reader, CharField()))))
            .filter(
                Exists(ReaderApproval.objects.filter(units, user_id=reader))
                | Exists(joined_in_time)
            )
        )
        if after is not None:
            rows = rows.filter(Q(pk__gt=after[0]) | Q(pk=after[0], reader__gt=after[1]))
        return (
            rows.annotate(
                granter_key=Subquery(granter_copy.values("wrapped_key")[:1]),
                reader_key=Subquery(
                    StaffKey.objects.filter(user_id=reader).values("public_key")[:1]
                ),
            )
            .order_by()
            .values_list("pk", "reader", "granter_key", "reader_key")
        )

    pairs = readers_through("handling_unit__memberships").union(
        readers_through(
            "policy__oversight_unit__memberships", escalation_level__gte=OVERSIGHT_LEVEL
        )
    )
    return list(pairs.order_by("pk", "reader")[:page_size])


def grants_fulfil(*, granter: User, private_key: bytes, page_size: int = 200) -> int:
    """Run in a session that holds a private key: for every case this person can open,
    wrap its data key to readers who have a key pair but no copy yet, and whom the gate
    lets in (_pairs_to_grant). Page by page: one query reads a page, one writes it, so a
    holder of many cases signs in with a few queries per page and none left out."""
    granted = 0
    after = None
    while True:
        page = _pairs_to_grant(granter_id=granter.pk, after=after, page_size=page_size)
        epochs = case_epochs_current(list({row[0] for row in page}))
        data_keys = {}
        copies = []
        for case_id, reader_id, granter_key, reader_key in page:
            if case_id not in data_keys:
                data_keys[case_id] = crypto.unwrap_data_key_with_private(
                    granter_key, private_key, case_id=case_id, holder=user_holder(granter.pk)
                )
            copies.append(
                user_copy(
                    case_id=case_id,
                    user_id=reader_id,
                    data_key=data_keys[case_id],
                    public_key=reader_key,
                    epoch=epochs.get(case_id),
                )
            )
        # Two sign-ins granting the same copy at once: the later one replaces it.
        CaseKey.objects.bulk_create(
            copies,
            update_conflicts=True,
            unique_fields=["case", "holder_kind", "holder_id"],
            update_fields=["wrapped_key", "epoch", "updated_at"],
        )
        granted += len(copies)
        if len(page) < page_size:
            break
        after = page[-1][:2]
    if granted:
        audit_record(action="complaints.keys.granted", actor=granter, data={"copies": granted})
    return granted


def focal_point_removed(*, membership: Membership) -> int:
    """A membership ended or changed: the person keeps copies only of the cases they may
    still read (a manager row removed from someone who stays a focal point revokes
    nothing; a focal point who becomes a manager loses every copy of the unit's cases,
    escalated ones of an oversight unit included)."""
    readable = cases_for_focal_point(membership.user).values("pk")
    deleted, _ = (
        CaseKey.objects.filter(
            holder_kind=CaseKey.HolderKind.USER, holder_id=str(membership.user_id)
        )
        .exclude(case_id__in=readable)
        .delete()
    )
    audit_record(
        action="complaints.keys.revoked_on_removal",
        data={"user": membership.user_id, "unit": membership.unit.code, "copies": deleted},
    )
    return deleted


def case_keys_follow_readers(*, case: Case, data_key: bytes | None) -> int:
    """After a case is routed again: every reader gets a copy, then whoever may no
    longer read it loses theirs. Without the data key at hand, new readers wait for a
    grant at a holder's next sign-in, so the other holders keep their copies until then."""
    readers = case_readers(case)
    if data_key is None:
        return 0
    case_keys_for_holders(
        case=case,
        data_key=data_key,
        recovery=False,
        readers=case_keys_missing(case=case, user_ids=readers),
    )
    deleted, _ = (
        CaseKey.objects.filter(case=case, holder_kind=CaseKey.HolderKind.USER)
        .exclude(holder_id__in=[str(u) for u in readers])
        .delete()
    )
    return deleted


def recovery_grant(*, unit: Unit, recovery_private_key: bytes, limit: int = 5000) -> int:
    """With the unit's offline recovery key: give every reader of the unit's cases who
    has a key pair but no copy one (after a lost password, or a new team)."""
    public = {k.user_id: bytes(k.public_key) for k in StaffKey.objects.all()}
    granted = 0
    envelopes = CaseKey.objects.filter(
        holder_kind=CaseKey.HolderKind.RECOVERY, holder_id=unit.code, case__unit=unit
    ).select_related("case")[:limit]
    for envelope in envelopes:
        missing = [
            u
            for u in case_keys_missing(case=envelope.case, user_ids=case_readers(envelope.case))
            if u in public
        ]
        if not missing:
            continue
        data_key = crypto.unwrap_data_key_with_private(
            envelope.wrapped_key,
            recovery_private_key,
            case_id=envelope.case_id,
            holder=holder_name(CaseKey.HolderKind.RECOVERY, unit.code),
        )
        granted += case_keys_for_holders(
            case=envelope.case, data_key=data_key, readers=missing, recovery=False
        )
    audit_record(
        action="complaints.keys.recovery_granted", data={"unit": unit.code, "copies": granted}
    )
    return granted


class ApprovalRefused(Exception):
    """Why this person may not approve this reader, in words for them."""


def reader_approve(*, unit: Unit, reader: User, approver: User) -> ReaderApproval:
    """A different person lets `reader` read the unit's past cases: a manager of the
    unit, or one of its focal points who already holds access to its cases. Copies
    follow at the next sign-in of a holder (or the approver's own, now)."""
    if reader.pk == approver.pk:
        raise ApprovalRefused(gettext("Nobody can approve themselves as a reader."))
    if not Membership.objects.filter(
        user=reader, unit=unit, role=Membership.Role.FOCAL_POINT, is_active=True
    ).exists():
        raise ApprovalRefused(gettext("This person is not a focal point of the unit."))
    approver_roles = Membership.objects.filter(user=approver, unit=unit, is_active=True)
    is_manager = approver_roles.filter(role=Membership.Role.MANAGER).exists()
    holds_access = approver_roles.filter(role=Membership.Role.FOCAL_POINT).exists() and (
        CaseKey.objects.filter(
            holder_kind=CaseKey.HolderKind.USER,
            holder_id=str(approver.pk),
            case__handling_unit=unit,
        ).exists()
    )
    if not (is_manager or holds_access):
        raise ApprovalRefused(
            gettext(
                "Only a manager of the unit, or a focal point who already reads "
                "its cases, can approve a new reader."
            )
        )
    approval, _created = ReaderApproval.objects.get_or_create(
        unit=unit, user=reader, defaults={"approved_by": approver}
    )
    audit_record(
        action="staff.reader.approved",
        actor=approver,
        data={"unit": unit.code, "reader": reader.pk},
    )
    return approval


def readers_waiting(*, unit: Unit) -> list[User]:
    """Focal points of the unit who joined after some of its cases were filed and are
    not approved yet: they cannot read those cases."""
    earlier_case = Case.objects.filter(handling_unit=unit, received_at__lt=OuterRef("created_at"))
    waiting = (
        Membership.objects.filter(unit=unit, role=Membership.Role.FOCAL_POINT, is_active=True)
        .filter(Exists(earlier_case))
        .exclude(user__reader_approvals__unit=unit)
        .values_list("user_id", flat=True)
    )
    return list(get_user_model().objects.filter(pk__in=waiting).order_by("username"))


def cases_waiting_for_a_grant() -> QuerySet[Case, Case]:
    """Open cases that someone who may read them now cannot open yet: an active focal
    point of the handling unit (or, once the case reached the oversight unit, of that
    unit) who has a key pair, is not excluded and holds no copy. They wait for a
    holder's sign-in (grants_fulfil) or, having joined after the case was filed, for a
    manager's approval (readers_waiting). An operator's count: who waits is not said."""
    reader = OuterRef("user_id")
    case = OuterRef(OuterRef("pk"))

    def reader_without_copy(unit_field: str) -> Exists:
        return Exists(
            Membership.objects.filter(
                unit_id=OuterRef(unit_field), role=Membership.Role.FOCAL_POINT, is_active=True
            )
            .filter(Exists(StaffKey.objects.filter(user_id=reader)))
            .exclude(Exists(CaseExclusion.objects.filter(case=case, user_id=reader)))
            .exclude(
                Exists(
                    CaseKey.objects.filter(
                        case=case,
                        holder_kind=CaseKey.HolderKind.USER,
                        holder_id=Cast(reader, CharField()),
                    )
                )
            )
        )

    return Case.objects.filter(status__in=Case.OPEN_STATUSES, purged_at__isnull=True).filter(
        reader_without_copy("handling_unit_id")
        | Q(escalation_level__gte=OVERSIGHT_LEVEL)
        & reader_without_copy("policy__oversight_unit_id")
    )


def case_holder_ids(case: Case) -> list[int]:
    """Who holds a copy of the case's key: their sign-in grants it onwards."""
    return [
        int(h)
        for h in CaseKey.objects.filter(
            case=case,
            holder_kind=CaseKey.HolderKind.USER,
        ).values_list("holder_id", flat=True)
    ]


def case_access_requested(*, case: Case, actor: User) -> int:
    """A reader who cannot open the case yet asks for it: its holders are asked to sign
    in, and the unit's managers are told (metadata only). Once an hour per person and
    case: a second press sends nothing new. Returns the notices sent."""
    since = timezone.now() - timedelta(hours=1)
    if AuditEvent.objects.filter(
        action="complaints.case.access_requested", actor=actor, case=case, at__gte=since
    ).exists():
        return 0
    managers = Membership.objects.filter(
        unit=case.unit, role=Membership.Role.MANAGER, is_active=True
    ).values_list("user_id", flat=True)
    people = sorted((set(case_holder_ids(case)) | set(managers)) - {actor.pk})
    audit_record(
        action="complaints.case.access_requested",
        actor=actor,
        case=case,
        data={"told": len(people)},
    )
    return len(notify_users(case=case, user_ids=people, kind=Notification.Kind.ACCESS_NEEDED))
