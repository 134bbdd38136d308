"""Every cryptographic decision of Recourse, in one module (the only importer of
`cryptography`).

Who can decrypt what:
- A case's sensitive fields (narrative, contact details, follow-up messages) are
  encrypted with AES-256-GCM under that case's own random 256-bit data key. The
  associated data names the table, row and field, so a ciphertext moved to another
  row or field fails to decrypt.
- The data key is stored only wrapped, one "envelope" row per holder
  (complaints.CaseKey): to the X25519 public key of each staff member who may read
  the case, to the unit's offline recovery key, and to a key the child's follow-up
  code derives. The server's key ring wraps no data key, so the running server
  cannot read a case; content added later is sealed to the case's public key.
- Values the server must use with nobody present (an SMS reporter's phone number,
  a half-collected SMS story, a text waiting to be sent) are sealed under a
  key-encryption key (KEK) of the server's key ring (server_seal).
- Reporter follow-up codes are stored only as Argon2id hashes (PHC strings).
- Blind indexes (e.g. a phone number, a client address in a throttle) are keyed
  HMAC-SHA256 under the key ring's index key, which does not rotate with KEKs.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings

# What a BinaryField gives back: bytes, or memoryview on PostgreSQL.
Blob = bytes | memoryview

KEY_BYTES = 32
NONCE_BYTES = 12
FORMAT_V1 = b"\x01"


class CryptoError(Exception):
    """Base class. Messages never contain key material or plaintext."""


class KeyRingError(CryptoError):
    pass


class UnknownKeyError(CryptoError):
    pass


class DecryptionError(CryptoError):
    pass


# --- Key ring -----------------------------------------------------------------------------


def _b64decode_key(value: str, name: str) -> bytes:
    try:
        key = base64.b64decode(value, validate=True)
    except (ValueError, TypeError) as exc:
        raise KeyRingError(f"key {name!r} is not valid base64") from exc
    if len(key) != KEY_BYTES:
        raise KeyRingError(f"key {name!r} must be {KEY_BYTES} bytes")
    return key


@dataclass(frozen=True)
class KeyRing:
    """Key-encryption keys by id (`primary_id` seals new server-sealed values), the index
    key, and the epoch keys: every copy of a case's data key is also sealed under one
    epoch key (vault/epochs.py), so destroying an epoch key here makes that epoch's
    copies unopenable everywhere, old database backups included."""

    primary_id: str
    keys: dict[str, bytes] = field(repr=False)
    index_key: bytes = field(repr=False, default=b"")
    epochs: dict[str, bytes] = field(repr=False, default_factory=dict)

    @classmethod
    def from_json(cls, text: str) -> KeyRing:
        try:
            data = json.loads(text)
            primary_id = data["primary"]
            raw_keys = data["keys"]
        except (ValueError, KeyError, TypeError) as exc:
            raise KeyRingError(
                'key ring must be JSON like {"primary": "id", "keys": {"id": "base64"}}'
            ) from exc
        keys = {str(kid): _b64decode_key(value, str(kid)) for kid, value in raw_keys.items()}
        if primary_id not in keys:
            raise KeyRingError("the primary key id is not in the key ring")
        if data.get("index_key"):
            index_key = _b64decode_key(data["index_key"], "index_key")
        else:
            # Older or hand-made rings: derive a stable index key from the first key.
            first = keys[sorted(keys)[0]]
            index_key = hmac.new(first, b"recourse:index-key:v1", hashlib.sha256).digest()
        raw_epochs = data.get("epochs") or {}
        if not isinstance(raw_epochs, dict):
            raise KeyRingError('"epochs" must map epoch ids to base64 keys')
        epochs = {str(eid): _b64decode_key(value, str(eid)) for eid, value in raw_epochs.items()}
        return cls(primary_id=primary_id, keys=keys, index_key=index_key, epochs=epochs)

    def to_json(self) -> str:
        return json.dumps(
            {
                "primary": self.primary_id,
                "keys": {kid: base64.b64encode(k).decode() for kid, k in self.keys.items()},
                "index_key": base64.b64encode(self.index_key).decode(),
                "epochs": {
                    eid: base64.b64encode(k).decode() for eid, k in sorted(self.epochs.items())
                },
            },
            indent=2,
        )

    def with_new_primary(self, key_id: str) -> KeyRing:
        if key_id in self.keys:
            raise KeyRingError(f"key id {key_id!r} already exists")
        keys = dict(self.keys)
        keys[key_id] = secrets.token_bytes(KEY_BYTES)
        return replace(self, primary_id=key_id, keys=keys)

    def with_epochs(self, epoch_ids: list[str]) -> KeyRing:
        """The ring with a new random key for each of `epoch_ids` it does not hold yet
        (an epoch key is never replaced: copies sealed under it would be lost)."""
        epochs = dict(self.epochs)
        for epoch_id in epoch_ids:
            epochs.setdefault(epoch_id, secrets.token_bytes(KEY_BYTES))
        return replace(self, epochs=epochs)

    def without_epochs(self, epoch_ids: list[str]) -> KeyRing:
        """The ring with these epoch keys destroyed."""
        return replace(
            self, epochs={eid: k for eid, k in self.epochs.items() if eid not in epoch_ids}
        )

    @classmethod
    def generate(cls, key_id: str) -> KeyRing:
        return cls(
            primary_id=key_id,
            keys={key_id: secrets.token_bytes(KEY_BYTES)},
            index_key=secrets.token_bytes(KEY_BYTES),
        )

    def kek(self, key_id: str) -> bytes:
        try:
            return self.keys[key_id]
        except KeyError:
            raise UnknownKeyError(f"key id {key_id!r} is not in the key ring") from None


@lru_cache(maxsize=4)
def _load_keyring(inline: str, path: str, stamp: tuple[int, ...] = ()) -> KeyRing:
    if inline:
        return KeyRing.from_json(inline)
    if path:
        try:
            return KeyRing.from_json(Path(path).read_text())
        except OSError as exc:
            raise KeyRingError(f"cannot read the key ring file ({exc.strerror})") from exc
    raise KeyRingError("no key ring configured (RECOURSE_KEYRING or RECOURSE_KEYRING_FILE)")


def _file_stamp(path: str) -> tuple[int, int, int]:
    """What changes when `keyring_add` (in any process) replaces the file: it writes a
    new file and renames it over the old one, so the inode changes, and so do the
    modification time and usually the size."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise KeyRingError(f"cannot read the key ring file ({exc.strerror})") from exc
    return (info.st_ino, info.st_mtime_ns, info.st_size)


