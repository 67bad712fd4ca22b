"""Updates of one person in order, different people concurrently, and a flood limit per person.

python-telegram-bot either handles updates one by one (one slow person delays everybody) or all at
once (two quick presses of one person may race on their session). This processor does what the
design asks for: a lock per chat, so a person's updates run in the order Telegram sent them, while
other people's updates run beside them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.service.flood import FloodGate


@dataclass(slots=True)
class _Turn:
    """The lock of one chat and how many of its updates hold or wait for it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    queued: int = 0


@dataclass(slots=True)
class _Refused:
    """Refused updates of one chat waiting for their turn together; `first`: the person is to
    be told (the flood's first refusal is among them)."""

    updates: list[Update]
    first: bool


Refused = Callable[[Sequence[Update], bool], Awaitable[None]]


class PersonByPerson(BaseUpdateProcessor):
    """Runs each chat's updates in arrival order; different chats concurrently (up to
    `max_concurrent_updates`). Updates over the flood limit go to `on_refused(updates, first)`
    instead of the handlers, in their chat's turn like any other update (so /exit after a flood
    finds their messages on record); the refused updates that arrive while one such turn
    waits join it, so a flood holds one place in the queue. `first` is True once per flood, so
    the person is told once (in their turn, after what they sent before)."""

    def __init__(
        self,
        max_concurrent_updates: int,
        gate: FloodGate,
        on_refused: Refused,
        exempt: Callable[[Update], bool] = lambda update: False,
    ) -> None:
        """`exempt(update)`: an update the flood limit never refuses (/exit)."""
        super().__init__(max_concurrent_updates)
        self.gate = gate
        self.on_refused = on_refused
        self.exempt = exempt
        self._turns: dict[int, _Turn] = {}
        self._refused: dict[int, _Refused] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        now = time.monotonic()
        admitted = self.exempt(update) or self.gate.admit(chat.id, now)  # type: ignore[arg-type]
        waiting: _Refused | None = None
        if not admitted:
            coroutine.close()  # type: ignore[attr-defined]  # never run: not awaited on purpose
            assert isinstance(update, Update)
            waiting = self._refused.get(chat.id)
            if waiting is not None:  # a turn of refused updates waits already: join it
                waiting.updates.append(update)
                waiting.first |= admitted is False
                return
            waiting = self._refused[chat.id] = _Refused([update], admitted is False)
            coroutine = self._refusal(chat.id, waiting)
        turn = self._turns.setdefault(chat.id, _Turn())
        turn.queued += 1
        try:
            async with turn.lock:
                await coroutine
        finally:
            turn.queued -= 1
            if not turn.queued:  # nobody queued behind: forget the chat
                del self._turns[chat.id]
            if waiting is not None and self._refused.get(chat.id) is waiting:  # cancelled unrun
                del self._refused[chat.id]

    async def _refusal(self, chat: int, waiting: _Refused) -> None:
        """The turn of the refused updates: from now on, new ones wait for the next."""
        if self._refused.get(chat) is waiting:
            del self._refused[chat]
        await self.on_refused(waiting.updates, waiting.first)

    async def initialize(self) -> None:
        """Nothing to set up: locks and buckets are made on demand."""

    async def shutdown(self) -> None:
        """Nothing to release."""
