"""Webhook mode answers Telegram only once the update was handled, as long polling confirms it
only then: an update whose process stops or dies meanwhile is posted again by Telegram, and
handled (once) after the restart."""

from __future__ import annotations

import asyncio
import io
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.channels.telegram import BotSetup, webhook
from bot.dialogue import Engine
from bot.runtime import Runtime
from tests.channels.telegram.conftest import ANA, TEST_SECRET, log_events, settled, to
from tests.channels.telegram.test_run import run_bot, stopped
from tests.channels.telegram.test_webhook import free_port, start_update
from tests.fake_bot_api import FakeBotAPI

SLOW = 0.6  # seconds a slowed sendMessage takes; below the tests' read timeout of 1 s


def in_webhook_mode(setup: BotSetup) -> BotSetup:
    port = free_port()
    return replace(setup, webhook=(f"http://127.0.0.1:{port}/telegram/hook", "127.0.0.1", port))


async def started(engine: Engine, setup: BotSetup, api: FakeBotAPI) -> Runtime:
    runtime = Runtime(engine, setup)
    await runtime.start()
    api.client_done = runtime.telegram.application.update_queue.join
    return runtime


async def stop(runtime: Runtime, api: FakeBotAPI) -> None:
    api.client_done = None
    await runtime.stop()


@pytest.fixture
async def hooked(engine: Engine, setup: BotSetup, api: FakeBotAPI) -> AsyncIterator[BotSetup]:
    """The runtime in webhook mode, and Ana's chat known to the fake Bot API."""
    hooked = in_webhook_mode(setup)
    runtime = await started(engine, hooked, api)
    api.add_chat(ANA.chat())
    yield hooked
    await stop(runtime, api)


def sent_to_ana(api: FakeBotAPI) -> list[object]:
    """What the bot sent Ana and Telegram answered (a call cut off unanswered has no result)."""
    return [
        call.result
        for call in to(ANA, api.calls)
        if call.method == "sendMessage" and call.result is not None
    ]


async def answered(api: FakeBotAPI, update_id: int) -> None:
    while (update_id, 200) not in api.webhook_answers:
        await asyncio.sleep(0.05)


async def test_the_answer_comes_after_the_reply_was_sent(hooked: BotSetup, api: FakeBotAPI) -> None:
    api.latency["sendMessage"] = SLOW
    started_at = time.monotonic()
    status = await api.deliver_webhook(start_update(1), secret=hooked.keys.webhook_secret())
    assert status == 200
    assert time.monotonic() - started_at >= SLOW
    assert sent_to_ana(api), "answered before the reply was sent"


async def test_an_update_whose_handler_failed_is_answered_after_the_error_handler_ran(
    hooked: BotSetup, api: FakeBotAPI, logs: io.StringIO
) -> None:
    """Answered nonetheless: Telegram would post a poisoned update again and again."""
    api.fail("sendMessage", "server_error", times=3)  # the first attempt and both retries
    status = await api.deliver_webhook(start_update(1), secret=hooked.keys.webhook_secret())
    assert status == 200
    assert any(event["event"] == "Bot API error" for event in log_events(logs))


async def test_a_turn_held_up_too_long_is_answered_within_the_bound_and_goes_on(
    hooked: BotSetup, api: FakeBotAPI, logs: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhook, "ANSWER_WITHIN", 0.2)
    api.latency["sendMessage"] = SLOW
    started_at = time.monotonic()
    status = await api.deliver_webhook(start_update(1), secret=hooked.keys.webhook_secret())
    assert status == 200
    assert 0.2 <= time.monotonic() - started_at < SLOW
    assert not sent_to_ana(api)
    await settled(api)
    assert sent_to_ana(api), "the turn did not go on after the answer"
    assert any(
        event["event"] == "webhook answered before its update was handled: it took too long"
        for event in log_events(logs)
    )


async def test_an_update_in_flight_at_a_stop_is_not_answered_and_after_a_restart_done_once(
    engine: Engine, setup: BotSetup, api: FakeBotAPI
) -> None:
    hooked = in_webhook_mode(setup)
    runtime = await started(engine, hooked, api)
    api.post_to_webhook()
    api.latency["sendMessage"] = SLOW
    update = api.send_text(ANA, "/start")
    await api.wait_for("sendMessage")
    await stop(runtime, api)  # the turn ends while stopping, its request is gone unanswered
    assert api.webhook_answers[0] == (update["update_id"], None)
    assert (update["update_id"], 200) not in api.webhook_answers
    assert len(sent_to_ana(api)) == 1

    del api.latency["sendMessage"]
    runtime = await started(engine, hooked, api)  # Telegram posts it again
    try:
        await settled(api)
    finally:
        await stop(runtime, api)
    assert api.webhook_answers[-1] == (update["update_id"], 200)
    assert len(sent_to_ana(api)) == 1, "handled twice"


async def test_an_update_in_flight_when_the_process_is_killed_is_handled_after_a_restart(
    api: FakeBotAPI, tmp_path: Path
) -> None:
    """The real `wegweiser run`, killed (SIGKILL) while its reply to Ana is on the way."""
    port = free_port()
    hook = {
        "WEGWEISER_SECRET_KEY": TEST_SECRET,
        "WEGWEISER_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/hook",
        "WEGWEISER_WEBHOOK_PORT": str(port),
    }
    api.post_to_webhook()
    api.latency["sendMessage"] = 60.0  # the reply hangs until the kill
    process = await run_bot(api, tmp_path, **hook)
    try:
        await api.wait_for("setWebhook", timeout=20)
        update = api.send_text(ANA, "/start")
        await api.wait_for("sendMessage", timeout=10)
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()
    assert not sent_to_ana(api)

    del api.latency["sendMessage"]
    before = len(api.calls)
    process = await run_bot(api, tmp_path, **hook)
    try:
        await api.wait_for(
            "sendMessage", lambda call: call.result is not None, after=before, timeout=20
        )
        await asyncio.wait_for(answered(api, update["update_id"]), 5)  # after the reply
    finally:
        code, log = await stopped(process)
    assert code == 0, log
    assert len(sent_to_ana(api)) == 1
