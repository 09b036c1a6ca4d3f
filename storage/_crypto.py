"""Keys derived from the master secret, pseudonyms, and sealed (encrypted) records."""

from __future__ import annotations

import hmac
import json
import os
from hashlib import sha256
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE_BYTES = 12
# A sealed record is: version (1 byte) | nonce (12 bytes) | AES-GCM ciphertext and tag.
_HEADER_BYTES = 1 + _NONCE_BYTES


class SealError(ValueError):
    """A sealed record does not authenticate (other secret, altered, or damaged)."""


def _derive(secret: bytes, purpose: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose).derive(secret)


def _hmac_hex(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode("utf-8"), sha256).hexdigest()[:32]


class Keyring:
    """Subkeys derived from the master secret with HKDF-SHA256, one per purpose.

    Separate subkeys mean the stored key check reveals nothing about the others.
    """

    def __init__(self, secret: bytes) -> None:
        if not secret:
            raise ValueError("the master secret is empty")
        self._aead = AESGCM(_derive(secret, b"kakekomi/record-encryption"))
        self._pseudonym_key = _derive(secret, b"kakekomi/pseudonym")
        self._update_key = _derive(secret, b"kakekomi/update-token")
        self.key_check = _derive(secret, b"kakekomi/key-check", length=16)

    def matches(self, key_check: bytes) -> bool:
        """True if ``key_check`` was made from the same master secret."""
        return hmac.compare_digest(self.key_check, key_check)

    def pseudonym(self, channel: str, user_id: str) -> str:
        """HMAC-SHA256 of ``"channel:user_id"`` (first 32 hex characters)."""
        return _hmac_hex(self._pseudonym_key, f"{channel}:{user_id}")

    def update_token(self, channel: str, update_id: int) -> str:
        """What is stored for a seen update instead of its raw id."""
        return _hmac_hex(self._update_key, f"{channel}:{update_id}")

    def seal(self, key: str, record: dict[str, Any], version: int) -> bytes:
        """Encrypt a JSON-able record; the key and version are authenticated with it."""
        return self.seal_plaintext(key, encode(record), version)

    def seal_plaintext(self, key: str, plaintext: bytes, version: int) -> bytes:
        """Encrypt a record already encoded by `encode`."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext, _associated_data(key, version))
        return bytes([version]) + nonce + sealed

    def unseal(self, key: str, blob: bytes) -> dict[str, Any]:
        """Decrypt a record sealed under ``key``; raises SealError if it does not authenticate."""
        return decode(self.unseal_plaintext(key, blob))

    def unseal_plaintext(self, key: str, blob: bytes) -> bytes:
        """The encoded record inside a blob sealed under ``key`` (see `decode`)."""
        if len(blob) <= _HEADER_BYTES:
            raise SealError("sealed record is truncated")
        version, nonce, sealed = blob[0], blob[1:_HEADER_BYTES], blob[_HEADER_BYTES:]
        try:
            return self._aead.decrypt(nonce, sealed, _associated_data(key, version))
        except InvalidTag:
            raise SealError("sealed record does not authenticate") from None


def encode(record: dict[str, Any]) -> bytes:
    """A record as the bytes that are sealed (compact JSON)."""
    if not isinstance(record, dict):
        raise TypeError(f"a record must be a dict, not {type(record).__name__}")
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()


def decode(plaintext: bytes) -> dict[str, Any]:
    """A fresh record from `encode`'s bytes; raises SealError if they are not a record."""
    try:
        record = json.loads(plaintext)
    except ValueError:
        raise SealError("sealed record is not JSON") from None
    if not isinstance(record, dict):
        raise SealError("sealed record is not a JSON object")
    return record


def _associated_data(key: str, version: int) -> bytes:
    # The version byte travels in the blob, so records written under an older
    # schema still open after a migration, yet it cannot be altered unnoticed.
    return b"kakekomi/conversation/v%d\x00" % version + key.encode("utf-8")
