"""The anonymous session store: pseudonymous keys, sealed chat addresses, expiry that erases.
One small interface (SessionStore) and its SQLite implementation."""

from bot.store.base import (
    DELETABLE_FOR,
    CaseStore,
    KeptMessage,
    SessionStore,
    StoredSession,
    StoreError,
)
from bot.store.keys import (
    AddressUnreadable,
    SecretKeys,
    WeakSecretError,
    generate_secret,
    log_tag,
)
from bot.store.sqlite import SQLiteStore

__all__ = [
    "DELETABLE_FOR",
    "AddressUnreadable",
    "CaseStore",
    "KeptMessage",
    "SQLiteStore",
    "SecretKeys",
    "SessionStore",
    "StoreError",
    "StoredSession",
    "WeakSecretError",
    "generate_secret",
    "log_tag",
]
