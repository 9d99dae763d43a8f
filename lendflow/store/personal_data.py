"""Encryption at rest for personal data (names, national IDs, phone numbers, free text).

A copied database file or backup must not reveal who borrowed: each value is
sealed with AES-256-GCM under a key derived from the workspace secret, and bound
to its table, row and field (`v2:` tokens), so a sealed phone number cannot be
passed off as a name, nor one customer's name moved onto another's row. `v1:`
tokens, bound to the field only, still open (older workspaces) but are never
written; `lendflow key rotate` re-seals them as `v2:`.
Duplicates are found through a keyed hash instead of the clear value; the hash
key is derived separately so the lookup column gives no handle on the cipher.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from lendflow.domain.errors import BadInput

SECRET_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
TOKEN_PREFIX = "v2:"
LEGACY_PREFIX = "v1:"
ENCRYPTION_INFO = b"lendflow personal data encryption"
LOOKUP_INFO = b"lendflow personal data lookup"
FINGERPRINT_INFO = b"lendflow workspace key fingerprint"
FINGERPRINT_BYTES = 16

_HEX_KEY = re.compile(rf"[0-9a-fA-F]{{{2 * SECRET_BYTES}}}")
_URLSAFE_BASE64 = re.compile(r"[A-Za-z0-9_-]*={0,2}")
_UNREADABLE = "personal data could not be decrypted: wrong key or tampered record"


class PersonalDataCipher:
    """Seals, opens and fingerprints personal data under one workspace secret.

    The derived keys live only in private slots and the repr hides them, so a
    cipher that ends up in a traceback or a debug print does not leak them.
    """

    __slots__ = ("_aead", "_lookup_key")

    def __init__(self, encryption_key: bytes, lookup_key: bytes) -> None:
        self._aead = AESGCM(encryption_key)
        self._lookup_key = lookup_key

    def __repr__(self) -> str:
        return "PersonalDataCipher(<keys hidden>)"

    @classmethod
    def from_secret(cls, secret: bytes) -> PersonalDataCipher:
        """Derive the two keys from a 32-byte secret with HKDF-SHA256.

        Separate `info` labels make the keys independent: learning the lookup
        key (it is used on every search) tells nothing about the encryption key.
        """
        if not isinstance(secret, bytes) or len(secret) != SECRET_BYTES:
            size = len(secret) if isinstance(secret, bytes) else type(secret).__name__
            raise BadInput(f"personal data secret must be {SECRET_BYTES} bytes, got {size}")
        return cls(_derive(secret, ENCRYPTION_INFO), _derive(secret, LOOKUP_INFO))

    @classmethod
    def from_key_file(cls, path: Path) -> PersonalDataCipher:
        """The cipher under the workspace secret kept in `path`."""
        return cls.from_secret(read_secret(path))

    def encrypt(self, text: str, field: str, row: str) -> str:
        """Seal `text` as 'v2:' + urlsafe base64 of nonce + ciphertext, bound to `row`
        (a `row_ref`) and `field`.

        A fresh random nonce per call means equal values give unequal tokens, so
        the column does not reveal which borrowers share a value.
        """
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, _utf8(text, field), _bound_data(field, row))
        return TOKEN_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, token: str, field: str, row: str) -> str:
        """Open a token made by `encrypt` for the same row, field and secret (or an
        older `v1:` token, bound to the field alone)."""
        if token.startswith(TOKEN_PREFIX):
            associated = _bound_data(field, row)
            body = token[len(TOKEN_PREFIX) :]
        elif token.startswith(LEGACY_PREFIX):
            associated = _associated_data(field)
            body = token[len(LEGACY_PREFIX) :]
        else:
            raise BadInput("personal data record is not in a known format (expected v2:)")
        if not _URLSAFE_BASE64.fullmatch(body):
            raise BadInput(_UNREADABLE)
        try:
            raw = base64.urlsafe_b64decode(body)
        except (binascii.Error, ValueError):
            raise BadInput(_UNREADABLE) from None
        if len(raw) < NONCE_BYTES + TAG_BYTES:
            raise BadInput(_UNREADABLE)
        try:
            clear = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated)
        except InvalidTag:
            raise BadInput(_UNREADABLE) from None
        return clear.decode("utf-8")

    def lookup_hash(self, text: str, field: str) -> str:
        """Deterministic keyed fingerprint of `text` in `field`, as hex.

        Equal values in the same field give equal hashes, which is what finding
        a duplicate borrower needs; a plain hash would not do, since the few
        billion possible phone numbers can be tried offline in minutes. Callers
        hash the normalised value (validate_phone etc.) or duplicates are missed.
        """
        message = _associated_data(field) + b"\x00" + _utf8(text, field)
        return hmac.new(self._lookup_key, message, hashlib.sha256).hexdigest()


def row_ref(table: str, key: object) -> str:
    """The identity a sealed value is bound to: its table and a key of its row known
    before the insert (a customer's look-up hash, a loan's id, a ticket's id)."""
    return f"{table}:{key}"


def customer_row(id_hash: str) -> str:
    """A customer's sealed values are bound to the look-up hash of their national ID:
    known before the insert (the id is not), unique, and stored in the same row."""
    return row_ref("customers", id_hash)


def document_row(loan_id: object, kind: str, business_date: object) -> str:
    """A kept document is bound to its loan, kind and date (the table's unique key)."""
    return row_ref("documents", f"{loan_id}/{kind}/{business_date}")


def decision_row(loan_id: object) -> str:
    """A credit decision's note is bound to its loan: the loan's decisions are written
    together, before their ids are known; a note cannot move to another loan."""
    return row_ref("credit_decisions", f"loan-{loan_id}")


def key_fingerprint(secret: bytes) -> str:
    """A public name for the workspace secret (hex), recorded in the database.

    Derived with its own HKDF label, so it tells nothing about the keys that seal
    or hash, yet a different secret gives a different fingerprint: a replaced key
    file is caught before it seals anything.
    """
    return _derive(secret, FINGERPRINT_INFO)[:FINGERPRINT_BYTES].hex()


def require_private(path: Path) -> None:
    """Refuse a key file that group or others may read: whoever can read it can open
    every sealed name and ID in the database and in each backup of it."""
    try:
        mode = Path(path).stat().st_mode & 0o777
    except OSError:
        return  # a missing file is named by read_secret, with its reason
    if mode & 0o077:
        raise BadInput(f"{path}: secret key is readable by others (mode {mode:o}); chmod 600 it")


def read_secret(path: Path) -> bytes:
    """Load the workspace secret: one line of 64 hex characters.

    Messages name the file and what is wrong with it but never echo its
    content, which would put the key in a terminal scrollback or a log.
    """
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise BadInput(f"cannot read personal data key file {path}: {reason}") from None
    try:
        text = content.decode("ascii").strip()
    except UnicodeDecodeError:
        text = None
    if text is None or not _HEX_KEY.fullmatch(text):
        raise BadInput(
            f"personal data key file {path} must hold exactly {2 * SECRET_BYTES} hex "
            f"characters ({SECRET_BYTES} bytes)"
        )
    return bytes.fromhex(text)


def derive_key(secret: bytes, info: bytes) -> bytes:
    """A 32-byte key for one purpose (`info`) from the workspace secret (HKDF-SHA256)."""
    return _derive(secret, info)


def _derive(secret: bytes, info: bytes) -> bytes:
    """One 32-byte key per purpose; the secret is uniformly random, so no salt."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


def _associated_data(field: str) -> bytes:
    """The field name as bytes; a NUL in it would make lookup hashes ambiguous."""
    if not field or "\x00" in field:
        raise BadInput("personal data field name must be non-empty and must not contain NUL")
    return _utf8(field, "field name")


def _bound_data(field: str, row: str) -> bytes:
    """Version, row and field as the associated data of a `v2:` token."""
    if not row or "\x00" in row:
        raise BadInput("personal data row reference must be non-empty and must not contain NUL")
    return b"v2\x00" + _utf8(row, "row reference") + b"\x00" + _associated_data(field)


def _utf8(text: str, field: str) -> bytes:
    """UTF-8 bytes, refusing lone surrogates instead of failing deep in a codec."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput(f"personal data {field} is not valid text") from None
