"""Operations end to end: anonymous counters after a scripted day, /stats in the staff group,
/healthz and /metrics, and flow reloads that refuse a broken edit and serve a good one."""

from __future__ import annotations

import asyncio
import datetime
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp
import pytest

from bot.channels.telegram import BotSetup
from bot.config import Deployment, Reload, build_engine, check_flows_for
from bot.live_flows import LiveFlows
from bot.runtime import Runtime
from bot.stats import CountRow
from bot.store.sqlite import SQLiteStore
from tests.channels.telegram.conftest import (
    ANA,
    RunningBot,
    last_screen,
    log_events,
    press,
    settled,
    start_bot,
)
from tests.conftest import MINIMAL_FLOW, MINIMAL_LOCALES
from tests.fake_bot_api import Call, FakeBotAPI, Person

STAFF = {"id": -1009876543210, "type": "supergroup", "title": "Team"}
OTHER_GROUP = {"id": -1001234567890, "type": "supergroup", "title": "Irgendeine Gruppe"}
DORA = Person(user_id=5550100, first_name="Dora", language_code="de")  # a counsellor
BOB = Person(user_id=5550001, first_name="Bob", language_code="de")
CEM = Person(user_id=5550002, first_name="Cem", language_code="tr")


def running(bot: RunningBot) -> Runtime:
    return bot.application.bot_data["wegweiser"]


def to_staff(call: Call) -> bool:
    return call.params.get("chat_id") == STAFF["id"]


async def counters(bot: RunningBot) -> list[CountRow]:
    today = datetime.datetime.now(datetime.UTC).date()
    store = await SQLiteStore.open(bot.database)
    try:
        return await store.counts(today, today)
    finally:
        await store.close()


@pytest.fixture
async def staffed(api: FakeBotAPI, setup: BotSetup, engine) -> AsyncIterator[RunningBot]:
    api.add_chat(STAFF)
    bot = await start_bot(engine, replace(setup, staff_chat_id=STAFF["id"]), api)
    yield bot
    await bot.stop()


async def scripted_day(api: FakeBotAPI) -> None:
    """Ana (Romanian phone) opens health and leaves with /exit; Bob asks for a counsellor via the
    emergency screen; Cem (Turkish phone, not offered) only chooses German."""
    api.send_text(ANA, "/start")
    await press(api, ANA, "Română")
    await press(api, ANA, "Zum Menü")
    await press(api, ANA, "Gesundheit")
    api.send_text(ANA, "/exit")
    await settled(api)
    api.send_text(BOB, "/start")
    await press(api, BOB, "Deutsch")
    await press(api, BOB, "Zum Menü")
    await press(api, BOB, "Notfall")
    await press(api, BOB, "Zurück")
    await press(api, BOB, "Beraterin")  # no counsellor in this engine: the contacts, counted
    api.send_text(CEM, "/start")
    await press(api, CEM, "Deutsch")


async def test_the_counters_after_a_scripted_day_match_what_happened(
    staffed: RunningBot, api: FakeBotAPI
) -> None:
    await scripted_day(api)

    today = datetime.datetime.now(datetime.UTC).date()
    assert await counters(staffed) == [
        CountRow(today, "area_opened", "de", "topic", 1),
        CountRow(today, "area_opened", "ro", "topic", 1),
        CountRow(today, "conversation_started", "de", "", 2),
        CountRow(today, "conversation_started", "ro", "", 1),
        CountRow(today, "exit_used", "ro", "", 1),
        CountRow(today, "handover_requested", "de", "general", 1),
        CountRow(today, "language_chosen", "de", "", 2),
        CountRow(today, "language_chosen", "ro", "", 1),
    ]
    # not one row per person or session: the table has no such column (tests/store), and no
    # value of a person is in it
    connection = sqlite3.connect(staffed.database)
    try:
        values = {str(v) for row in connection.execute("SELECT * FROM counters") for v in row}
    finally:
        connection.close()
    for person in (ANA, BOB, CEM):
        assert str(person.user_id) not in values and person.first_name not in values


