"""Safety end to end: disappearing mode (also across a restart), the exit button on every screen,
the optional harmless message after /exit, silent and protected messages, and the staff copies
erased with /exit."""

from __future__ import annotations

import asyncio
import datetime
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from bot.channels.telegram import BotSetup
from bot.config import PROJECT_ROOT, Deployment, Safety, Sessions, build_engine
from bot.dialogue import Command, Session, Show, load_flow
from bot.i18n.formatting import format_duration
from tests.channels.telegram.conftest import (
    ANA,
    current_message_id,
    labels,
    last_screen,
    press,
    settled,
    start_bot,
)
from tests.channels.telegram.test_handover import DORA, STAFF, started
from tests.clock import SettableClock
from tests.conftest import MINIMAL_FLOW, edit_flow, engine_for
from tests.fake_bot_api import Call, FakeBotAPI, Person

BOB = Person(user_id=5550001, first_name="Bob", language_code="de")


def with_safety(deployment: Deployment, **safety: object) -> Deployment:
    # model_copy skips validation: the tests use times shorter than the operator may choose
    return deployment.model_copy(update={"safety": Safety().model_copy(update=safety)})


async def test_disappearing_mode_deletes_every_message_on_schedule_even_after_a_restart(
    api: FakeBotAPI, setup: BotSetup, deployment: Deployment
) -> None:
    quick = with_safety(deployment, disappearing_times=[2], disappearing_check_seconds=0.2)
    engine = engine_for(MINIMAL_FLOW, quick)
    clock = SettableClock()
    setup = replace(setup, deployment=quick, clock=clock)
    bot = await start_bot(engine, setup, api)
    try:
        api.send_text(BOB, "/start")
        await press(api, BOB, "Deutsch")
        api.send_text(BOB, "/menu")
        await settled(api)
        screen = await last_screen(api, BOB)
        choice = await press_data(api, screen, "!disappearing")
        assert choice.params["text"] == "Wie lange sollen Nachrichten bleiben?"
        seconds = format_duration(2, "de")
        assert labels(choice)[0] == f"⏱️ {seconds}"
        await press(api, BOB, f"⏱️ {seconds}")
        toast = api.calls_to("answerCallbackQuery")[-1]  # a pressed button: the note is a toast
        assert toast.params["text"] == f"Der Bot löscht jede Nachricht nach:\n⏱️ {seconds}"
        typed = api.send_text(BOB, "eine Nachricht vor dem Neustart")["message"]["message_id"]
        await settled(api)
        assert typed in api.chat_messages(BOB.user_id)
    finally:
        await bot.stop()

    # the bot is down past the time; after the restart the job finds what is due
    clock.advance(2.2)
    bot = await start_bot(engine, setup, api)
    try:
        await api.wait_for("deleteMessages", lambda c: typed in c.params["message_ids"], timeout=5)
        assert api.chat_messages(BOB.user_id) == {}
        # the mode stays on: a new message goes the same way
        later = api.send_text(BOB, "noch eine")["message"]["message_id"]
        await settled(api)
        clock.advance(2.2)
        await api.wait_for("deleteMessages", lambda c: later in c.params["message_ids"], timeout=5)
    finally:
        await bot.stop()
    connection = sqlite3.connect(bot.database)
    try:
        counted = connection.execute(
            "SELECT count FROM counters WHERE event = 'disappearing_mode'"
        ).fetchall()
    finally:
        connection.close()
    assert counted == [(1,)]


async def press_data(api: FakeBotAPI, screen: Call, data: str) -> Call:
    """Press a button by its data (a global action the screen does not show as a label)."""
    api.press(BOB, current_message_id(api, screen), data)
    return await last_screen(api, BOB)


async def test_every_screen_has_the_exit_button_even_without_navigation(
    api: FakeBotAPI, setup: BotSetup, deployment: Deployment, flow_dir: Path
) -> None:
    flows = flow_dir
    edit_flow(flows, "system.yaml", "navigation: [back, menu]", "navigation: [back, menu, exit]")
    welcome = "  welcome:\n    kind: menu\n"
    edit_flow(flows, "main.yaml", welcome, f"{welcome}    navigation: false\n")
    bot = await start_bot(engine_for(flows, deployment), setup, api)
    try:
        api.send_text(BOB, "/start")
        welcome = await press(api, BOB, "Deutsch")
        assert labels(welcome)[-1] == "Chat löschen"  # navigation is off, the exit stays
        assert "Hauptmenü" not in labels(welcome)
        menu = await press(api, BOB, "Zum Menü")
        assert labels(menu)[-1] == "Chat löschen"
        sent = len(api.calls)
        await press(api, BOB, "Chat löschen")
        await settled(api)
        assert api.chat_messages(BOB.user_id) == {}
        assert {c.method for c in api.calls[sent:]} - {"getUpdates", "answerCallbackQuery"} == {
            "deleteMessages"
        }
    finally:
        await bot.stop()


async def test_a_harmless_message_after_exit_when_the_deployment_asks_for_it(
    api: FakeBotAPI, setup: BotSetup, flow_dir: Path, deployment: Deployment
) -> None:
    flows = flow_dir
    slow_down = "  slow_down: Bitte langsamer.\n"
    edit_flow(flows, "system.yaml", slow_down, f'{slow_down}  after_exit: "👋"\n')
    asking = with_safety(deployment, message_after_exit=True)
    bot = await start_bot(engine_for(flows, asking), replace(setup, deployment=asking), api)
    try:
        api.send_text(BOB, "/start")
        await press(api, BOB, "Deutsch")
        api.send_text(BOB, "/exit")
        await settled(api)
        assert [m["text"] for m in api.chat_messages(BOB.user_id).values()] == ["👋"]
    finally:
        await bot.stop()


