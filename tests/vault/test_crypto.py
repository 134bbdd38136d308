import base64
import json

import pytest
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id  # noqa: F401  (imported to fail loudly if missing)

from vault import crypto
from vault.crypto import DecryptionError, KeyRing, KeyRingError, UnknownKeyError


def ring_json(primary="k1", **keys) -> str:
    keys = keys or {"k1": b"a" * 32}
    return json.dumps(
        {"primary": primary, "keys": {k: base64.b64encode(v).decode() for k, v in keys.items()}}
    )


@pytest.fixture
def two_key_ring(settings):
    settings.RECOURSE_KEYRING = ring_json("k2", k1=b"1" * 32, k2=b"2" * 32)
    yield
    crypto._load_keyring.cache_clear()


def test_round_trip():
    key = crypto.new_data_key()
    context = crypto.field_context("case", "abc", "narrative")
    blob = crypto.encrypt_text(key, "Él me empujó — 押した 🙁", context=context)
    assert "Él".encode() not in blob
    assert crypto.decrypt_text(key, blob, context=context) == "Él me empujó — 押した 🙁"


def test_same_text_encrypts_differently_each_time():
    key = crypto.new_data_key()
    context = crypto.field_context("case", "abc", "narrative")
    assert crypto.encrypt_text(key, "same", context=context) != crypto.encrypt_text(
        key, "same", context=context
    )


@pytest.mark.parametrize("position", [0, 5, 20, -1])
def test_tampered_ciphertext_fails(position):
    key = crypto.new_data_key()
    context = crypto.field_context("case", "abc", "narrative")
    blob = bytearray(crypto.encrypt_text(key, "secret words", context=context))
    blob[position] ^= 0x01
    with pytest.raises(DecryptionError):
        crypto.decrypt_text(key, bytes(blob), context=context)


def test_truncated_ciphertext_fails():
    key = crypto.new_data_key()
    context = crypto.field_context("case", "abc", "narrative")
    blob = crypto.encrypt_text(key, "secret words", context=context)
    for cut in (0, 5, 13, len(blob) - 1):
        with pytest.raises(DecryptionError):
            crypto.decrypt_text(key, blob[:cut], context=context)


def test_ciphertext_swapped_between_rows_or_fields_fails():
    key = crypto.new_data_key()
    blob = crypto.encrypt_text(
        key, "narrative of case A", context=crypto.field_context("case", "A", "narrative")
    )
    with pytest.raises(DecryptionError):
        crypto.decrypt_text(key, blob, context=crypto.field_context("case", "B", "narrative"))
    with pytest.raises(DecryptionError):
        crypto.decrypt_text(key, blob, context=crypto.field_context("case", "A", "contact"))


def test_wrong_data_key_fails():
    context = crypto.field_context("case", "A", "narrative")
    blob = crypto.encrypt_text(crypto.new_data_key(), "x", context=context)
    with pytest.raises(DecryptionError):
        crypto.decrypt_text(crypto.new_data_key(), blob, context=context)


def test_a_server_sealed_value_is_bound_to_its_row_and_names_its_key(two_key_ring, settings):
    context = crypto.field_context("smsreporter", 1, "phone")
    blob = crypto.server_seal("+221770000000", context=context)
    assert b"+221770000000" not in blob and crypto.server_sealed_key_id(blob) == "k2"
    assert crypto.server_open(blob, context=context) == "+221770000000"
    with pytest.raises(DecryptionError):
        crypto.server_open(blob, context=crypto.field_context("smsreporter", 2, "phone"))
    settings.RECOURSE_KEYRING = ring_json("k3", k3=b"3" * 32)  # k2 retired before a re-seal
    crypto._load_keyring.cache_clear()
    with pytest.raises(UnknownKeyError, match="'k2'"):
        crypto.server_open(blob, context=context)


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        json.dumps({"primary": "x", "keys": {}}),
        json.dumps({"primary": "k", "keys": {"k": "c2hvcnQ="}}),  # too short
        json.dumps({"primary": "k", "keys": {"k": "!!!"}}),
    ],
)
def test_bad_keyring_is_refused(text):
    with pytest.raises(KeyRingError):
        KeyRing.from_json(text)


def test_keyring_errors_never_contain_key_material():
    secret = base64.b64encode(b"z" * 31).decode()
    with pytest.raises(KeyRingError) as info:
        KeyRing.from_json(json.dumps({"primary": "k", "keys": {"k": secret}}))
    assert secret not in str(info.value)


