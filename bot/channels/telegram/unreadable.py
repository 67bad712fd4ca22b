"""Updates python-telegram-bot cannot read (a field of the wrong type, a forged or broken update).

Left alone, it logs the whole update at CRITICAL (the user's id, names, username) and, in long
polling, never confirms it: the same update comes back at once, again and again, and nobody else
is answered. Here such an update is skipped once and counted (`wegweiser_unreadable_updates`),
never logged: in long polling it becomes an empty update of its id, which no handler answers and
the next poll confirms; in webhook mode python-telegram-bot refuses it itself, the record it logs
about it is counted (bot/logs.py keeps the update out of the line), and webhook.py answers the
request as done, so that Telegram does not post it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from telegram import Update
from telegram.request import HTTPXRequest

from bot.logs import UPDATE_DATA

# The logger python-telegram-bot's webhook server reports an unreadable update to.
WEBHOOK_LOGGER = "telegram.ext.Updater"

Unreadable = Callable[[], None]


def readable(update: object) -> bool:
    try:
        Update.de_json(update, None)  # type: ignore[arg-type]
    except Exception:  # whatever python-telegram-bot raises on data it does not expect
        return False
    return True


class UpdatesRequest(HTTPXRequest):
    """The connection getUpdates goes through: an unreadable update in an answer is replaced by
    an empty one of its id (or left out, without a usable id) before python-telegram-bot reads
    the answer, and `unreadable()` is called for it."""

    def __init__(self, unreadable: Unreadable) -> None:
        super().__init__(connection_pool_size=1)  # python-telegram-bot's own for getUpdates
        self._unreadable = unreadable

    # python-telegram-bot's documented hook, a static method there; this one needs its instance
    def parse_json_payload(self, payload: bytes) -> dict[str, Any]:  # type: ignore[override]
        answer = super().parse_json_payload(payload)
        updates = answer.get("result")
        if answer.get("ok") and isinstance(updates, list):
            answer["result"] = [kept for kept in map(self._skipped, updates) if kept is not None]
        return answer

    def _skipped(self, update: object) -> object | None:
        if readable(update):
            return update
        self._unreadable()
        update_id = update.get("update_id") if isinstance(update, dict) else None
        return {"update_id": update_id} if type(update_id) is int else None


class WebhookRefusals(logging.Handler):
    """Counts the records python-telegram-bot's webhook server logs for an update it could not
    read (it answers 400). Writes nothing: the root handler writes the line, without the update."""

    def __init__(self, unreadable: Unreadable) -> None:
        super().__init__(logging.CRITICAL)
        self._unreadable = unreadable

    def emit(self, record: logging.LogRecord) -> None:
        if UPDATE_DATA in str(record.msg):
            self._unreadable()
