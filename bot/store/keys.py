"""The deployment's secret, turned into one key per purpose.

A person appears in the store only as a keyed pseudonym of their channel's id of them (a Telegram
chat id, a web session); that id itself, needed to answer, is kept sealed with a second key.
Without the secret neither can be reversed or linked to an account, and a copy of the database
alone reveals no one.
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
# Before channels had names, a sealed address was a Telegram chat id as a signed 64-bit integer.
_TELEGRAM_ID_BYTES = 8
_TELEGRAM = "telegram"
# Since then: this prefix, the channel's name, a newline and the channel's own id, in UTF-8,
# padded with zero bytes to a multiple of this, so that the length does not tell the id's.
_NAMED = b"v2:"
_PADDED_TO = 64


class WeakSecretError(ValueError):
    """The secret is too short to derive keys from."""


class AddressUnreadable(ValueError):
    """A sealed address does not open: another secret, another row, or tampering."""


class SecretKeys:
    """Keys derived from the deployment's secret (WEGWEISER_SECRET_KEY) with HKDF-SHA256, one per
    purpose, so one purpose's key can be rotated without touching the others. The secret itself
    is not kept."""

    MINIMUM_SECRET_LENGTH = 32  # characters

    __slots__ = (
        "_address",
        "_counsellor_key",
        "_pseudonym_key",
        "_return_code_key",
        "_webhook_key",
    )

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
        self._counsellor_key = _derive(material, b"wegweiser counsellor v1")

    def __repr__(self) -> str:
        return "SecretKeys(<hidden>)"

    def pseudonym(self, channel: str, native: str) -> bytes:
        """The key of a person's session: the same for one channel, one id and one secret,
        unlinkable to the id without the secret. A Telegram chat's pseudonym is the one it had
        before channels had names, so that existing sessions stay theirs."""
        message = native if channel == _TELEGRAM else f"{channel}:{native}"
        return hmac.digest(self._pseudonym_key, message.encode("utf-8"), hashlib.sha256)

    def seal_address(self, channel: str, native: str, pseudonym: bytes) -> bytes:
        """The channel and its id of the person, encrypted (nonce + ciphertext + tag). The
        pseudonym is bound in as associated data, so a sealed address opens only in the row it
        was sealed for."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        plain = _NAMED + f"{channel}\n{native}".encode()
        plain += bytes(-len(plain) % _PADDED_TO)
        return nonce + self._address.encrypt(nonce, plain, pseudonym)

    def open_address(self, sealed: bytes, pseudonym: bytes) -> tuple[str, str]:
        """(channel, the channel's id of the person)."""
        try:
            plain = self._address.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], pseudonym)
        except (InvalidTag, ValueError):
            plain = b""
        if plain.startswith(_NAMED) and b"\n" in plain:
            named = plain[len(_NAMED) :].rstrip(b"\0").decode("utf-8")
            channel, _, native = named.partition("\n")
            return channel, native
        if len(plain) == _TELEGRAM_ID_BYTES:
            return _TELEGRAM, str(int.from_bytes(plain, "big", signed=True))
        raise AddressUnreadable(
            "the sealed chat address does not open: it was sealed with another "
            "WEGWEISER_SECRET_KEY, for another session, or it was altered"
        )

    def return_code_digest(self, code: str) -> bytes:
        """What the store keeps of a return code: the code itself never, only this digest."""
        return hmac.digest(self._return_code_key, code.encode("utf-8"), hashlib.sha256)

    def counsellor_digest(self, counsellor: str) -> bytes:
        """What the store keeps of a counsellor (the key of their alias): never their account's
        id, only this digest of it."""
        return hmac.digest(self._counsellor_key, counsellor.encode("utf-8"), hashlib.sha256)

    def webhook_secret(self) -> str:
        """Telegram's setWebhook secret_token (64 hex characters), stable for one secret."""
        return self._webhook_key.hex()


def _derive(material: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(material)


def log_tag(sealed_address: bytes) -> str:
    """The only form in which a person may appear in logs: a digest of their session's sealed
    address, whose nonce is random and made anew for each session. It follows one session
    through a log; once the session is erased or expired, nothing links its lines to the next
    session of the same person, nor to the person, even with the secret key and their chat id
    (a tag of the pseudonym would be the same in every session, and one of the pseudonym and the
    session's start could be found by trying the seconds of a day)."""
    return hashlib.sha256(b"wegweiser log tag\0" + sealed_address).hexdigest()[:8]


def generate_secret() -> str:
    """A fresh value for WEGWEISER_SECRET_KEY (64 characters)."""
    return secrets.token_urlsafe(48)