async def test_messages_can_be_silent_and_protected(
    api: FakeBotAPI, setup: BotSetup, deployment: Deployment
) -> None:
    quiet = with_safety(deployment, silent=True, protect_content=True)
    bot = await start_bot(engine_for(MINIMAL_FLOW, quiet), replace(setup, deployment=quiet), api)
    try:
        api.send_text(BOB, "/start")
        screen = await last_screen(api, BOB)
    finally:
        await bot.stop()
    assert screen.params["disable_notification"] is True
    assert screen.params["protect_content"] is True


async def test_exit_can_erase_the_copies_in_the_staff_topic_too(
    api: FakeBotAPI, setup: BotSetup, deployment: Deployment
) -> None:
    erasing = with_safety(deployment, erase_staff_copies=True)
    engine = engine_for(MINIMAL_FLOW, erasing, handover_available=True)
    desk = await started(api, setup, engine, erasing)
    try:
        await desk.ask()
        thread, _ = desk.topic()
        sent = len(api.calls)
        api.send_text(ANA, "Das soll nicht stehen bleiben.")
        copy = await api.wait_for(
            "copyMessage", lambda c: c.params["chat_id"] == STAFF["id"], after=sent
        )
        api.topic_message(STAFF, DORA, thread, "Eine Antwort der Beraterin")
        await settled(api)

        api.send_text(ANA, "/exit")
        await settled(api)

        texts = [m.get("text") for m in desk.in_topic(thread)]
        assert copy.result["message_id"] not in api.topic_messages(STAFF["id"], thread)
        assert "Das soll nicht stehen bleiben." not in texts
        assert "Eine Antwort der Beraterin" in texts  # the counsellor's own message stays
        assert "ℹ️ The person has left the chat." in texts
    finally:
        await desk.bot.stop()


@pytest.mark.parametrize("hours", [6, 24, 72])
def test_the_privacy_screen_says_the_configured_time_in_every_launch_language(
    hours: int, example_deployment: Deployment
) -> None:
    deployment = example_deployment.model_copy(update={"sessions": Sessions(idle_hours=hours)})
    engine = build_engine(
        load_flow(PROJECT_ROOT / "flows"), deployment, locales=PROJECT_ROOT / "locales"
    )
    for language in deployment.languages:
        _, actions = engine.step(Session(language=language), Command("privacy"))
        text = next(a.text for a in actions if isinstance(a, Show))
        expected = format_duration(datetime.timedelta(hours=hours).total_seconds(), language)
        assert expected in text, (language, text)
        for days in (14, 30, 90):  # a counsellor conversation, a closed one, a return code
            assert format_duration(days * 86400, language) in text, (language, days)


async def test_a_counsellors_copy_is_protected_like_every_other_bot_message(
    api: FakeBotAPI, setup: BotSetup, deployment: Deployment
) -> None:
    protected = with_safety(deployment, protect_content=True)
    engine = engine_for(MINIMAL_FLOW, protected, handover_available=True)
    desk = await started(api, setup, engine, protected)
    try:
        await desk.ask()
        thread, _ = desk.topic()
        sent = len(api.calls)
        api.topic_message(STAFF, DORA, thread, "Hallo")
        copy = await api.wait_for(
            "copyMessage", lambda c: c.params["chat_id"] == ANA.user_id, after=sent
        )
    finally:
        await desk.bot.stop()
    assert copy.params["protect_content"] is True


async def test_disappearing_mode_handles_the_persons_due_at_once_not_one_by_one(
    api: FakeBotAPI, setup: BotSetup, deployment: Deployment
) -> None:
    """Issue 13: one person per Bot API round trip let 1,000 persons due take 51 s. With each
    deleteMessages taking 0.5 s, 20 persons due are done in about one round trip, not 20."""
    quick = with_safety(deployment, disappearing_times=[2], disappearing_check_seconds=0.2)
    setup = replace(setup, deployment=quick)
    people = [
        Person(user_id=5560000 + n, first_name=f"P{n}", language_code="de") for n in range(20)
    ]
    bot = await start_bot(engine_for(MINIMAL_FLOW, quick), setup, api)
    try:
        seconds = format_duration(2, "de")
        for person in people:
            api.send_text(person, "/start")
            await press(api, person, "Deutsch")
            api.send_text(person, "/menu")
            await settled(api)
            screen = await last_screen(api, person)
            api.press(person, current_message_id(api, screen), "!disappearing")
            await last_screen(api, person)
            await press(api, person, f"⏱️ {seconds}")
        api.latency["deleteMessages"] = 0.5
        typed = {
            person.user_id: api.send_text(person, "x")["message"]["message_id"] for person in people
        }
        await settled(api)
        sent = asyncio.get_running_loop().time()

        def gone() -> bool:
            return all(typed[p.user_id] not in api.chat_messages(p.user_id) for p in people)

        while not gone():
            assert asyncio.get_running_loop().time() - sent < 2 + 0.2 + 2.5, "fell behind"
            await asyncio.sleep(0.05)
    finally:
        await bot.stop()
