"""An update python-telegram-bot cannot read (here: a message whose `chat` is a string) is skipped
once and counted, in long polling and in webhook mode; the log says so in one line without the
update, and everybody else is answered meanwhile."""

from __future__ import annotations

import io
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from bot.channels.telegram import BotSetup
from bot.dialogue import Engine
from bot.metrics import Metrics
from bot.runtime import Runtime
from tests.channels.telegram.conftest import ANA, RunningBot, log_events, settled, to
from tests.channels.telegram.test_privacy import identity_of_ana
from tests.channels.telegram.test_webhook import free_port, start_update
from tests.fake_bot_api import FakeBotAPI, Person

BORIS = Person(user_id=5550001, first_name="Boris")


def poisoned() -> dict[str, Any]:
    """Ana's message as an update python-telegram-bot cannot parse: her whole identity, and a
    `chat` of the wrong type."""
    return {
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": f"{ANA.first_name} {ANA.last_name} @{ANA.username}",
            "from": ANA.user(),
            "text": "Ich heiße Anamaria",
        }
    }


def assert_logged_once_without_identity(logs: io.StringIO, mode: str) -> None:
    logged = logs.getvalue()
    for name, needle in identity_of_ana().items():
        assert needle.decode(errors="ignore") not in logged, f"the log holds Ana's {name}"
    skipped = [event for event in log_events(logs) if event["event"].startswith("skipped an")]
    assert [event["mode"] for event in skipped] == [mode]
    assert len(logged) < 20_000, f"{len(logged)} characters of log for one bad update"


def unreadable(metrics: Metrics, mode: str) -> float:
    return float(metrics.unreadable_updates.labels(mode)._value.get())


@pytest.fixture
async def webhook_runtime(
    engine: Engine, setup: BotSetup, api: FakeBotAPI
) -> AsyncIterator[Runtime]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    runtime = Runtime(engine, replace(setup, webhook=(url, "127.0.0.1", port)))
    await runtime.start()
    api.client_done = runtime.telegram.application.update_queue.join
    yield runtime
    api.client_done = None
    await runtime.stop()


async def test_long_polling_skips_an_unreadable_update_once_and_answers_the_next_person(
    bot: RunningBot, api: FakeBotAPI, logs: io.StringIO
) -> None:
    api.raw_update(poisoned())
    api.send_text(BORIS, "/start")
    await settled(api)  # every update confirmed, the unreadable one too

    assert to(BORIS, api.calls_to("sendMessage")), "Boris was not answered"
    assert not to(ANA, api.calls)
    assert len(api.calls_to("getUpdates")) < 10  # no tight loop over the same update
    assert unreadable(bot.runtime.metrics, "polling") == 1
    assert_logged_once_without_identity(logs, "polling")


async def test_webhook_mode_counts_an_unreadable_update_and_logs_none_of_it(
    webhook_runtime: Runtime,
    api: FakeBotAPI,
    setup: BotSetup,
    logs: io.StringIO,
) -> None:
    secret = setup.keys.webhook_secret()
    # answered as done: Telegram would post a refused update again and again
    assert await api.deliver_webhook({"update_id": 1, **poisoned()}, secret=secret) == 200
    api.add_chat({"id": ANA.user_id, "type": "private", "first_name": ANA.first_name})
    assert await api.deliver_webhook(start_update(2), secret=secret) == 200
    await api.wait_for("sendMessage")
    await settled(api)

    assert unreadable(webhook_runtime.metrics, "webhook") == 1
    assert_logged_once_without_identity(logs, "webhook")