def get_keyring() -> KeyRing:
    """The key ring, cached per process. A key ring file is stat()ed at every use (one
    system call) and read again when it changed, so running web and worker processes
    pick up a key added by `keyring_add` (and the values `rotate_keys` re-sealed under
    it) without a restart. A ring given inline (RECOURSE_KEYRING) changes only with
    the environment, that is with a restart."""
    inline, path = settings.RECOURSE_KEYRING, settings.RECOURSE_KEYRING_FILE
    if inline or not path:
        return _load_keyring(inline, path)
    return _load_keyring(inline, path, _file_stamp(path))


def keyring_file_read(path: Path) -> KeyRing:
    """A key ring file, for the commands that change it."""
    try:
        return KeyRing.from_json(path.read_text())
    except OSError as exc:
        raise KeyRingError(f"cannot read the key ring file ({exc.strerror})") from exc


@contextmanager
def keyring_file_locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock for a read-modify-write of the key ring file, so two
    `keyring_add` runs at once take turns instead of one dropping the other's key.
    The lock is on a file beside the ring: the ring itself is replaced, not rewritten,
    so a lock on it would not be seen by the next reader."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def write_keyring_file(ring: KeyRing, path: Path) -> None:
    """Write a key ring readable by its owner only, atomically: a reader sees the old
    ring or the new one, never half of one. The temporary file has a unique name
    (mkstemp creates it 0600), so concurrent writers never share it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(ring.to_json())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _load_keyring.cache_clear()


# --- Data keys and field encryption -----------------------------------------------------


def new_data_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return FORMAT_V1 + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, blob: Blob, aad: bytes) -> bytes:
    blob = bytes(blob)
    if len(blob) < 1 + NONCE_BYTES + 16 or blob[:1] != FORMAT_V1:
        raise DecryptionError("ciphertext is malformed")
    nonce, body = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, body, aad)
    except InvalidTag:
        raise DecryptionError("ciphertext failed authentication") from None


def field_context(table: str, row_id: object, field_name: str) -> bytes:
    """Associated data binding a ciphertext to one field of one row."""
    return f"recourse:field:v1:{table}:{row_id}:{field_name}".encode()


def encrypt_text(data_key: bytes, plaintext: str, *, context: bytes) -> bytes:
    return _seal(data_key, plaintext.encode("utf-8"), context)


def decrypt_text(data_key: bytes, blob: Blob, *, context: bytes) -> str:
    """Opens both forms: sealed with the data key itself, or sealed to the case's
    public key (content added after intake)."""
    blob = bytes(blob)
    if blob[:1] == FORMAT_SEALED_TO_CASE_V1:
        return _open_sealed_to_case(blob, data_key, context).decode("utf-8")
    return _open(data_key, blob, context).decode("utf-8")


# --- Values the server must read without a person present ---------------------------------
# (an SMS reporter's phone number, a half-collected SMS narrative): sealed directly under
# a KEK of the ring. The key id travels in the blob so rotation can re-seal them.

FORMAT_SERVER_V1 = b"\x02"


def server_seal(plaintext: str, *, context: bytes) -> bytes:
    return server_seal_bytes(plaintext.encode("utf-8"), context=context)


def server_seal_bytes(plaintext: bytes, *, context: bytes) -> bytes:
    ring = get_keyring()
    key_id = ring.primary_id.encode()
    if len(key_id) > 255:
        raise KeyRingError("key id too long")
    header = FORMAT_SERVER_V1 + bytes([len(key_id)]) + key_id
    return header + _seal(ring.kek(ring.primary_id), plaintext, header + context)


def server_sealed_key_id(blob: Blob) -> str:
    blob = bytes(blob)
    if len(blob) < 2 or blob[:1] != FORMAT_SERVER_V1:
        raise DecryptionError("ciphertext is malformed")
    return blob[2 : 2 + blob[1]].decode()


def server_open(blob: Blob, *, context: bytes) -> str:
    return server_open_bytes(blob, context=context).decode("utf-8")


def server_open_bytes(blob: Blob, *, context: bytes) -> bytes:
    blob = bytes(blob)
    key_id = server_sealed_key_id(blob)
    header_length = 2 + blob[1]
    header = blob[:header_length]
    return _open(get_keyring().kek(key_id), blob[header_length:], header + context)


# --- Reporter follow-up codes -------------------------------------------------------------


def _argon2id(salt: bytes) -> Argon2id:
    cost = settings.FOLLOWUP_CODE_KDF
    return Argon2id(
        salt=salt,
        length=32,
        iterations=cost["iterations"],
        lanes=cost["lanes"],
        memory_cost=cost["memory_cost"],
    )


FOLLOWUP_SCHEME = "recourse-argon2id"


def _hkdf(raw: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(raw)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class FollowupSecret:
    """From one Argon2id run over a follow-up code: what may be stored (a verifier)
    and what may not (the child's X25519 key, which opens their copy of the case key)."""

    stored: str
    reporter_private: bytes = field(repr=False)
    reporter_public: bytes


def _followup_from_raw(raw: bytes, stored: str) -> FollowupSecret:
    private = X25519PrivateKey.from_private_bytes(_hkdf(raw, b"recourse:followup:reporter-x25519"))
    return FollowupSecret(
        stored=stored,
        reporter_private=private.private_bytes_raw(),
        reporter_public=private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
    )


def followup_secret_new(code: str) -> FollowupSecret:
    """Argon2id over a new follow-up code. The stored string holds the parameters, the
    salt and an HKDF of the result, never the result itself."""
    cost = settings.FOLLOWUP_CODE_KDF
    salt = secrets.token_bytes(16)
    raw = _argon2id(salt).derive(code.encode())
    stored = (
        f"${FOLLOWUP_SCHEME}$v=1$m={cost['memory_cost']},t={cost['iterations']},"
        f"p={cost['lanes']}${_b64(salt)}${_b64(_hkdf(raw, b'recourse:followup:verify'))}"
    )
    return _followup_from_raw(raw, stored)


def followup_secret_check(code: str, stored: str) -> FollowupSecret | None:
    """The child's secret if the code is right; None otherwise (same work either way)."""
    try:
        _, scheme, _version, params, salt_text, verifier_text = stored.split("$")
        cost = dict(item.split("=") for item in params.split(","))
        salt, verifier = _unb64(salt_text), _unb64(verifier_text)
        if scheme != FOLLOWUP_SCHEME:
            return None
        raw = Argon2id(
            salt=salt,
            length=32,
            iterations=int(cost["t"]),
            lanes=int(cost["p"]),
            memory_cost=int(cost["m"]),
        ).derive(code.encode())
    except (ValueError, KeyError):
        return None
    if not hmac.compare_digest(_hkdf(raw, b"recourse:followup:verify"), verifier):
        return None
    return _followup_from_raw(raw, stored)


# A well-formed verifier to check against when a reference is unknown, so that a wrong
# reference and a wrong code take the same time.
@lru_cache(maxsize=1)
def dummy_followup_stored() -> str:
    return followup_secret_new("000000000000").stored


# --- Per-person keys (X25519) -------------------------------------------------------------
# Each staff member holds an X25519 key pair; the private key is stored only wrapped
# under a key derived from their password (Argon2id, parameters in the blob). A case's
# data key is wrapped to a public key with an ephemeral X25519 exchange, HKDF-SHA256
# and AES-256-GCM, bound to the case and the holder: whoever holds the private key
# can unwrap it; the server, holding only public keys, cannot.

FORMAT_PRIVATE_V1 = b"\x03"
FORMAT_TO_PUBLIC_V1 = b"\x04"


def _staff_kdf(password: str, salt: bytes, memory_cost: int, iterations: int) -> bytes:
    return Argon2id(
        salt=salt, length=32, iterations=iterations, lanes=1, memory_cost=memory_cost
    ).derive(password.encode("utf-8"))


def generate_keypair() -> tuple[bytes, bytes]:
    """(public key, private key), raw 32 bytes each."""
    private = X25519PrivateKey.generate()
    return (
        private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
        private.private_bytes_raw(),
    )


def wrap_private_key(private_key: bytes, password: str) -> bytes:
    """The private key sealed under a key derived from the password."""
    cost = settings.STAFF_KEY_KDF
    salt = secrets.token_bytes(16)
    header = (
        FORMAT_PRIVATE_V1
        + cost["memory_cost"].to_bytes(4, "big")
        + cost["iterations"].to_bytes(1, "big")
        + salt
    )
    key = _staff_kdf(password, salt, cost["memory_cost"], cost["iterations"])
    return header + _seal(key, private_key, header)


def unwrap_private_key(blob: Blob, password: str) -> bytes:
    blob = bytes(blob)
    if len(blob) < 22 or blob[:1] != FORMAT_PRIVATE_V1:
        raise DecryptionError("private key blob is malformed")
    memory_cost = int.from_bytes(blob[1:5], "big")
    iterations = blob[5]
    salt, header = blob[6:22], blob[:22]
    key = _staff_kdf(password, salt, memory_cost, iterations)
    return _open(key, blob[22:], header)


def _to_public_context(case_id: object, holder: str) -> bytes:
    return f"recourse:dek-to-public:v1:{case_id}:{holder}".encode()


def _exchange_key(
    shared: bytes, ephemeral_public: bytes, recipient_public: bytes, context: bytes
) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=b"recourse:x25519-wrap:v1|" + ephemeral_public + recipient_public + context,
    ).derive(shared)


