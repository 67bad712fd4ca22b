"""Languages end to end: the shipped flows and the real compiled catalogs, in the real bot."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.channels.telegram import BotSetup
from bot.config import PROJECT_ROOT, Deployment, build_engine
from bot.dialogue import load_flow
from bot.dialogue.engine import CURRENT
from bot.i18n.catalogs import Catalogs
from bot.i18n.pipeline import compile_catalogs
from tests.channels.telegram.conftest import (
    ANA,
    RunningBot,
    labels,
    last_screen,
    press,
    settled,
    start_bot,
)
from tests.conftest import SHIPPED_FLOWS
from tests.fake_bot_api import FakeBotAPI

FLOW = load_flow(SHIPPED_FLOWS)


@pytest.fixture(scope="module")
def locales(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = Path(shutil.copytree(PROJECT_ROOT / "locales", tmp_path_factory.mktemp("l") / "l"))
    compile_catalogs(copy)
    return copy


@pytest.fixture
async def shipped_bot(
    api: FakeBotAPI, setup: BotSetup, example_deployment: Deployment, locales: Path
) -> AsyncIterator[RunningBot]:
    engine = build_engine(FLOW, example_deployment, locales=locales)
    running = await start_bot(engine, replace(setup, deployment=example_deployment), api)
    yield running
    await running.stop()


def said(catalogs: Catalogs, language: str, context: str, german: str) -> str:
    """What the catalog of `language` says for a German text, checked to be a translation."""
    found = catalogs.lookup(language, context, german)
    assert found is not None and found != german
    return found.strip()


async def test_romanian_phone_preselects_romanian_and_bulgarian_can_be_chosen_with_language(
    shipped_bot: RunningBot, api: FakeBotAPI, locales: Path
) -> None:
    catalogs = Catalogs.load(locales, ["ro", "bg"])
    assert ANA.language_code == "ro"

    api.send_text(ANA, "/start")
    choice = await last_screen(api, ANA)
    # asked in Romanian, with Română ticked
    choose = FLOW.system.messages.choose_language
    assert choice.params["text"] == said(catalogs, "ro", "system.messages.choose_language", choose)
    assert f"{CURRENT} Română" in labels(choice)
    assert "Български" in labels(choice) and "Leichte Sprache" in labels(choice)

    welcome = await press(api, ANA, "Română")
    german_welcome = FLOW.nodes["main.welcome"].text
    assert welcome.params["text"] == said(catalogs, "ro", "main.welcome", german_welcome)

    api.send_text(ANA, "/language")
    again = await last_screen(api, ANA)
    assert again.params["text"] == said(catalogs, "ro", "system.messages.choose_language", choose)
    switched = await press(api, ANA, "Български")
    # the same screen, now in Bulgarian
    assert switched.params["text"] == said(catalogs, "bg", "main.welcome", german_welcome)
    first_label = FLOW.nodes["main.welcome"].options[0].label
    assert labels(switched)[0] == said(catalogs, "bg", "main.welcome", first_label)

    api.send_text(ANA, "/language")
    assert f"{CURRENT} Български" in labels(await last_screen(api, ANA))


async def test_the_command_menu_and_description_are_published_in_each_language(
    shipped_bot: RunningBot, api: FakeBotAPI, locales: Path
) -> None:
    await settled(api)
    catalogs = Catalogs.load(locales, ["ro"])
    commands = {
        call.params.get("language_code"): call.params["commands"]
        for call in api.calls_to("setMyCommands")
    }

    # German for everybody, and each two-letter language Telegram can tell apart
    assert set(commands) == {None, "en", "ro", "bg", "hu", "es", "tr"}
    exit_text = FLOW.system.profile.commands.exit
    romanian = {command["command"]: command["description"] for command in commands["ro"]}
    assert romanian["exit"] == said(catalogs, "ro", "system.profile.commands.exit", exit_text)
    descriptions = {call.params.get("language_code") for call in api.calls_to("setMyDescription")}
    assert descriptions == set(commands)
