"""What the web chat derives from a person's cookie, and how it seals their transcript.

The cookie holds one random secret and nothing else. From it come the person's address (the
native id the service keys their session by), the token their forms carry (CSRF), and the private
key of their transcript. The server keeps only the public key: it can seal an entry while the
person is away (a counsellor's reply), but only a request carrying the cookie can open one. When
the cookie is gone (the browser closed, the quick exit), what is stored cannot be read by anyone.

Sealing is ECIES: an ephemeral X25519 key agreement with the transcript's public key, HKDF-SHA256,
and AES-GCM.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SECRET_BYTES = 32
KEY_BYTES = 32
NONCE_BYTES = 12
SEAL_INFO = b"wegweiser web transcript v1"


class Unsealable(ValueError):
    """An entry does not open with this key (another person's, or damaged)."""


class Visitor:
    """What one cookie's secret stands for. Built per request, never kept."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret
        self.address = self._derive(b"address").hex()[:32]
        self.form_token = self._derive(b"form").hex()[:32]
        self._private = X25519PrivateKey.from_private_bytes(self._derive(b"transcript"))
        self.public = self._private.public_key().public_bytes_raw()

    @classmethod
    def new(cls) -> Visitor:
        return cls(secrets.token_bytes(SECRET_BYTES))

    @classmethod
    def from_cookie(cls, value: str | None) -> Visitor | None:
        """The visitor of a cookie's value; None for no cookie or one that is not ours."""
        if not value:
            return None
        try:
            secret = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except ValueError:
            return None
        return cls(secret) if len(secret) == SECRET_BYTES else None

    @property
    def cookie(self) -> str:
        return base64.urlsafe_b64encode(self.secret).rstrip(b"=").decode()

    def token_matches(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token, self.form_token)

    def open(self, sealed: bytes) -> bytes:
        """Raises Unsealable."""
        ephemeral, nonce, body = (
            sealed[:KEY_BYTES],
            sealed[KEY_BYTES : KEY_BYTES + NONCE_BYTES],
            sealed[KEY_BYTES + NONCE_BYTES :],
        )
        try:
            shared = self._private.exchange(X25519PublicKey.from_public_bytes(ephemeral))
            return AESGCM(_key(shared, ephemeral, self.public)).decrypt(nonce, body, None)
        except (InvalidTag, ValueError) as error:
            raise Unsealable("the entry does not open with this key") from error

    def _derive(self, purpose: bytes) -> bytes:
        return hmac.new(self.secret, purpose, hashlib.sha256).digest()


def seal(public: bytes, plain: bytes) -> bytes:
    """Seal `plain` so that only the holder of the private half of `public` opens it."""
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes_raw()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public))
    nonce = os.urandom(NONCE_BYTES)
    body = AESGCM(_key(shared, ephemeral_public, public)).encrypt(nonce, plain, None)
    return ephemeral_public + nonce + body


def _key(shared: bytes, ephemeral: bytes, public: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=SEAL_INFO + ephemeral + public
    ).derive(shared)