def wrap_data_key_to_public(
    data_key: bytes, public_key: Blob, *, case_id: object, holder: str, epoch: str | None
) -> bytes:
    """Seal a case's data key so that only the holder of the private key opens it, and
    only while the key ring holds the epoch key (None: no epoch layer, for a ring that
    has no epoch keys yet; the epoch sweep adds the layer later)."""
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    context = _to_public_context(case_id, holder)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(bytes(public_key)))
    key = _exchange_key(shared, ephemeral_public, bytes(public_key), context)
    wrapped = FORMAT_TO_PUBLIC_V1 + ephemeral_public + _seal(key, data_key, context)
    return wrapped if epoch is None else _epoch_seal(wrapped, epoch, context)


def unwrap_data_key_with_private(
    blob: Blob, private_key: bytes, *, case_id: object, holder: str
) -> bytes:
    blob = _epoch_open(bytes(blob), _to_public_context(case_id, holder))
    if len(blob) < 1 + 32 + 1 + NONCE_BYTES + 16 or blob[:1] != FORMAT_TO_PUBLIC_V1:
        raise DecryptionError("wrapped key is malformed")
    ephemeral_public = blob[1:33]
    private = X25519PrivateKey.from_private_bytes(bytes(private_key))
    recipient_public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    context = _to_public_context(case_id, holder)
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
    except ValueError:
        raise DecryptionError("wrapped key is malformed") from None
    key = _exchange_key(shared, ephemeral_public, recipient_public, context)
    return _open(key, blob[33:], context)


