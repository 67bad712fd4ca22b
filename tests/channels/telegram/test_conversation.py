"""A person talks to the real bot: language, topics, back, /menu, /language, restart, /exit."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.channels.telegram import BotSetup
from bot.config import Deployment
from bot.dialogue import Engine
from bot.store import SecretKeys
from bot.store.sqlite import SQLiteStore
from tests.channels.telegram.conftest import (
    ANA,
    TEST_SECRET,
    RunningBot,
    button_data,
    current_message_id,
    labels,
    last_screen,
    press,
    session_count,
    settled,
    start_bot,
    unticked,
)
from tests.conftest import MINIMAL_LOCALES, add_audio, edit_flow, engine_for
from tests.fake_bot_api import FakeBotAPI, Person

BOB = Person(user_id=5550001, first_name="Bob", language_code="de")


async def test_start_preselects_the_clients_language_and_offers_the_list(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    api.send_text(ANA, "/start")
    shown = await last_screen(api)
    assert shown.method == "sendMessage"
    assert unticked(labels(shown)) == ["Deutsch", "Română"]
    assert button_data(shown, "Română") == "!lang:ro"


async def test_walk_to_a_topic_and_back_edits_one_message_in_place(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    api.send_text(BOB, "/start")
    first = await press(api, BOB, "Deutsch")
    assert first.params["text"] == "Willkommen bei Beratungsstelle Teststadt."
    menu = await press(api, BOB, "Zum Menü")
    assert menu.params["text"] == "Worum geht es?"
    topic = await press(api, BOB, "Gesundheit")
    assert topic.params["text"] == "Gesundheit."
    back = await press(api, BOB, "Zurück")
    assert back.params["text"] == "Worum geht es?"
    # Every press edited the same message: one screen in the chat, and no spinning buttons.
    assert {call.method for call in (menu, topic, back)} == {"editMessageText"}
    assert len({current_message_id(api, call) for call in (first, menu, topic, back)}) == 1
    assert api.unanswered_callbacks == set()


async def test_menu_and_language_commands_work_from_anywhere(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    api.send_text(BOB, "/start")
    await press(api, BOB, "Deutsch")
    await press(api, BOB, "Zum Menü")
    await press(api, BOB, "Gesundheit")

    api.send_text(BOB, "/menu")
    assert (await last_screen(api)).params["text"] == "Worum geht es?"

    api.send_text(BOB, "/language")
    assert unticked(labels(await last_screen(api))) == ["Deutsch", "Română"]


async def test_a_media_node_uploads_the_file_once_and_reuses_its_file_id(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    for person in (BOB, Person(user_id=5550002, first_name="Cleo")):
        api.send_text(person, "/start")
        await press(api, person, "Deutsch")
        await press(api, person, "Zum Menü")
        await press(api, person, "Gesundheit")
        shown = await press(api, person, "Test")
        assert shown.params["text"] == "Beim Gesundheitsamt kannst du dich testen lassen."
        # The picture came first, so the screen is a new message under it.
        assert shown.method == "sendMessage"

    first, second = api.calls_to("sendPhoto")
    assert first.files and not second.files
    assert second.params["photo"] == first.result["photo"][-1]["file_id"]


async def test_a_screen_read_aloud_sends_the_audio_of_the_persons_language_only(
    flow_dir: Path, deployment: Deployment, setup: BotSetup, api: FakeBotAPI
) -> None:
    add_audio(flow_dir, ro="ro/test.mp3")
    engine = engine_for(flow_dir, deployment, locales=MINIMAL_LOCALES)
    running = await start_bot(engine, setup, api)
    try:
        for person, language in ((ANA, "Română"), (BOB, "Deutsch")):
            api.send_text(person, "/start")
            await press(api, person, language)
            await press(api, person, "La meniu" if person is ANA else "Zum Menü")
            await press(api, person, "Sănătate" if person is ANA else "Gesundheit")
            await press(api, person, "Test")
    finally:
        await running.stop()

    # Ana (Romanian) gets the picture, then the Romanian recording, then the screen
    ana = [call.method for call in api.calls if call.params.get("chat_id") == ANA.user_id]
    assert ana[-3:] == ["sendPhoto", "sendAudio", "sendMessage"]
    (audio,) = api.calls_to("sendAudio")
    assert audio.files and audio.params["chat_id"] == ANA.user_id
    # Bob (German) gets no audio: there is no German recording, and no other language's
    bob = [call.method for call in api.calls if call.params.get("chat_id") == BOB.user_id]
    assert bob[-2:] == ["sendPhoto", "sendMessage"]


async def test_a_restarted_bot_resumes_at_the_same_node(
    engine: Engine, setup: BotSetup, api: FakeBotAPI
) -> None:
    running = await start_bot(engine, setup, api)
    api.send_text(BOB, "/start")
    await press(api, BOB, "Deutsch")
    await press(api, BOB, "Zum Menü")
    topic = await press(api, BOB, "Gesundheit")
    await running.stop()

    restarted = await start_bot(engine, setup, api)
    try:
        # A button of the screen shown before the restart still works.
        api.press(BOB, current_message_id(api, topic), button_data(topic, "Test"))
        shown = await last_screen(api)
        assert shown.params["text"] == "Beim Gesundheitsamt kannst du dich testen lassen."
    finally:
        await restarted.stop()


async def test_forged_button_data_is_refused_and_the_current_screen_shown(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    api.send_text(BOB, "/start")
    await press(api, BOB, "Deutsch")
    menu = await press(api, BOB, "Zum Menü")

    for forged in ("topic.test|0", "main.menu|99", "!lang:xx", "x" * 64, "main.menu|٣", ""):
        api.press(BOB, current_message_id(api, menu), forged)
    await settled(api)

    toasts = [call.params.get("text") for call in api.calls_to("answerCallbackQuery")[-6:]]
    assert toasts == ["Dieser Knopf ist nicht mehr aktuell."] * 6
    assert (await last_screen(api)).params["text"] == "Worum geht es?"
    assert api.unanswered_callbacks == set()


async def test_exit_deletes_the_conversation_and_the_session(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    api.send_text(BOB, "/start")
    await press(api, BOB, "Deutsch")
    api.send_text(BOB, "hilfe bitte")
    await settled(api)
    assert len(api.chat_messages(BOB.user_id)) >= 4

    calls_before = len(api.calls)
    api.send_text(BOB, "/exit")
    await settled(api)

    assert api.chat_messages(BOB.user_id) == {}
    after = {call.method for call in api.calls[calls_before:]} - {"getUpdates"}
    assert after == {"deleteMessages"}  # nothing is sent after /exit
    assert await session_count(bot) == 0

    api.send_text(BOB, "/start")
    assert unticked(labels(await last_screen(api))) == ["Deutsch", "Română"]


async def test_exit_for_another_bot_erases_nothing_and_exit_for_this_bot_erases(
    bot: RunningBot, api: FakeBotAPI
) -> None:
    api.send_text(BOB, "/start")
    await press(api, BOB, "Deutsch")
    api.send_text(BOB, "hilfe bitte")
    before = await last_screen(api, BOB)
    shown = len(api.chat_messages(BOB.user_id))

    api.send_text(BOB, "/exit@SomeOtherBot")
    answer = await last_screen(api, BOB)
    assert answer is not before and answer.params["text"] == "Ich verstehe nur die Knöpfe."
    assert len(api.chat_messages(BOB.user_id)) == shown + 2  # the command and the answer
    assert await session_count(bot) == 1

    api.send_text(BOB, "/EXIT@Wegweiser_Test_Bot")
    await settled(api)
    assert api.chat_messages(BOB.user_id) == {}
    assert await session_count(bot) == 0


@pytest.mark.parametrize("command", ["start", "menu", "back", "language", "counsellor", "privacy"])
async def test_a_command_for_another_bot_gets_what_any_unknown_text_gets(
    bot: RunningBot, api: FakeBotAPI, command: str
) -> None:
    api.send_text(BOB, "/start")
    await press(api, BOB, "Deutsch")
    await press(api, BOB, "Zum Menü")
    await press(api, BOB, "Gesundheit")
    api.send_text(BOB, "irgendwas")
    unknown = await last_screen(api, BOB)

    api.send_text(BOB, f"/{command}@SomeOtherBot")
    answer = await last_screen(api, BOB)
    assert answer is not unknown
    assert (answer.params["text"], labels(answer)) == (unknown.params["text"], labels(unknown))


@pytest.mark.parametrize("command", ["/start", "/START@wegweiser_test_bot"])
async def test_start_command_variants_start_the_conversation(
    bot: RunningBot, api: FakeBotAPI, command: str
) -> None:
    api.send_text(BOB, command)
    assert unticked(labels(await last_screen(api))) == ["Deutsch", "Română"]


async def test_the_command_menu_and_descriptions_are_published_at_start(
    bot: RunningBot, api: FakeBotAPI, engine: Engine
) -> None:
    (commands,) = api.calls_to("setMyCommands")
    published = {entry["command"]: entry["description"] for entry in commands.params["commands"]}
    assert published == dict(engine.profile("de").commands)
    assert "language_code" not in commands.params  # the default, for every language
    (description,) = api.calls_to("setMyDescription")
    assert description.params["description"] == engine.profile("de").description
    assert len(api.calls_to("setMyShortDescription")) == 1


async def test_a_person_on_telegram_reads_the_telegram_wording_of_a_screen(
    flow_dir: Path, deployment: Deployment, setup: BotSetup, api: FakeBotAPI
) -> None:
    """The session the service makes knows its channel, and keeps it: a screen worded for
    Telegram and for the web shows the Telegram wording, the first time and after a reload of
    the session from the store."""
    edit_flow(
        flow_dir,
        "main.yaml",
        "    text: Willkommen bei {service.name}.\n",
        "    text: Willkommen bei {service.name}.\n"
        "    channels:\n"
        "      telegram:\n"
        "        text: Willkommen bei {service.name} auf Telegram.\n"
        "      web:\n"
        "        text: Willkommen bei {service.name} im Web.\n",
    )
    running = await start_bot(engine_for(flow_dir, deployment), setup, api)
    try:
        api.send_text(BOB, "/start")
        first = await press(api, BOB, "Deutsch")
        await press(api, BOB, "Zum Menü")
        api.send_text(BOB, "/start")
        again = await last_screen(api, BOB)
    finally:
        await running.stop()

    expected = "Willkommen bei Beratungsstelle Teststadt auf Telegram."
    assert (first.params["text"], again.params["text"]) == (expected, expected)
    store = await SQLiteStore.open(setup.database)
    try:
        stored = await store.load(SecretKeys(TEST_SECRET).pseudonym("telegram", str(BOB.user_id)))
    finally:
        await store.close()
    assert stored is not None and stored.dialogue.channel == "telegram"
