"""Long polling that confirms an update to Telegram only once it was handled.

python-telegram-bot's Updater asks getUpdates with the offset after the last update it fetched,
which confirms everything fetched before, handled or not: an update in flight when the process
stops (or dies) is gone. Here the offset is held at the oldest update not yet handled, so
Telegram keeps it and hands it out again after a restart. The updates handed out again while
still in flight are left out of the answer (they are being handled), and while only such updates
wait, the next poll comes after a short pause instead of at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Iterable
from http import HTTPStatus
from typing import Any

from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.ext import BaseUpdateProcessor
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.channels.telegram.unreadable import Unreadable, UpdatesRequest

# While only updates in flight wait at Telegram: how long until the next poll at most.
BUSY_POLL_SECONDS = 0.25


class Unfinished:
    """The updates fetched and not confirmed yet: those in flight, and those handled that wait
    behind an older one in flight (Telegram hands both out again until the offset passes)."""

    def __init__(self) -> None:
        self._in_flight: set[int] = set()
        self._handled: set[int] = set()
        self._changed = asyncio.Event()
        self.newest = 0  # the highest update id fetched

    def __contains__(self, update_id: object) -> bool:
        return update_id in self._in_flight or update_id in self._handled

    def fetched(self, update_ids: Iterable[int]) -> None:
        fetched = set(update_ids)
        self._in_flight |= fetched
        self.newest = max((self.newest, *fetched))

    def done(self, update: Update) -> None:
        self._in_flight.discard(update.update_id)
        self._handled.add(update.update_id)
        self._changed.set()

    def offset(self, asked: int | None) -> int | None:
        """The getUpdates offset that confirms no update still in flight; what it confirms is
        forgotten."""
        if self._in_flight:
            oldest = min(self._in_flight)
            asked = oldest if asked is None or asked <= 0 else min(asked, oldest)
        if asked is not None and asked > 0:
            self._handled = {update_id for update_id in self._handled if update_id >= asked}
        return asked

    def confirming(self) -> int:
        """The offset that confirms every update handled so far and none in flight."""
        offset = self.offset(self.newest + 1)
        assert offset is not None
        return offset

    async def wait(self, seconds: float) -> None:
        """Until an update was handled, `seconds` at most."""
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), seconds)


class HeldOffsetRequest(UpdatesRequest):
    """The getUpdates requests (ApplicationBuilder.get_updates_request), offset held back; an
    update that cannot be read is skipped as UpdatesRequest does."""

    def __init__(self, unfinished: Unfinished, unreadable: Unreadable) -> None:
        super().__init__(unreadable)
        self.unfinished = unfinished

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        timeouts = (read_timeout, write_timeout, connect_timeout, pool_timeout)
        if not url.endswith("/getUpdates"):
            return await super().do_request(url, method, request_data, *timeouts)
        if request_data is not None:
            request_data = self._held(request_data)
        status, body = await super().do_request(url, method, request_data, *timeouts)
        answer = json.loads(body) if status == HTTPStatus.OK else None
        if not isinstance(answer, dict) or not isinstance(answer.get("result"), list):
            return status, body
        updates = answer["result"]
        new = [update for update in updates if update.get("update_id") not in self.unfinished]
        if updates and not new:
            await self.unfinished.wait(BUSY_POLL_SECONDS)
        self.unfinished.fetched(update["update_id"] for update in new)
        return status, json.dumps({**answer, "result": new}).encode()

    def _held(self, request_data: RequestData) -> RequestData:
        asked = request_data.parameters.get("offset")
        offset = self.unfinished.offset(asked if isinstance(asked, int) else None)
        parameters = [p for p in request_data._parameters if p.name != "offset"]
        if offset is not None:
            parameters.append(RequestParameter("offset", offset, None))
        return RequestData(parameters)


class Confirming(BaseUpdateProcessor):
    """Around the processor of updates: an update counts as handled once its turn ended, also
    when a handler failed and the error handler ran (else Telegram would hand out a poisoned
    update forever); then `handled(update)` is called: Unfinished.done in long polling, the
    webhook's answer (bot/channels/telegram/webhook.py) in webhook mode. `running`: the tasks
    of the turns under way, for a stop to cut off."""

    def __init__(self, inner: BaseUpdateProcessor, handled: Callable[[Update], None]) -> None:
        super().__init__(inner.max_concurrent_updates)
        self.inner = inner
        self.handled = handled
        self.running: set[asyncio.Task[Any]] = set()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        cut_off = False
        task = asyncio.current_task()
        if task is not None:
            self.running.add(task)
        try:
            await self.inner.do_process_update(update, coroutine)
        except asyncio.CancelledError:
            cut_off = True  # by a stop: not handled, Telegram hands it out again after a restart
            raise
        finally:
            self.running.discard(task)
            if not cut_off and isinstance(update, Update):
                self.handled(update)

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()
