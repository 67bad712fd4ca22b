"""Privacy is tested, not promised: after real conversations, the database file (with its -wal)
and the logs hold no chat id, name, username or message text; expired sessions leave no trace."""

from __future__ import annotations

import asyncio
import io
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from bot.channels.telegram import BotSetup
from bot.dialogue import Engine
from bot.store import SecretKeys, log_tag
from bot.store.sqlite import SQLiteStore
from tests.channels.telegram.conftest import (
    ANA,
    TEST_SECRET,
    RunningBot,
    button_data,
    current_message_id,
    last_screen,
    log_events,
    press,
    session_count,
    settled,
    start_bot,
    with_deployment,
)
from tests.clock import SettableClock
from tests.fake_bot_api import CONTENT_EXAMPLES, FakeBotAPI
from tests.store.test_sqlite import session_for

TYPED = "Ich heiße Anamaria und wohne in der Blumenstraße 12, bitte hilf mir"


def identity_of_ana() -> dict[str, bytes]:
    """Every form in which Ana could leak: her ids as text and as 4/8-byte integers, her names,
    what she typed (whole and in parts)."""
    needles = {
        "user id": str(ANA.user_id).encode(),
        "user id (8 bytes, big endian)": ANA.user_id.to_bytes(8, "big"),
        "user id (8 bytes, little endian)": ANA.user_id.to_bytes(8, "little"),
        "first name": ANA.first_name.encode(),
        "last name": ANA.last_name.encode() if ANA.last_name else b"",
        "username": (ANA.username or "").encode(),
        "typed text": TYPED.encode(),
        "street": "Blumenstraße".encode(),
        "shared phone number": b"4930123456",
    }
    return {name: needle for name, needle in needles.items() if needle}


def database_bytes(database: Path) -> bytes:
    return b"".join(
        path.read_bytes()
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm"))
        if path.exists()
    )


async def scripted_conversation(api: FakeBotAPI) -> None:
    api.send_text(ANA, "/start")
    await press(api, ANA, "Deutsch")
    await press(api, ANA, "Zum Menü")
    api.send_text(ANA, TYPED)
    api.send_message(ANA, **CONTENT_EXAMPLES["contact"])
    await press(api, ANA, "Gesundheit")
    await press(api, ANA, "Test")
    api.send_text(ANA, "/language")
    await settled(api)


async def test_database_and_logs_hold_no_identity_and_no_message_text(
    bot: RunningBot, api: FakeBotAPI, logs: io.StringIO
) -> None:
    await scripted_conversation(api)
    assert await session_count(bot) == 1  # the conversation was really stored

    stored = database_bytes(bot.database)
    logged = logs.getvalue().encode()
    assert log_events(logs), "nothing was logged: the log check would prove nothing"
    for name, needle in identity_of_ana().items():
        assert needle not in stored, f"the database holds Ana's {name}"
        assert needle not in logged, f"the logs hold Ana's {name}"


async def test_logs_name_a_person_only_by_the_tag_of_their_session(
    bot: RunningBot, api: FakeBotAPI, logs: io.StringIO
) -> None:
    await scripted_conversation(api)
    store = await SQLiteStore.open(bot.database)
    try:
        stored = await store.load(SecretKeys(TEST_SECRET).pseudonym("telegram", str(ANA.user_id)))
    finally:
        await store.close()
    assert stored is not None
    tag = log_tag(stored.address)
    persons = {event["person"] for event in log_events(logs) if "person" in event}
    assert persons == {tag}


async def test_an_expired_session_is_purged_and_gone_from_the_file(
    engine: Engine, setup: BotSetup, api: FakeBotAPI
) -> None:
    sessions = setup.deployment.sessions.model_copy(
        update={"idle_hours": 1 / 3600, "purge_every_minutes": 0.5 / 60}
    )
    running = await start_bot(engine, with_deployment(setup, sessions=sessions), api)
    try:
        api.send_text(ANA, "/start")
        await last_screen(api, ANA)
        key = SecretKeys(TEST_SECRET).pseudonym("telegram", str(ANA.user_id))
        assert key in database_bytes(running.database)

        # The purge job runs every half second. It deletes the row first, then truncates the
        # -wal, so only the bytes tell that it is done. They are read without a connection: a
        # reader of ours would keep the -wal from being truncated.
        deadline = time.monotonic() + 5
        while key in database_bytes(running.database) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert key not in database_bytes(running.database)
        assert await session_count(running) == 0
    finally:
        await running.stop()


async def test_the_rebuild_job_rebuilds_the_file_after_a_deletion(
    engine: Engine, setup: BotSetup, api: FakeBotAPI
) -> None:
    sessions = setup.deployment.sessions.model_copy(update={"erase_every_minutes": 0.5 / 60})
    running = await start_bot(engine, with_deployment(setup, sessions=sessions), api)
    try:
        store = running.runtime.store
        assert store is not None
        now = datetime.now(UTC)
        for chat_id in range(1000):
            await store.save(session_for(chat_id, expires=now))
        assert await store.purge(now) == 1000
        full = running.database.stat().st_size  # a purge alone leaves the file's pages

        # The job runs every half second; what tells that it rebuilt the file is its size.
        deadline = time.monotonic() + 5
        while running.database.stat().st_size >= full / 4 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert running.database.stat().st_size < full / 4
    finally:
        await running.stop()


async def test_a_session_past_its_idle_time_is_not_resumed_even_before_the_purge(
    engine: Engine, setup: BotSetup, api: FakeBotAPI
) -> None:
    sessions = setup.deployment.sessions.model_copy(update={"idle_hours": 1 / 3600})
    clock = SettableClock()
    running = await start_bot(
        engine, replace(with_deployment(setup, sessions=sessions), clock=clock), api
    )
    try:
        api.send_text(ANA, "/start")
        await press(api, ANA, "Deutsch")
        menu = await press(api, ANA, "Zum Menü")
        clock.advance(1.5)  # past the idle time of one second

        api.press(ANA, current_message_id(api, menu), button_data(menu, "Gesundheit"))
        shown = await last_screen(api, ANA)
        assert shown.params["text"] == "Willkommen bei Beratungsstelle Teststadt."
        assert api.calls_to("answerCallbackQuery")[-1].params["text"] == (
            "Dieser Knopf ist nicht mehr aktuell."
        )
    finally:
        await running.stop()