async def test_stats_in_the_staff_group_answers_with_today_and_the_month(
    staffed: RunningBot, api: FakeBotAPI
) -> None:
    await scripted_day(api)
    sent = len(api.calls)

    api.group_message(STAFF, DORA, "/stats")
    answer = await api.wait_for("sendMessage", to_staff, after=sent)

    today = datetime.datetime.now(datetime.UTC).date()
    text = answer.params["text"]
    assert text.startswith(f"📊 Today, {today.isoformat()}\nconversations started: <5\n")
    assert f"📊 This month, {today:%Y-%m}" in text
    assert "counsellor requested: <5" in text
    assert "per language (conversations): de <5, ro <5" in text


async def test_stats_from_another_group_gets_no_answer(
    staffed: RunningBot, api: FakeBotAPI
) -> None:
    api.group_message(OTHER_GROUP, DORA, "/stats")
    await settled(api)

    assert [
        call.method for call in api.calls if call.params.get("chat_id") == OTHER_GROUP["id"]
    ] == ["leaveChat"]


# -- /healthz and /metrics ------------------------------------------------------------------------


@pytest.fixture
async def operated(api: FakeBotAPI, setup: BotSetup, engine) -> AsyncIterator[RunningBot]:
    bot = await start_bot(engine, replace(setup, operations=("127.0.0.1", 0)), api)
    yield bot
    await bot.stop()


async def get(bot: RunningBot, path: str) -> tuple[int, str]:
    operations = running(bot).operations
    assert operations is not None
    url = f"http://127.0.0.1:{operations.port}{path}"
    async with aiohttp.ClientSession() as client, client.get(url) as response:
        return response.status, await response.text()