# --- Epoch layer ------------------------------------------------------------------------
# Each copy of a data key (wrapped to a person, the recovery key or the child) is sealed
# once more under an epoch key of the key ring. The server removes and adds this layer
# (it cannot open what is inside); a destroyed epoch key leaves its copies unopenable in
# the database and in every backup of it, whoever holds a password.

FORMAT_EPOCH_V1 = b"\x06"


class EpochDestroyedError(DecryptionError):
    pass


def _epoch_header(epoch: str) -> bytes:
    epoch_id = epoch.encode()
    if not 0 < len(epoch_id) < 256:
        raise KeyRingError("epoch id must be 1 to 255 bytes")
    return FORMAT_EPOCH_V1 + bytes([len(epoch_id)]) + epoch_id


def _epoch_key(epoch: str) -> bytes:
    try:
        return get_keyring().epochs[epoch]
    except KeyError:
        raise EpochDestroyedError(f"epoch key {epoch!r} is not in the key ring") from None


def _epoch_seal(wrapped: bytes, epoch: str, context: bytes) -> bytes:
    header = _epoch_header(epoch)
    return header + _seal(_epoch_key(epoch), wrapped, header + context)


def wrapped_key_epoch(blob: Blob) -> str | None:
    """The epoch a copy is sealed under; None for a copy without the layer."""
    blob = bytes(blob)
    if blob[:1] != FORMAT_EPOCH_V1:
        return None
    if len(blob) < 2 or len(blob) < 2 + blob[1]:
        raise DecryptionError("wrapped key is malformed")
    return blob[2 : 2 + blob[1]].decode()


