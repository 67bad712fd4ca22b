"""The runtime with both channels, as a centre runs it: Telegram polling the fake Bot API with a
staff supergroup (tests/fake_bot_api.py), and the web chat on a free port of 127.0.0.1. A web
person and a Telegram person reach the same case desk and the same staff group."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.channels.telegram import BotSetup
from bot.channels.web.app import WebSetup
from bot.dialogue import Engine
from bot.runtime import Runtime
from tests.channels.telegram.test_handover import STAFF
from tests.channels.web.conftest import RunningWeb, WebPerson
from tests.fake_bot_api import FakeBotAPI


def telegram_setup(setup: BotSetup, api: FakeBotAPI) -> BotSetup:
    """The web tests' setup with Telegram on: the fake Bot API and its staff group."""
    return replace(
        setup,
        token=api.token,
        api_url=api.base_url,
        staff_chat_id=STAFF["id"],
        retry_delays=(0.05, 0.1),
        read_timeout=1.0,
        poll_timeout=1.0,
    )


@dataclass
class Staffed(RunningWeb):
    """The runtime with the web chat and Telegram, whose staff group the fake Bot API plays."""

    api: FakeBotAPI = field(kw_only=True)

    async def ask(self, person: WebPerson, language: str = "Deutsch") -> None:
        """The web person asks for a counsellor and confirms, as the minimal flow offers it."""
        await person.open()
        await person.press(language)
        await person.press("Zum Menü")
        await person.press("Beraterin")
        await person.press("Ja, bitte")

    def topic(self) -> tuple[int, dict]:
        """The newest topic of the staff group that is not deleted: (thread id, topic)."""
        live = [t for t in self.api.topics(STAFF["id"]).items() if not t[1]["deleted"]]
        assert live, "no topic in the staff group"
        return live[-1]

    def in_topic(self, thread: int) -> list[dict]:
        return list(self.api.topic_messages(STAFF["id"], thread).values())

    async def stop(self) -> None:
        self.api.client_done = None
        await self.runtime.stop()


async def start_staffed(
    engine: Engine, setup: BotSetup, api: FakeBotAPI, web_setup: WebSetup
) -> Staffed:
    api.add_chat(STAFF)
    api.make_admin(STAFF)
    runtime = Runtime(engine, setup, web_setup)
    await runtime.start()
    assert runtime.telegram is not None
    # python-telegram-bot marks an update of its queue done once its handlers returned
    api.client_done = runtime.telegram.application.update_queue.join
    return Staffed(runtime, setup, api=api)


@dataclass
class LivePage:
    """An open page's live stream (GET /e), read in the background: the ops it received."""

    person: WebPerson
    ops: list[dict] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def of(cls, person: WebPerson) -> AsyncIterator[LivePage]:
        page = cls(person)
        page._task = asyncio.create_task(page._read())
        try:
            await page.wait(lambda op: "sync" in op)  # the first event is the whole log
            yield page
        finally:
            page._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await page._task

    async def _read(self) -> None:
        async with self.person.client.stream("GET", "/e", timeout=None) as stream:
            async for line in stream.aiter_lines():
                if line.startswith("data: "):
                    self.ops.append(json.loads(line[6:]))

    async def wait(self, matches: object, timeout: float = 5.0) -> dict:
        """The first op received that `matches` (a predicate), within `timeout` seconds."""
        assert callable(matches)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for op in self.ops:
                if matches(op):
                    return op
            if self._task is not None and self._task.done():
                self._task.result()
                raise AssertionError(f"the stream ended; received {self.ops}")
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no such op within {timeout} s; received {self.ops}")
            await asyncio.sleep(0.02)


def rows(database: Path, table: str) -> int:
    with closing(sqlite3.connect(database)) as connection:
        return int(connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
