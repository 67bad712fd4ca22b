"""An update Telegram delivers again (not confirmed before a crash, or a webhook answer that did
not arrive) is handled once: in webhook mode, and in long polling after a restart."""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from pathlib import Path

from bot.channels.telegram import BotSetup
from bot.channels.telegram.redelivery import HandledOnce
from bot.dialogue import Engine
from bot.runtime import Runtime
from bot.service import SystemClock
from bot.store.sqlite import SQLiteStore
from tests.channels.telegram.conftest import ANA, log_events, settled, start_bot, to
from tests.channels.telegram.test_privacy import database_bytes, identity_of_ana
from tests.channels.telegram.test_webhook import free_port, start_update
from tests.fake_bot_api import FakeBotAPI


def answers_to_ana(api: FakeBotAPI) -> int:
    return len([call for call in to(ANA, api.calls) if call.method == "sendMessage"])


async def test_an_update_polled_again_after_a_restart_is_not_answered_again(
    engine: Engine, setup: BotSetup, api: FakeBotAPI, logs: io.StringIO
) -> None:
    bot = await start_bot(engine, setup, api)
    try:
        update = api.send_text(ANA, "/start")
        await settled(api)
        answered = answers_to_ana(api)
        assert answered >= 1
    finally:
        await bot.stop()

    api.redeliver(update)  # as after a crash before the offset passed it
    bot = await start_bot(engine, setup, api)
    try:
        await settled(api)
        assert answers_to_ana(api) == answered
        api.send_text(ANA, "/start")  # a new update is answered as before
        await settled(api)
        assert answers_to_ana(api) == 2 * answered
    finally:
        await bot.stop()
    for name, needle in identity_of_ana().items():
        assert needle not in database_bytes(setup.database), f"the database holds Ana's {name}"
    (skipped,) = [e for e in log_events(logs) if e["event"] == "update delivered again: skipped"]
    assert set(skipped) == {"time", "level", "logger", "event"}  # no id, no person


async def test_a_webhook_update_delivered_again_is_answered_once(
    engine: Engine, setup: BotSetup, api: FakeBotAPI
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    runtime = Runtime(engine, replace(setup, webhook=(url, "127.0.0.1", port)))
    await runtime.start()
    api.client_done = runtime.telegram.application.update_queue.join
    secret = setup.keys.webhook_secret()
    api.add_chat({"id": ANA.user_id, "type": "private", "first_name": ANA.first_name})
    try:
        assert await api.deliver_webhook(start_update(7), secret=secret) == 200
        await settled(api)
        answered = answers_to_ana(api)
        assert answered >= 1

        assert await api.deliver_webhook(start_update(7), secret=secret) == 200  # once more
        both = await asyncio.gather(  # twice at once: the second while the first is in hand
            api.deliver_webhook(start_update(8), secret=secret),
            api.deliver_webhook(start_update(8), secret=secret),
        )
        assert both == [200, 200]
        await settled(api)
        assert answers_to_ana(api) == 2 * answered
    finally:
        api.client_done = None
        await runtime.stop()


async def test_ids_are_skipped_by_what_was_handled_not_by_the_largest(tmp_path: Path) -> None:
    """Updates of different people finish out of order, and after a week without updates
    Telegram starts its ids anew: an id below the largest handled one may still be new."""
    store = await SQLiteStore.open(tmp_path / "wegweiser.sqlite3")
    try:
        handled = HandledOnce(store, SystemClock())
        assert await handled.begin(10)
        assert await handled.begin(9)
        assert not await handled.begin(9)  # in hand: the same update twice at once
        await handled.done(10, completed=True)
        assert await handled.begin(8)  # never handled, though below 10
        await handled.done(8, completed=True)
        await handled.done(9, completed=False)  # interrupted: not recorded

        again = HandledOnce(store, SystemClock())  # after a restart
        assert not await again.begin(10)
        assert not await again.begin(8)
        assert await again.begin(9)
    finally:
        await store.close()