def _epoch_open(blob: bytes, context: bytes) -> bytes:
    epoch = wrapped_key_epoch(blob)
    if epoch is None:
        return blob
    header = blob[: 2 + blob[1]]
    return _open(_epoch_key(epoch), blob[len(header) :], header + context)


def epoch_reseal(blob: Blob, epoch: str, *, case_id: object, holder: str) -> bytes:
    """The same copy under another epoch key (or first put under one): the server
    does this without seeing the data key inside."""
    context = _to_public_context(case_id, holder)
    return _epoch_seal(_epoch_open(bytes(blob), context), epoch, context)


# A case's own X25519 key pair, derived from its data key. Its public half is stored
# with the case, so the server can add content (a child's message, a reply, a note)
# that only holders of the data key can read, without being able to read it itself.
FORMAT_SEALED_TO_CASE_V1 = b"\x05"


def case_keypair(data_key: bytes) -> tuple[bytes, bytes]:
    seed = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"recourse:case-x25519:v1"
    ).derive(data_key)
    private = X25519PrivateKey.from_private_bytes(seed)
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw), seed


def seal_to_case(plaintext: str, case_public_key: Blob, *, context: bytes) -> bytes:
    return seal_bytes_to_case(plaintext.encode("utf-8"), case_public_key, context=context)


def seal_bytes_to_case(plaintext: bytes, case_public_key: Blob, *, context: bytes) -> bytes:
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(bytes(case_public_key)))
    key = _exchange_key(shared, ephemeral_public, bytes(case_public_key), context)
    return FORMAT_SEALED_TO_CASE_V1 + ephemeral_public + _seal(key, plaintext, context)


def open_bytes_sealed_to_case(data_key: bytes, blob: Blob, *, context: bytes) -> bytes:
    """Bytes sealed to the case's public key (seal_bytes_to_case), with its data key."""
    blob = bytes(blob)
    if blob[:1] != FORMAT_SEALED_TO_CASE_V1:
        raise DecryptionError("ciphertext is malformed")
    return _open_sealed_to_case(blob, data_key, context)


def _open_sealed_to_case(blob: bytes, data_key: bytes, context: bytes) -> bytes:
    if len(blob) < 1 + 32 + 1 + NONCE_BYTES + 16:
        raise DecryptionError("ciphertext is malformed")
    public, private = case_keypair(data_key)
    ephemeral_public = blob[1:33]
    try:
        shared = X25519PrivateKey.from_private_bytes(private).exchange(
            X25519PublicKey.from_public_bytes(ephemeral_public)
        )
    except ValueError:
        raise DecryptionError("ciphertext is malformed") from None
    key = _exchange_key(shared, ephemeral_public, public, context)
    return _open(key, blob[33:], context)


def session_wrap_private_key(private_key: bytes) -> tuple[bytes, bytes]:
    """Re-wrap an unwrapped private key for one login session: the random key goes to
    the browser (a cookie), the blob to the server-side session. Neither side alone
    can read it; logout or expiry loses one of them."""
    cookie_key = secrets.token_bytes(KEY_BYTES)
    return cookie_key, _seal(cookie_key, private_key, b"recourse:session-private:v1")


def session_unwrap_private_key(blob: bytes, cookie_key: bytes) -> bytes:
    return _open(cookie_key, blob, b"recourse:session-private:v1")


# --- Blind indexes --------------------------------------------------------------------------


def blind_index(value: str, *, purpose: str) -> str:
    """Keyed HMAC of a value, to find or count it again without storing it."""
    key = get_keyring().index_key
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()