def test_new_primary_keeps_old_keys_and_index_key():
    ring = KeyRing.generate("one")
    rotated = ring.with_new_primary("two")
    assert rotated.primary_id == "two"
    assert rotated.keys["one"] == ring.keys["one"]
    assert rotated.index_key == ring.index_key
    assert KeyRing.from_json(rotated.to_json()) == rotated


def test_followup_code_hash_is_argon2id_with_the_configured_cost(settings):
    settings.FOLLOWUP_CODE_KDF = {"memory_cost": 19456, "iterations": 2, "lanes": 1}
    secret = crypto.followup_secret_new("123456789012")
    assert secret.stored.startswith("$recourse-argon2id$v=1$m=19456,t=2,p=1$")
    assert "123456789012" not in secret.stored
    again = crypto.followup_secret_check("123456789012", secret.stored)
    assert again is not None and again.reporter_private == secret.reporter_private
    assert crypto.followup_secret_check("123456789013", secret.stored) is None
    # What is stored does not give the child's key away.
    assert secret.reporter_private not in secret.stored.encode()
    for part in secret.stored.split("$")[-2:]:
        assert crypto._unb64(part) != secret.reporter_private


def test_production_default_kdf_cost_is_the_owasp_minimum():
    from config import settings as production_defaults

    # settings_test lowers the cost; the module default is what production runs.
    assert production_defaults.FOLLOWUP_CODE_KDF["memory_cost"] >= 19 * 1024
    assert production_defaults.FOLLOWUP_CODE_KDF["iterations"] >= 2


def test_blind_index_is_keyed_and_stable():
    a = crypto.blind_index("+221771234567", purpose="phone")
    assert a == crypto.blind_index("+221771234567", purpose="phone")
    assert a != crypto.blind_index("+221771234567", purpose="client")
    assert "221771234567" not in a


# --- Per-person keys ---------------------------------------------------------------------


def test_data_key_wrapped_to_a_public_key_opens_only_with_its_private_key():
    public, private = crypto.generate_keypair()
    other_public, other_private = crypto.generate_keypair()
    data_key = crypto.new_data_key()
    blob = crypto.wrap_data_key_to_public(
        data_key, public, case_id="c1", holder="user:7", epoch="open-2026-12"
    )
    assert data_key not in blob
    assert (
        crypto.unwrap_data_key_with_private(blob, private, case_id="c1", holder="user:7")
        == data_key
    )
    with pytest.raises(DecryptionError):
        crypto.unwrap_data_key_with_private(blob, other_private, case_id="c1", holder="user:7")
    with pytest.raises(DecryptionError):  # swapped to another case or holder
        crypto.unwrap_data_key_with_private(blob, private, case_id="c2", holder="user:7")
    with pytest.raises(DecryptionError):
        crypto.unwrap_data_key_with_private(blob, private, case_id="c1", holder="user:8")
    for bad in (blob[:40], blob[:-1], blob[:20] + bytes([blob[20] ^ 1]) + blob[21:]):
        with pytest.raises(DecryptionError):
            crypto.unwrap_data_key_with_private(bad, private, case_id="c1", holder="user:7")


# --- Epoch layer -----------------------------------------------------------------------


@pytest.fixture
def epoch_ring(settings):
    ring = KeyRing.generate("k1").with_epochs(["open-2026-11", "open-2026-12"])
    settings.RECOURSE_KEYRING = ring.to_json()
    yield ring
    crypto._load_keyring.cache_clear()


def test_a_copy_opens_only_while_its_epoch_key_is_in_the_ring(settings, epoch_ring):
    public, private = crypto.generate_keypair()
    data_key = crypto.new_data_key()
    blob = crypto.wrap_data_key_to_public(
        data_key, public, case_id=9, holder="user:7", epoch="open-2026-11"
    )
    assert crypto.wrapped_key_epoch(blob) == "open-2026-11"
    assert (
        crypto.unwrap_data_key_with_private(blob, private, case_id=9, holder="user:7") == data_key
    )

    # The server moves it to another epoch without the private key, and it still opens.
    moved = crypto.epoch_reseal(blob, "open-2026-12", case_id=9, holder="user:7")
    assert crypto.wrapped_key_epoch(moved) == "open-2026-12"
    assert (
        crypto.unwrap_data_key_with_private(moved, private, case_id=9, holder="user:7") == data_key
    )
    with pytest.raises(DecryptionError):  # the layer is bound to the case and holder too
        crypto.epoch_reseal(blob, "open-2026-12", case_id=10, holder="user:7")

    # With the epoch key destroyed, the private key is not enough.
    settings.RECOURSE_KEYRING = epoch_ring.without_epochs(["open-2026-11"]).to_json()
    with pytest.raises(crypto.EpochDestroyedError):
        crypto.unwrap_data_key_with_private(blob, private, case_id=9, holder="user:7")
    assert (
        crypto.unwrap_data_key_with_private(moved, private, case_id=9, holder="user:7") == data_key
    )


