"""Someone holding a raw copy of the database (every row of every table) and the
server's key ring, trying to open narratives through the same primitives the service
uses: with nothing else, with one staff member's password, with a child's follow-up
code, or with a unit's recovery key."""

import uuid

from django.db import connection

from vault import crypto


def dump_database() -> dict[str, list[dict]]:
    tables = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            columns = [c[0] for c in cursor.description]
            tables[table] = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return tables


def _uuid(value) -> str:
    return str(value) if isinstance(value, uuid.UUID) else str(uuid.UUID(str(value)))


def _without_epoch_layer(ring: crypto.KeyRing, blob: bytes, context: bytes) -> bytes | None:
    """The copy inside its epoch layer, with this ring's epoch key; None when the ring
    no longer holds it."""
    epoch = crypto.wrapped_key_epoch(blob)
    if epoch is None:
        return blob
    if epoch not in ring.epochs:
        return None
    header = blob[: 2 + blob[1]]
    return crypto._open(ring.epochs[epoch], blob[len(header) :], header + context)


def thief(
    dump: dict,
    keyring_json: str,
    *,
    username: str = "",
    password: str = "",
    reporter_privates: dict[str, bytes] | None = None,
    recovery_private: bytes | None = None,
) -> set[str]:
    """Every case reference whose narrative this dump and this key ring open, with
    (optionally) one password, the children's keys by reference (from their codes) or a
    recovery key."""
    ring = crypto.KeyRing.from_json(keyring_json)
    users = {row["id"]: row["username"] for row in dump["auth_user"]}
    private_keys = {}
    if username:
        for row in dump["complaints_staffkey"]:
            if users[row["user_id"]] == username:
                private_keys[f"user:{row['user_id']}"] = crypto.unwrap_private_key(
                    bytes(row["wrapped_private_key"]), password
                )
    opened = set()
    for case in dump["complaints_case"]:
        case_id = _uuid(case["id"])
        holders = dict(private_keys)
        if reporter_privates and case["reference"] in reporter_privates:
            holders["reporter"] = reporter_privates[case["reference"]]
        for envelope in dump["complaints_casekey"]:
            if _uuid(envelope["case_id"]) != case_id:
                continue
            data_key = None
            blob = bytes(envelope["wrapped_key"])
            # Every key of the ring against every copy, as a server copy would have
            # been wrapped (there is none to find), then the holders' own copies.
            for key_id, kek in ring.keys.items():
                try:
                    data_key = crypto._open(
                        kek, blob, f"recourse:dek:v1:{case_id}:server:{key_id}".encode()
                    )
                except crypto.DecryptionError:
                    pass
            kind, holder_id = envelope["holder_kind"], envelope["holder_id"]
            holder = holder_id if kind == "reporter" else f"{kind}:{holder_id}"
            private = holders.get(holder)
            if kind == "recovery" and recovery_private is not None:
                private = recovery_private
            if private is not None:
                context = crypto._to_public_context(case_id, holder)
                try:
                    inner = _without_epoch_layer(ring, blob, context)
                    if inner is not None:
                        data_key = crypto.unwrap_data_key_with_private(
                            inner, private, case_id=case_id, holder=holder
                        )
                except crypto.DecryptionError:
                    continue
            if data_key:
                crypto.decrypt_text(
                    data_key,
                    bytes(case["narrative"]),
                    context=crypto.field_context("case", case_id, "narrative"),
                )
                opened.add(case["reference"])
    return opened
