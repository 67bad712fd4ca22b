"""An update Telegram delivers again does nothing twice.

Telegram delivers an update again when it was not confirmed: after a crash between fetching and
confirming (long polling), or when the webhook's answer did not arrive. Updates of different
people finish out of order, so the largest id handled says nothing about the smaller ones: each
handled id is recorded (in the store, for a day, so it survives a restart) and an id already
recorded, or being handled right now, is skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.service import Clock
from bot.store import StoreError, UpdateLog

log = logging.getLogger(__name__)

CHANNEL = "telegram"


class HandledOnce:
    """Which updates were handled: the store's record and the ones in hand now."""

    def __init__(self, record: UpdateLog, clock: Clock) -> None:
        self.record = record
        self.clock = clock
        self._in_hand: set[int] = set()

    async def begin(self, update_id: int) -> bool:
        """True: handle the update (and call `done` afterwards). False: it was handled already
        or is being handled; a store that cannot answer lets it through (rather twice than
        never)."""
        if update_id in self._in_hand:
            return self._skip()
        self._in_hand.add(update_id)
        try:
            handled = await self.record.was_handled(CHANNEL, update_id)
        except StoreError as error:
            log.warning("handled updates unknown", extra={"error": type(error).__name__})
            handled = False
        if handled:
            self._in_hand.discard(update_id)
            return self._skip()
        return True

    async def done(self, update_id: int, *, completed: bool) -> None:
        """The update's handlers returned (`completed`), or were interrupted: then it is not
        recorded, and a delivery after a restart handles it."""
        try:
            if completed:
                await self.record.mark_handled(CHANNEL, update_id, self.clock.now())
        except StoreError as error:
            log.warning("handled update not recorded", extra={"error": type(error).__name__})
        finally:
            self._in_hand.discard(update_id)

    def _skip(self) -> bool:
        log.info("update delivered again: skipped")
        return False


class SkipHandled(BaseUpdateProcessor):
    """Runs updates through `inner` (the processor that orders and limits them), each update id
    once. Until `handled` is set (the store is open), every update goes through."""

    def __init__(self, inner: BaseUpdateProcessor) -> None:
        super().__init__(inner.max_concurrent_updates)
        self.inner = inner
        self.handled: HandledOnce | None = None

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        handled = self.handled
        if handled is None or not isinstance(update, Update):
            await self.inner.do_process_update(update, coroutine)
            return
        update_id = update.update_id
        if not await handled.begin(update_id):
            coroutine.close()  # type: ignore[attr-defined]  # never run: not awaited on purpose
            return
        completed = False
        try:
            await self.inner.do_process_update(update, coroutine)
            completed = True
        finally:
            await handled.done(update_id, completed=completed)

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()
