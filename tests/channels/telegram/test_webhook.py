"""Webhook mode: python-telegram-bot's own webhook server, with the secret token Telegram sends;
a request without it is refused."""

from __future__ import annotations

import socket
import time
from dataclasses import replace

import pytest

from bot.channels.telegram import BotSetup
from bot.channels.telegram.app import CONCURRENT_UPDATES
from bot.dialogue import Engine
from bot.runtime import Runtime
from tests.channels.telegram.conftest import ANA, log_events, settled
from tests.fake_bot_api import FakeBotAPI


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_update(update_id: int) -> dict[str, object]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": ANA.user_id, "type": "private", "first_name": ANA.first_name},
            "from": {"id": ANA.user_id, "is_bot": False, "first_name": ANA.first_name},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


@pytest.fixture
async def webhook_bot(engine: Engine, setup: BotSetup, api: FakeBotAPI):
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    runtime = Runtime(engine, replace(setup, webhook=(url, "127.0.0.1", port)))
    await runtime.start()
    api.client_done = runtime.telegram.application.update_queue.join
    yield url
    api.client_done = None
    await runtime.stop()


async def test_webhook_is_registered_with_the_derived_secret_token(
    webhook_bot: str, api: FakeBotAPI, setup: BotSetup
) -> None:
    registered = api.webhook
    assert registered["url"] == webhook_bot
    assert registered["secret_token"] == setup.keys.webhook_secret()
    # a request is held until its turn ends: Telegram may keep as many open as turns run
    assert registered["max_connections"] == CONCURRENT_UPDATES


async def test_the_log_says_where_the_webhook_listens(
    engine: Engine, setup: BotSetup, api: FakeBotAPI, logs
) -> None:
    port = free_port()
    runtime = Runtime(
        engine, replace(setup, webhook=(f"http://127.0.0.1:{port}/h", "127.0.0.1", port))
    )
    await runtime.start()
    await runtime.stop()
    listening = [e for e in log_events(logs) if e["event"] == "webhook listening"]
    assert listening == [listening[0]] and (listening[0]["listen"], listening[0]["port"]) == (
        "127.0.0.1",
        port,
    )


@pytest.mark.parametrize("secret", [None, "wrong-secret"])
async def test_an_update_without_the_secret_token_is_refused(
    webhook_bot: str, api: FakeBotAPI, secret: str | None
) -> None:
    status = await api.deliver_webhook(start_update(1), secret=secret)
    assert status == 403
    await settled(api)
    assert api.calls_to("sendMessage") == []


async def test_an_update_with_the_secret_token_is_answered(
    webhook_bot: str, api: FakeBotAPI, setup: BotSetup
) -> None:
    api.add_chat({"id": ANA.user_id, "type": "private", "first_name": ANA.first_name})
    status = await api.deliver_webhook(start_update(2), secret=setup.keys.webhook_secret())
    assert status == 200
    answer = await api.wait_for("sendMessage")
    assert answer.params["chat_id"] == ANA.user_id


async def test_the_log_says_how_many_webhook_requests_were_refused(
    engine: Engine, setup: BotSetup, api: FakeBotAPI, logs
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/h"
    runtime = Runtime(engine, replace(setup, webhook=(url, "127.0.0.1", port)))
    await runtime.start()
    for secret in (None, "wrong-secret", "also-wrong"):
        assert await api.deliver_webhook(start_update(3), secret=secret) == 403
    exposition = runtime.metrics.exposition().decode()
    await runtime.stop()
    refused = [e for e in log_events(logs) if e["event"] == "webhook requests refused"]
    assert [e["requests"] for e in refused] == [3]
    assert "wegweiser_webhook_refused_total 3.0" in exposition
