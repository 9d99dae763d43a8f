"""Personal data at rest: what is sealed opens only with the same key and field.

A database copy must reveal nothing, a moved or edited record must be refused
rather than read as someone else's data, and the lookup hash must find
duplicates without being a reversible stand-in for the value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from lendflow.domain.errors import BadInput
from lendflow.store.personal_data import (
    ENCRYPTION_INFO,
    PersonalDataCipher,
    derive_key,
    key_fingerprint,
)

SETTINGS = settings(max_examples=50, deadline=None)
SECRET = bytes(range(32))
OTHER_SECRET = bytes(range(1, 33))
CIPHER = PersonalDataCipher.from_secret(SECRET)
UNREADABLE = "personal data could not be decrypted: wrong key or tampered record"
ID = "11010519491231002X"
ROW = "customers:one"
VALUES = st.text(max_size=60)
FIELDS = st.sampled_from(["name", "national_id", "phone", "地址"])


def unreadable(token: str, field: str, cipher: PersonalDataCipher = CIPHER) -> str:
    """The message decrypt refuses `token` with."""
    with pytest.raises(BadInput) as caught:
        cipher.decrypt(token, field, ROW)
    return caught.value.message


def test_round_trip() -> None:
    for text, field in [(ID, "national_id"), ("欧阳娜娜", "name"), ("", "phone")]:
        token = CIPHER.encrypt(text, field, ROW)
        assert token.startswith("v2:")
        assert CIPHER.decrypt(token, field, ROW) == text


def test_token_is_nonce_plus_ciphertext_plus_tag() -> None:
    token = CIPHER.encrypt(ID, "national_id", ROW)
    raw = base64.urlsafe_b64decode(token[3:])
    assert len(raw) == 12 + len(ID) + 16


@SETTINGS
@given(VALUES, FIELDS)
def test_any_text_round_trips_and_does_not_show_through(text: str, field: str) -> None:
    token = CIPHER.encrypt(text, field, ROW)
    assert CIPHER.decrypt(token, field, ROW) == text
    assert CIPHER.encrypt(text, field, ROW) != token
    raw = base64.urlsafe_b64decode(token[3:])
    if len(text) >= 8:
        assert text not in token
        assert text.encode("utf-8") not in raw
        assert text.encode("utf-8") not in token.encode("ascii")


def test_the_same_value_encrypts_differently_every_time() -> None:
    tokens = {CIPHER.encrypt(ID, "national_id", ROW) for _ in range(20)}
    assert len(tokens) == 20
    nonces = {base64.urlsafe_b64decode(token[3:])[:12] for token in tokens}
    assert len(nonces) == 20


def test_a_wrong_field_is_refused() -> None:
    token = CIPHER.encrypt("13812345678", "phone", ROW)
    assert unreadable(token, "name") == UNREADABLE


def test_a_wrong_key_is_refused() -> None:
    token = CIPHER.encrypt(ID, "national_id", ROW)
    other = PersonalDataCipher.from_secret(OTHER_SECRET)
    assert unreadable(token, "national_id", other) == UNREADABLE


@SETTINGS
@given(st.data())
def test_any_flipped_bit_is_refused(data: st.DataObject) -> None:
    token = CIPHER.encrypt(ID, "national_id", ROW)
    raw = bytearray(base64.urlsafe_b64decode(token[3:]))
    position = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
    bit = data.draw(st.integers(min_value=0, max_value=7))
    raw[position] ^= 1 << bit
    tampered = "v2:" + base64.urlsafe_b64encode(bytes(raw)).decode("ascii")
    assert unreadable(tampered, "national_id") == UNREADABLE


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-4],
        lambda token: token[:20],
        lambda token: "v2:",
        lambda token: token + "AAAA",
        lambda token: token[:10] + "!" + token[11:],
        lambda token: token[:10] + "+" + token[11:],
        lambda token: token + "=",
    ],
)
def test_mangled_tokens_are_refused(mangle: Callable[[str], str]) -> None:
    token = CIPHER.encrypt(ID, "national_id", ROW)
    assert unreadable(mangle(token), "national_id") == UNREADABLE


def test_clear_text_or_another_version_is_not_a_token() -> None:
    token = CIPHER.encrypt(ID, "national_id", ROW)
    for other in [ID, "v3:" + token[3:], ""]:
        with pytest.raises(BadInput, match="not in a known format"):
            CIPHER.decrypt(other, "national_id", ROW)


def test_field_names_must_be_non_empty_and_without_nul() -> None:
    for field in ["", "na\x00me"]:
        with pytest.raises(BadInput, match="field name"):
            CIPHER.encrypt("x", field, ROW)
        with pytest.raises(BadInput, match="field name"):
            CIPHER.lookup_hash("x", field)


def test_lone_surrogates_are_refused() -> None:
    with pytest.raises(BadInput, match="not valid text"):
        CIPHER.encrypt("\ud800", "name", ROW)


def test_lookup_hash_is_stable_and_keyed_by_field_and_secret() -> None:
    digest = CIPHER.lookup_hash(ID, "national_id")
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert PersonalDataCipher.from_secret(SECRET).lookup_hash(ID, "national_id") == digest
    assert CIPHER.lookup_hash(ID, "phone") != digest
    assert CIPHER.lookup_hash(ID[:-1] + "8", "national_id") != digest
    assert PersonalDataCipher.from_secret(OTHER_SECRET).lookup_hash(ID, "national_id") != digest
    assert ID not in digest


def test_lookup_hash_separates_field_from_text() -> None:
    assert CIPHER.lookup_hash("bc", "a") != CIPHER.lookup_hash("c", "ab")


@SETTINGS
@given(VALUES, VALUES, FIELDS)
def test_lookup_hash_is_equal_exactly_for_equal_values(first: str, second: str, field: str) -> None:
    equal = CIPHER.lookup_hash(first, field) == CIPHER.lookup_hash(second, field)
    assert equal == (first == second)


def test_the_lookup_key_is_derived_not_the_secret_itself() -> None:
    plain = hmac.new(SECRET, b"name\x00x", hashlib.sha256).hexdigest()
    assert CIPHER.lookup_hash("x", "name") != plain


def test_repr_hides_the_keys() -> None:
    text = repr(CIPHER)
    assert text == "PersonalDataCipher(<keys hidden>)"
    assert SECRET.hex() not in text


def test_from_secret_needs_32_bytes() -> None:
    for secret in [b"", bytes(31), bytes(33)]:
        with pytest.raises(BadInput, match="must be 32 bytes"):
            PersonalDataCipher.from_secret(secret)


def test_from_key_file_reads_64_hex_characters(tmp_path: Path) -> None:
    key_file = tmp_path / "secret.key"
    key_file.write_text(SECRET.hex().upper() + "\n", encoding="ascii")
    cipher = PersonalDataCipher.from_key_file(key_file)
    token = CIPHER.encrypt(ID, "national_id", ROW)
    assert cipher.decrypt(token, "national_id", ROW) == ID
    assert cipher.lookup_hash(ID, "national_id") == CIPHER.lookup_hash(ID, "national_id")


@pytest.mark.parametrize(
    "content",
    [
        b"",
        SECRET.hex()[:-2].encode(),
        (SECRET.hex() + "00").encode(),
        ("g" + SECRET.hex()[1:]).encode(),
        (SECRET.hex()[:32] + " " + SECRET.hex()[32:]).encode(),
        SECRET,
        b"\xff" * 64,
        "１".encode() * 64,
    ],
)
def test_from_key_file_refuses_anything_else(tmp_path: Path, content: bytes) -> None:
    key_file = tmp_path / "secret.key"
    key_file.write_bytes(content)
    with pytest.raises(BadInput) as caught:
        PersonalDataCipher.from_key_file(key_file)
    message = caught.value.message
    assert str(key_file) in message
    assert "64 hex characters" in message
    assert "\n" not in message
    visible = content.decode("ascii", errors="ignore").strip()
    if len(visible) >= 8:
        assert visible not in message


def test_from_key_file_names_a_missing_file(tmp_path: Path) -> None:
    key_file = tmp_path / "missing.key"
    with pytest.raises(BadInput) as caught:
        PersonalDataCipher.from_key_file(key_file)
    assert str(key_file) in caught.value.message


def test_a_value_moved_to_another_row_is_refused() -> None:
    """Issue 14: a name sealed for one customer does not open on another's row."""
    token = CIPHER.encrypt("张三", "name", "customers:aaaa")
    assert CIPHER.decrypt(token, "name", "customers:aaaa") == "张三"
    assert unreadable_at(token, "name", "customers:bbbb") == UNREADABLE
    assert unreadable_at(token, "name", "tickets:aaaa") == UNREADABLE


