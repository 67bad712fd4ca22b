"""The anonymous session store: pseudonymous keys, sealed chat addresses, expiry that erases.
One small interface (SessionStore, CaseStore); the SQLite implementation is bot.store.sqlite,
imported by the composition root only, so that the service never loads a database driver."""

from bot.store.base import (
    CaseStore,
    KeptMessage,
    SessionStore,
    StoredSession,
    StoreError,
    Transcripts,
    UpdateLog,
)
from bot.store.keys import (
    AddressUnreadable,
    SecretKeys,
    WeakSecretError,
    generate_secret,
    log_tag,
)

__all__ = [
    "AddressUnreadable",
    "CaseStore",
    "KeptMessage",
    "SecretKeys",
    "SessionStore",
    "StoreError",
    "StoredSession",
    "Transcripts",
    "UpdateLog",
    "WeakSecretError",
    "generate_secret",
    "log_tag",
]
