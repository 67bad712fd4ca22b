"""The deployment's secret, turned into one key per purpose.

A person appears in the store only as a keyed pseudonym of their chat id; the chat id itself,
needed to answer, is kept sealed with a second key. Without the secret neither can be reversed or
linked to a Telegram account, and a copy of the database alone reveals no one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE_BYTES = 12
_ADDRESS_BYTES = 8  # a chat id as a signed 64-bit integer: every sealed address has one length


class WeakSecretError(ValueError):
    """The secret is too short to derive keys from."""


class AddressUnreadable(ValueError):
    """A sealed address does not open: another secret, another row, or tampering."""


class SecretKeys:
    """Keys derived from the deployment's secret (WEGWEISER_SECRET_KEY) with HKDF-SHA256, one per
    purpose, so one purpose's key can be rotated without touching the others. The secret itself
    is not kept."""

    MINIMUM_SECRET_LENGTH = 32  # characters

    __slots__ = ("_address", "_pseudonym_key", "_return_code_key", "_webhook_key")

    def __init__(self, secret: str) -> None:
        if len(secret) < self.MINIMUM_SECRET_LENGTH:
            raise WeakSecretError(
                f"WEGWEISER_SECRET_KEY must be at least {self.MINIMUM_SECRET_LENGTH} characters "
                f"long (it has {len(secret)}); generate one with "
                '`python -c "import secrets; print(secrets.token_urlsafe(48))"`'
            )
        material = secret.encode("utf-8")
        self._pseudonym_key = _derive(material, b"wegweiser pseudonym v1")
        self._address = AESGCM(_derive(material, b"wegweiser address v1"))
        self._webhook_key = _derive(material, b"wegweiser webhook v1")
        self._return_code_key = _derive(material, b"wegweiser return code v1")

    def __repr__(self) -> str:
        return "SecretKeys(<hidden>)"

    def pseudonym(self, chat_id: int) -> bytes:
        """The key of a person's session: the same for one chat id and one secret, unlinkable to
        the chat id without the secret."""
        return hmac.digest(self._pseudonym_key, str(chat_id).encode("ascii"), hashlib.sha256)

    def seal_address(self, chat_id: int, pseudonym: bytes) -> bytes:
        """The chat id, encrypted (nonce + ciphertext + tag). The pseudonym is bound in as
        associated data, so a sealed address opens only in the row it was sealed for."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        plain = chat_id.to_bytes(_ADDRESS_BYTES, "big", signed=True)
        return nonce + self._address.encrypt(nonce, plain, pseudonym)

    def open_address(self, sealed: bytes, pseudonym: bytes) -> int:
        try:
            plain = self._address.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], pseudonym)
        except (InvalidTag, ValueError):
            plain = b""
        if len(plain) != _ADDRESS_BYTES:
            raise AddressUnreadable(
                "the sealed chat address does not open: it was sealed with another "
                "WEGWEISER_SECRET_KEY, for another session, or it was altered"
            )
        return int.from_bytes(plain, "big", signed=True)

    def return_code_digest(self, code: str) -> bytes:
        """What the store keeps of a return code: the code itself never, only this digest."""
        return hmac.digest(self._return_code_key, code.encode("utf-8"), hashlib.sha256)

    def webhook_secret(self) -> str:
        """Telegram's setWebhook secret_token (64 hex characters), stable for one secret."""
        return self._webhook_key.hex()


def _derive(material: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(material)


def log_tag(pseudonym: bytes) -> str:
    """The only form in which a person may appear in logs: enough to follow one session through
    a log, too short to be a key."""
    return pseudonym[:4].hex()


def generate_secret() -> str:
    """A fresh value for WEGWEISER_SECRET_KEY (64 characters)."""
    return secrets.token_urlsafe(48)
