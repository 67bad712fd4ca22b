"""Everything that is not a tidy button press: none of it shows a traceback or stops the bot."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest

from bot.channels.telegram import BotSetup
from bot.dialogue import Engine
from tests.channels.telegram.conftest import (
    RunningBot,
    labels,
    last_screen,
    log_events,
    press,
    session_count,
    settled,
    start_bot,
    to,
    unticked,
    with_deployment,
)
from tests.fake_bot_api import CONTENT_EXAMPLES, FakeBotAPI, Person

DORA = Person(user_id=5550101, first_name="Dora", language_code="de")
EVA = Person(user_id=5550102, first_name="Eva", language_code="de")
GROUP = {"id": -1001234567890, "type": "supergroup", "title": "Irgendeine Gruppe"}
STAFF = {"id": -1009876543210, "type": "supergroup", "title": "Team"}


async def at_menu(api: FakeBotAPI, person: Person) -> None:
    api.send_text(person, "/start")
    await press(api, person, "Deutsch")
    await press(api, person, "Zum Menü")


def sent_texts(api: FakeBotAPI, after: int = 0) -> list[str]:
    return [
        str(call.params["text"])
        for call in api.calls[after:]
        if call.method in ("sendMessage", "editMessageText") and call.fault is None
    ]


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice", "document"])
async def test_unreadable_content_gets_a_gentle_answer_and_the_screen_again(
    bot: RunningBot, api: FakeBotAPI, kind: str
) -> None:
    await at_menu(api, DORA)
    before = len(api.calls)
    api.send_message(DORA, **CONTENT_EXAMPLES[kind])
    await settled(api)
    assert sent_texts(api, before) == ["Ich lese nur Text.", "Worum geht es?"]


@pytest.mark.parametrize("kind", ["location", "contact"])
async def test_shared_location_or_contact_is_deleted_not_kept_and_the_person_warned(
    bot: RunningBot, api: FakeBotAPI, kind: str
) -> None:
    await at_menu(api, DORA)
    before = len(api.calls)
    update = api.send_message(DORA, **CONTENT_EXAMPLES[kind])
    await settled(api)

    shared = update["message"]["message_id"]
    assert shared not in api.chat_messages(DORA.user_id)
    assert sent_texts(api, before) == [
        "Bitte keine Kontakte oder Standorte schicken.",
        "Worum geht es?",
    ]
    assert b"52.52" not in bot.database.read_bytes()
    assert b"4930123456" not in bot.database.read_bytes()


async def test_an_edited_message_gets_no_second_answer(bot: RunningBot, api: FakeBotAPI) -> None:
    await at_menu(api, DORA)
    update = api.send_text(DORA, "notfall")
    await settled(api)
    before = len(api.calls)
    api.edit_text(DORA, update["message"]["message_id"], "Gesundheit")
    await settled(api)
    assert sent_texts(api, before) == []


@pytest.mark.parametrize(
    "text",
    [
        "x" * 5000,  # longer than Telegram lets anybody send
        "\u202eNOTFALL\u202c",  # right-to-left override
        "N\u0336o\u0336t\u0336f\u0336a\u0336l\u0336l\u0336",  # combining strike-through
        "\x00\x01\x7f",
        "🆘🆘🆘",
        "ＮＯＴＦＡＬＬ",  # full-width letters
    ],
)
async def test_unusual_text_gets_an_answer_and_the_bot_stays_up(
    bot: RunningBot, api: FakeBotAPI, logs: object, text: str
) -> None:
    await at_menu(api, DORA)
    before = len(api.calls)
    api.send_text(DORA, text)
    await settled(api)
    assert len(sent_texts(api, before)) == 1
    assert not [event for event in log_events(logs) if event["level"] == "ERROR"]
    api.send_text(DORA, "/menu")
    assert (await last_screen(api)).params["text"] == "Worum geht es?"


async def test_a_flood_from_one_person_is_cut_off_while_others_are_served(
    engine: Engine, setup: BotSetup, api: FakeBotAPI
) -> None:
    setup = with_deployment(setup, limits=setup.deployment.limits.model_copy(update={"burst": 5}))
    running = await start_bot(engine, setup, api)
    try:
        for _ in range(40):
            api.send_text(DORA, "hallo")
        api.send_text(EVA, "/start")
        await settled(api)

        texts = [str(call.params["text"]) for call in to(DORA, api.calls_to("sendMessage"))]
        assert len(texts) == 6  # five answers, then one request to slow down
        assert texts[-1] == "Bitte langsamer."
        assert unticked(labels(await last_screen(api, EVA))) == [
            "Deutsch",
            "Română",
        ]  # Eva was answered
    finally:
        await running.stop()


async def test_flooded_button_presses_are_still_answered(
    engine: Engine, setup: BotSetup, api: FakeBotAPI
) -> None:
    setup = with_deployment(setup, limits=setup.deployment.limits.model_copy(update={"burst": 4}))
    running = await start_bot(engine, setup, api)
    try:
        api.send_text(DORA, "/start")
        shown = await last_screen(api)
        for _ in range(20):
            api.press(DORA, int(shown.result["message_id"]), "!lang:de")
        await settled(api)
        assert api.unanswered_callbacks == set()
    finally:
        await running.stop()


async def test_added_to_a_group_or_channel_the_bot_leaves(bot: RunningBot, api: FakeBotAPI) -> None:
    api.member_change(GROUP, "left", "member", by=DORA)
    await api.wait_for("leaveChat", lambda call: int(call.params["chat_id"]) == GROUP["id"])
    channel = {"id": -1005555, "type": "channel", "title": "Kanal"}
    api.channel_post(channel, "hallo")
    await api.wait_for("leaveChat", lambda call: int(call.params["chat_id"]) == channel["id"])


async def test_a_group_is_named_in_the_log_only_where_the_bot_was_made_an_administrator(
    bot: RunningBot, api: FakeBotAPI, logs: io.StringIO
) -> None:
    api.member_change(GROUP, "left", "member", by=DORA)
    await settled(api)
    api.member_change(STAFF, "left", "administrator", by=DORA)  # an operator setting up
    await settled(api)

    left = [e for e in log_events(logs) if e["event"] == "left a chat the bot was added to"]
    assert [event.get("chat_id") for event in left] == [None, STAFF["id"]]


async def test_the_bot_stays_in_the_staff_group(
    engine: Engine, setup: BotSetup, api: FakeBotAPI
) -> None:
    api.add_chat(STAFF)
    running = await start_bot(engine, replace(setup, staff_chat_id=STAFF["id"]), api)
    try:
        api.member_change(STAFF, "left", "administrator", by=DORA)
        api.group_message(STAFF, DORA, "hallo Team")
        await settled(api)
        assert api.calls_to("leaveChat") == []
        assert sent_texts(api) == []
    finally:
        await running.stop()


async def test_a_person_who_blocked_the_bot_loses_the_session_and_the_bot_runs_on(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    await at_menu(api, DORA)
    assert await session_count(bot) == 1
    api.block(DORA.user_id)
    api.send_text(DORA, "/menu")
    await settled(api)
    assert await session_count(bot) == 0

    api.send_text(EVA, "/start")
    assert unticked(labels(await last_screen(api, EVA))) == ["Deutsch", "Română"]


async def test_blocking_the_bot_closes_the_session_at_once(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    await at_menu(api, DORA)
    api.member_change(
        {"id": DORA.user_id, "type": "private", "first_name": "Dora"}, "member", "kicked", by=DORA
    )
    await settled(api)
    assert await session_count(bot) == 0


@pytest.mark.parametrize("kind", ["retry_after", "server_error", "timeout"])
async def test_a_failing_api_call_is_retried_and_the_person_still_gets_the_screen(
    bot: RunningBot, api: FakeBotAPI, kind: str
) -> None:
    api.fail("sendMessage", kind, delay=1.5)
    api.send_text(DORA, "/start")
    await api.wait_for("sendMessage", lambda call: call.fault is None)
    attempts = api.calls_to("sendMessage")
    assert [call.fault for call in attempts] == [kind, None]
    assert unticked(labels(attempts[-1])) == ["Deutsch", "Română"]


async def test_an_api_that_keeps_failing_is_logged_and_the_bot_answers_the_next_update(
    bot: RunningBot, api: FakeBotAPI, logs: object
) -> None:
    api.fail("sendMessage", "server_error", times=3)
    api.send_text(DORA, "/start")
    await settled(api)  # the first attempt and two retries, then the error handler logs
    assert [call.fault for call in api.calls_to("sendMessage")] == ["server_error"] * 3
    assert any(event["event"] == "Bot API error" for event in log_events(logs))

    api.send_text(DORA, "/start")
    assert unticked(labels(await last_screen(api))) == ["Deutsch", "Română"]


async def test_a_failing_command_menu_at_start_is_logged_and_the_bot_runs_on(
    engine: Engine, setup: BotSetup, api: FakeBotAPI, logs: object
) -> None:
    api.fail("setMyCommands", "bad_request", times=5)
    running = await start_bot(engine, setup, api)
    try:
        warnings = [e for e in log_events(logs) if e["level"] == "WARNING"]
        assert any(e.get("method") == "setMyCommands" for e in warnings)
        api.send_text(DORA, "/start")
        assert unticked(labels(await last_screen(api))) == ["Deutsch", "Română"]
    finally:
        await running.stop()


async def test_a_conversation_gets_through_when_a_fifth_of_all_calls_fail(
    engine: Engine, setup: BotSetup, api: FakeBotAPI, logs: object
) -> None:
    running = await start_bot(engine, replace(setup, retry_delays=(0.02,) * 5), api)
    try:
        api.fail_randomly(None, 0.2, ("server_error", "bad_gateway", "timeout"), delay=0.1, seed=7)
        api.send_text(DORA, "/start")
        await api.wait_for("sendMessage", lambda call: call.fault is None)
        for label, expected in [
            ("Deutsch", "Willkommen bei Beratungsstelle Teststadt."),
            ("Zum Menü", "Worum geht es?"),
            ("Gesundheit", "Gesundheit."),
            ("Zurück", "Worum geht es?"),
            ("Notfall", "Notruf 110. Hilfetelefon 116 016."),
        ]:
            shown = await press(api, DORA, label)
            assert shown.params["text"] == expected
        assert any(call.fault for call in api.calls), (
            "no fault was injected: the test proves nothing"
        )
        assert not [event for event in log_events(logs) if event["level"] == "ERROR"]
    finally:
        api.fail_randomly(None, 0, ("server_error",))  # off, so the bot can stop cleanly
        await running.stop()