def test_a_v1_token_bound_to_its_field_only_still_opens() -> None:
    """Workspaces sealed before rows were bound keep working until `key rotate`."""
    aead = AESGCM(derive_key(SECRET, ENCRYPTION_INFO))
    nonce = bytes(12)
    legacy = "v1:" + base64.urlsafe_b64encode(
        nonce + aead.encrypt(nonce, "李四".encode(), b"name")
    ).decode("ascii")
    assert CIPHER.decrypt(legacy, "name", "customers:any") == "李四"
    assert unreadable_at(legacy, "phone", "customers:any") == UNREADABLE


def test_row_references_must_be_non_empty_and_without_nul() -> None:
    for row in ["", "customers:\x00"]:
        with pytest.raises(BadInput, match="row reference"):
            CIPHER.encrypt("x", "name", row)


def test_the_fingerprint_names_the_key_and_reveals_none_of_it() -> None:
    fingerprint = key_fingerprint(SECRET)
    assert fingerprint == key_fingerprint(SECRET)
    assert fingerprint != key_fingerprint(OTHER_SECRET)
    assert len(fingerprint) == 32
    assert fingerprint not in SECRET.hex()
    lookup = CIPHER.lookup_hash(ID, "national_id")
    assert fingerprint not in lookup


def unreadable_at(token: str, field: str, row: str) -> str:
    with pytest.raises(BadInput) as caught:
        CIPHER.decrypt(token, field, row)
    return caught.value.message
