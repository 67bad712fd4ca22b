"""End to end: the real runtime with the real python-telegram-bot Application, built exactly as
`wegweiser run` builds it, polling the fake Bot API server on 127.0.0.1, with a real SQLite file."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.channels.telegram import BotSetup
from bot.config import Deployment, load_deployment
from bot.dialogue import Engine
from bot.dialogue.engine import CURRENT
from bot.logs import configure_logging
from bot.runtime import Runtime
from bot.store import SecretKeys
from bot.store.sqlite import SQLiteStore
from tests.conftest import MINIMAL_DEPLOYMENT, MINIMAL_FLOW, engine_for
from tests.fake_bot_api import Call, FakeBotAPI, Person

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"

# A person with everything that identifies them; none of it may reach the database or the logs.
ANA = Person(
    user_id=7391846250,
    first_name="Anamaria",
    last_name="Dumitrescu",
    username="ana_d_1987",
    language_code="ro",
)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        yield server


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """Everything the bot logs, at the most verbose level the deployment can choose."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    buffer = io.StringIO()
    configure_logging("DEBUG", "json", stream=buffer)
    yield buffer
    root.handlers[:], level = saved
    root.setLevel(level)


def log_events(logs: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in logs.getvalue().splitlines() if line.startswith("{")]


@dataclass
class RunningBot:
    runtime: Runtime
    api: FakeBotAPI
    setup: BotSetup

    @property
    def application(self) -> Application:
        return self.runtime.telegram.application

    @property
    def database(self) -> Path:
        return self.setup.database

    async def stop(self) -> None:
        if self.api.client_done == self.application.update_queue.join:
            self.api.client_done = None
        await self.runtime.stop()


async def start_bot(engine: Engine, setup: BotSetup, api: FakeBotAPI) -> RunningBot:
    runtime = Runtime(engine, setup)
    await runtime.start()
    # python-telegram-bot marks an update of its queue done once its handlers returned.
    api.client_done = runtime.telegram.application.update_queue.join
    return RunningBot(runtime, api, setup)


@pytest.fixture
def deployment() -> Deployment:
    return load_deployment(MINIMAL_DEPLOYMENT)


@pytest.fixture
def setup(api: FakeBotAPI, tmp_path: Path, deployment: Deployment) -> BotSetup:
    return BotSetup(
        token=api.token,
        api_url=api.base_url,
        database=tmp_path / "wegweiser.sqlite3",
        keys=SecretKeys(TEST_SECRET),
        deployment=deployment,
        retry_delays=(0.05, 0.1),
        read_timeout=1.0,
        poll_timeout=1.0,
    )


@pytest.fixture
def engine(deployment: Deployment) -> Engine:
    return engine_for(MINIMAL_FLOW, deployment)


@pytest.fixture
async def bot(engine: Engine, setup: BotSetup, api: FakeBotAPI) -> AsyncIterator[RunningBot]:
    running = await start_bot(engine, setup, api)
    yield running
    await running.stop()


def with_deployment(setup: BotSetup, **changes: object) -> BotSetup:
    return replace(setup, deployment=setup.deployment.model_copy(update=changes))


# -- reading what the bot sent -------------------------------------------------------------------


def labels(call: Call) -> list[str]:
    markup = call.params.get("reply_markup") or {}
    return [button["text"] for row in markup.get("inline_keyboard", []) for button in row]


def unticked(shown: list[str]) -> list[str]:
    """Labels without the tick that marks the language in use in the language list."""
    return [label.removeprefix(f"{CURRENT} ") for label in shown]


def button_data(call: Call, label: str) -> str:
    """The data of the button `label` (a ticked language also answers to its bare name)."""
    markup = call.params.get("reply_markup") or {}
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if label in (button["text"], *unticked([button["text"]])):
                return str(button["callback_data"])
    raise AssertionError(f"no button {label!r} in {labels(call)}")


async def session_count(bot: RunningBot) -> int:
    """Sessions in the bot's database file, read through a second connection."""
    store = await SQLiteStore.open(bot.database)
    try:
        return await store.count()
    finally:
        await store.close()


SCREEN_METHODS = ("sendMessage", "editMessageText")


async def settled(api: FakeBotAPI) -> None:
    """Until the bot confirmed every injected update, handled all it fetched (its handlers
    returned, retries included) and no call to the API is being answered."""
    await api.wait_handled()


def to(person: Person, calls: list[Call]) -> list[Call]:
    return [call for call in calls if str(call.params.get("chat_id")) == str(person.user_id)]


async def last_screen(api: FakeBotAPI, person: Person | None = None) -> Call:
    """The screen the person (default: anybody) sees now: the latest message with buttons, new
    or edited."""
    await settled(api)
    screens = [
        call
        for call in (api.calls if person is None else to(person, api.calls))
        if call.method in SCREEN_METHODS and call.fault is None and "reply_markup" in call.params
    ]
    assert screens, "the bot showed no screen\n" + "\n".join(c.method for c in api.calls)
    return screens[-1]


def current_message_id(api: FakeBotAPI, call: Call) -> int:
    """The id of the message a screen call shows (edits name it, new messages get one)."""
    if call.method == "editMessageText":
        return int(call.params["message_id"])
    return int(call.result["message_id"])


async def press(api: FakeBotAPI, person: Person, label: str) -> Call:
    """Press the button `label` on the current screen; returns the next screen."""
    shown = await last_screen(api, person)
    api.press(person, current_message_id(api, shown), button_data(shown, label))
    return await last_screen(api, person)