async def test_healthz_is_ok_and_fails_while_the_database_cannot_be_written(
    operated: RunningBot,
) -> None:
    status, body = await get(operated, "/healthz")
    assert (status, body) == (
        200,
        '{"status": "ok", "checks": {"database": "ok", "flows": "ok", "bot_api": "ok"}}',
    )

    other = sqlite3.connect(operated.database, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
        status, body = await get(operated, "/healthz")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert status == 503
    assert '"database": "failing"' in body and '"status": "failing"' in body

    assert (await get(operated, "/healthz"))[0] == 200


async def healthz_until(bot: RunningBot, status: int, seconds: float = 5.0) -> tuple[int, str]:
    """/healthz asked until it answers `status` (the Bot API state is refreshed in the
    background); every answer must come within a second."""
    deadline = time.monotonic() + seconds
    while True:
        asked = time.monotonic()
        answer = await get(bot, "/healthz")
        assert time.monotonic() - asked < 1.0, "/healthz waited on the Bot API"
        if answer[0] == status or time.monotonic() > deadline:
            return answer
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("fault", ["bad_request", "timeout"])
async def test_healthz_fails_quickly_when_the_bot_api_does_not_answer(
    api: FakeBotAPI, setup: BotSetup, engine, fault: str
) -> None:
    """A refused getMe and one that hangs: /healthz says 503 within a second, it does not wait
    for Telegram (a container health check would time out instead of reading a 503)."""
    watched = replace(setup, operations=("127.0.0.1", 0), health_every=0.2)
    bot = await start_bot(engine, watched, api)
    try:
        assert (await healthz_until(bot, 200))[0] == 200
        api.fail("getMe", fault, times=100, delay=5.0)  # type: ignore[arg-type]
        status, body = await healthz_until(bot, 503)
    finally:
        await bot.stop()
    assert status == 503 and '"bot_api": "failing"' in body


async def test_metrics_count_events_and_update_latency(
    operated: RunningBot, api: FakeBotAPI
) -> None:
    api.send_text(ANA, "/start")
    await press(api, ANA, "Română")
    await settled(api)

    status, text = await get(operated, "/metrics")

    assert status == 200
    started = 'wegweiser_events_total{area="",event="conversation_started",language="ro"} 1.0'
    assert started in text
    assert 'wegweiser_events_total{area="",event="language_chosen",language="ro"} 1.0' in text
    assert "wegweiser_update_seconds_count 2.0" in text
    assert str(ANA.user_id) not in text


# -- flow reloads ---------------------------------------------------------------------------------


@dataclass
class Editable:
    bot: RunningBot
    flows: Path

    def edit(self, name: str, old: str, new: str) -> None:
        path = self.flows / name
        text = path.read_text("utf-8")
        assert old in text, old
        path.write_text(text.replace(old, new), "utf-8")


@pytest.fixture
async def editable(
    api: FakeBotAPI, setup: BotSetup, deployment: Deployment, tmp_path: Path
) -> AsyncIterator[Editable]:
    """The bot serving a copy of the minimal flow that the test edits; files are looked at every
    0.2 s."""
    flows = Path(shutil.copytree(MINIMAL_FLOW, tmp_path / "flows"))
    locales = Path(shutil.copytree(MINIMAL_LOCALES, tmp_path / "locales"))
    watched = deployment.model_copy(update={"reload": Reload(watch_seconds=0.2)})
    checked = check_flows_for(flows, watched, locales=locales)
    assert checked.flow is not None and checked.ok
    engine = build_engine(checked.flow, watched, locales=locales)
    api.add_chat(STAFF)
    live = LiveFlows(flows, locales, watched, engine)
    bot = await start_bot(
        engine,
        replace(setup, deployment=watched, staff_chat_id=STAFF["id"], live_flows=live),
        api,
    )
    yield Editable(bot, flows)
    await bot.stop()


WELCOME = "Willkommen bei {service.name}."


async def welcome_of(api: FakeBotAPI, person: Person) -> str:
    api.send_text(person, "/start")
    return (await last_screen(api, person)).params["text"]


async def test_a_broken_edit_is_refused_and_the_old_flow_keeps_answering(
    editable: Editable, api: FakeBotAPI, logs
) -> None:
    api.send_text(BOB, "/start")
    await press(api, BOB, "Deutsch")
    sent = len(api.calls)

    editable.edit("main.yaml", WELCOME, "Hallo, neu hier!")
    editable.edit("main.yaml", "goto: menu", "goto: mneu")
    refused = await api.wait_for("sendMessage", to_staff, after=sent)

    assert refused.params["text"].startswith("❌ The changed flows were refused")
    assert "main.yaml:7: error [main.welcome]: unknown target 'main.mneu'" in refused.params["text"]
    assert await welcome_of(api, BOB) == "Willkommen bei Beratungsstelle Teststadt."
    assert any(e["event"].startswith("flow reload refused") for e in log_events(logs))


async def test_a_good_edit_is_served_without_a_restart(editable: Editable, api: FakeBotAPI) -> None:
    api.send_text(BOB, "/start")
    await press(api, BOB, "Deutsch")
    sent = len(api.calls)
    published_at_start = len(api.calls_to("setMyCommands"))  # German and Romanian

    editable.edit("main.yaml", WELCOME, "Hallo, neu hier!")
    reloaded = await api.wait_for("sendMessage", to_staff, after=sent)

    assert reloaded.params["text"] == "✅ Flows reloaded: version 2, 8 nodes."
    assert await welcome_of(api, BOB) == "Hallo, neu hier!"
    # the profile did not change: not published again; when it does, it is
    assert len(api.calls_to("setMyCommands")) == published_at_start == 2
    sent = len(api.calls)
    editable.edit("system.yaml", "exit: Chat löschen\n    help", "exit: Alles löschen\n    help")
    await api.wait_for("sendMessage", to_staff, after=sent)
    published = await api.wait_for("setMyCommands", after=sent)
    assert {"command": "exit", "description": "Alles löschen"} in published.params["commands"]


async def test_reload_in_the_staff_group_and_a_session_at_a_removed_node(
    editable: Editable, api: FakeBotAPI
) -> None:
    api.send_text(BOB, "/start")
    await press(api, BOB, "Deutsch")
    await press(api, BOB, "Zum Menü")
    await press(api, BOB, "Gesundheit")
    at_test = await press(api, BOB, "Test")
    assert at_test.params["text"] == "Beim Gesundheitsamt kannst du dich testen lassen."
    editable.bot.runtime.jobs["watch"].cancel()  # this time only /reload reloads
    editable.edit(
        "topic.yaml",
        "      - label: Test\n        goto: test\n",
        "      - label: Notfall\n        goto: emergency\n",
    )
    topic = editable.flows / "topic.yaml"
    text = topic.read_text("utf-8")
    start = text.index("  test:\n")
    topic.write_text(text[:start] + text[text.index("  emergency:\n") :], "utf-8")
    sent = len(api.calls)

    api.group_message(STAFF, DORA, "/reload")
    answer = await api.wait_for("sendMessage", to_staff, after=sent)
    assert answer.params["text"] == "✅ Flows reloaded: version 2, 7 nodes."

    # Bob is still at the removed screen; its Back button takes him on, without an error
    back = await press(api, BOB, "Zurück")
    assert back.params["text"] == "Gesundheit."