def test_a_copy_without_the_layer_still_opens_and_can_be_put_under_one(epoch_ring):
    public, private = crypto.generate_keypair()
    data_key = crypto.new_data_key()
    legacy = crypto.wrap_data_key_to_public(
        data_key, public, case_id=9, holder="reporter", epoch=None
    )
    assert crypto.wrapped_key_epoch(legacy) is None
    layered = crypto.epoch_reseal(legacy, "open-2026-12", case_id=9, holder="reporter")
    assert (
        crypto.unwrap_data_key_with_private(layered, private, case_id=9, holder="reporter")
        == data_key
    )


def test_the_key_ring_keeps_epoch_keys_and_never_replaces_one():
    ring = KeyRing.generate("k1").with_epochs(["open-2026-12"])
    again = KeyRing.from_json(ring.to_json()).with_epochs(["open-2026-12", "closed-2026-12"])
    assert again.epochs["open-2026-12"] == ring.epochs["open-2026-12"]
    assert set(again.epochs) == {"open-2026-12", "closed-2026-12"}
    assert set(again.without_epochs(["open-2026-12"]).epochs) == {"closed-2026-12"}
    with pytest.raises(KeyRingError):
        KeyRing.from_json(
            json.dumps(
                {
                    "primary": "k1",
                    "keys": {"k1": base64.b64encode(b"a" * 32).decode()},
                    "epochs": {"open-2026-12": "short"},
                }
            )
        )


def test_private_key_is_stored_only_under_the_password():
    public, private = crypto.generate_keypair()
    blob = crypto.wrap_private_key(private, "correct horse battery staple")
    assert private not in blob
    assert crypto.unwrap_private_key(blob, "correct horse battery staple") == private
    with pytest.raises(DecryptionError):
        crypto.unwrap_private_key(blob, "wrong password")


def test_staff_key_kdf_parameters_travel_with_the_blob(settings):
    settings.STAFF_KEY_KDF = {"memory_cost": 2048, "iterations": 3}
    _public, private = crypto.generate_keypair()
    blob = crypto.wrap_private_key(private, "pw")
    assert int.from_bytes(blob[1:5], "big") == 2048 and blob[5] == 3
    settings.STAFF_KEY_KDF = {"memory_cost": 1024, "iterations": 1}  # a later change...
    assert crypto.unwrap_private_key(blob, "pw") == private  # ...still opens older blobs


def test_session_copy_needs_both_the_cookie_key_and_the_session_blob():
    _public, private = crypto.generate_keypair()
    cookie_key, blob = crypto.session_wrap_private_key(private)
    assert crypto.session_unwrap_private_key(blob, cookie_key) == private
    with pytest.raises(DecryptionError):
        crypto.session_unwrap_private_key(blob, crypto.new_data_key())


def test_content_sealed_to_the_case_public_key_opens_only_with_the_data_key():
    data_key = crypto.new_data_key()
    public, _private = crypto.case_keypair(data_key)
    assert crypto.case_keypair(data_key)[0] == public  # derived, so nothing else to store
    context = crypto.field_context("message", "c/m", "body")
    blob = crypto.seal_to_case("Encore une chose.", public, context=context)
    assert crypto.decrypt_text(data_key, blob, context=context) == "Encore une chose."
    with pytest.raises(DecryptionError):
        crypto.decrypt_text(crypto.new_data_key(), blob, context=context)
    with pytest.raises(DecryptionError):
        crypto.decrypt_text(data_key, blob, context=crypto.field_context("message", "c/x", "body"))
    with pytest.raises(DecryptionError):
        crypto.decrypt_text(data_key, blob[:-3], context=context)
