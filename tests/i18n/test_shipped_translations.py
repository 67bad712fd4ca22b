"""The shipped flows in every launch language, from the real compiled catalogs: every text is
translated, nothing a person needs is lost, and every message fits Telegram."""

from __future__ import annotations

import random
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT, Deployment, build_engine, translation_report
from bot.dialogue import (
    ButtonPressed,
    Command,
    Engine,
    Event,
    Session,
    Show,
    Unreadable,
    load_flow,
)
from bot.dialogue.check import CALLBACK_DATA_LIMIT, LABEL_LIMIT, MESSAGE_LIMIT
from bot.dialogue.render import PLACEHOLDER
from bot.i18n.catalogs import SOURCE_LANGUAGE, Catalogs, Review
from bot.i18n.messages import flow_messages
from bot.i18n.pipeline import compile_catalogs
from tests.conftest import SHIPPED_FLOWS, walk

# The launch languages: German (source), English, Romanian, Bulgarian, Hungarian,
# Spanish, Turkish, and German in Leichte Sprache.
LAUNCH = ["de", "en", "ro", "bg", "hu", "es", "tr", "de@easy"]
TRANSLATED = [language for language in LAUNCH if language != SOURCE_LANGUAGE]


@pytest.fixture(scope="module")
def compiled_locales(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped catalogs, compiled to .mo files as `wegweiser i18n compile` does."""
    locales = Path(shutil.copytree(PROJECT_ROOT / "locales", tmp_path_factory.mktemp("l") / "l"))
    assert len(compile_catalogs(locales)) >= len(TRANSLATED)
    return locales


@pytest.fixture(scope="module")
def catalogs(compiled_locales: Path) -> Catalogs:
    return Catalogs.load(compiled_locales, LAUNCH)


@pytest.fixture(scope="module")
def engine(example_deployment: Deployment, compiled_locales: Path) -> Engine:
    return build_engine(load_flow(SHIPPED_FLOWS), example_deployment, locales=compiled_locales)


def test_the_example_deployment_offers_every_launch_language(
    example_deployment: Deployment,
) -> None:
    assert sorted(example_deployment.languages) == sorted(LAUNCH)
    assert example_deployment.languages[0] == "de"


def test_leichte_sprache_is_its_own_language_named_in_itself(engine: Engine) -> None:
    assert engine.languages["de@easy"] == "Leichte Sprache"
    assert engine.languages["ro"] == "Română"
    assert engine.languages["bg"] == "Български"
    assert engine.languages["hu"] == "Magyar"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_text_is_translated_in_the_compiled_catalog(
    language: str, catalogs: Catalogs
) -> None:
    untranslated = [
        (message.context, message.text[:40])
        for message in flow_messages(load_flow(SHIPPED_FLOWS))
        if catalogs.lookup(language, message.context, message.text) is None
    ]
    assert untranslated == []


def test_the_status_has_no_missing_or_fuzzy_text_and_no_error(
    example_deployment: Deployment,
) -> None:
    report = translation_report(
        load_flow(SHIPPED_FLOWS), example_deployment, PROJECT_ROOT / "locales"
    )

    assert [str(problem) for problem in report.errors] == []
    for status in report.languages:
        if status.language == SOURCE_LANGUAGE:
            continue
        assert (status.language, status.fuzzy, status.missing) == (status.language, 0, 0)
        assert status.translated == status.total
        # a draft says so until a native speaker has reviewed it
        assert status.review in (Review.DRAFT, Review.REVIEWED)
        if status.review is Review.DRAFT:
            assert "awaiting review by a native speaker" in status.review_note


@pytest.mark.parametrize("language", LAUNCH)
def test_every_screen_in_every_language_is_complete_and_fits_telegram(
    language: str, engine: Engine
) -> None:
    reached = walk(engine, language)
    assert set(reached) == set(engine.flow.nodes)  # every node, by buttons alone
    for node_id, session in reached.items():
        # a sticker: the notice, and the screen of the node again
        _, actions = engine.step(session, Unreadable())
        for screen in (action for action in actions if isinstance(action, Show)):
            assert len(screen.text) <= MESSAGE_LIMIT, node_id
            assert not PLACEHOLDER.search(screen.text), (node_id, screen.text)
            for button in (button for row in screen.buttons for button in row):
                assert len(button.label) <= LABEL_LIMIT, (node_id, button.label)
                assert len(button.data.encode()) <= CALLBACK_DATA_LIMIT
                assert not PLACEHOLDER.search(button.label), (node_id, button.label)


@pytest.mark.parametrize("language", [language for language in TRANSLATED if language != "de@easy"])
def test_no_screen_of_another_language_is_the_german_one(language: str, engine: Engine) -> None:
    """Not a single screen is shown in German by mistake (Leichte Sprache may keep a German
    screen that is easy to read already)."""
    german = {node_id: _text(engine, "de", node_id) for node_id in engine.flow.nodes}
    same = [
        node_id
        for node_id in engine.flow.nodes
        if _text(engine, language, node_id) == german[node_id]
    ]
    assert same == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_bot_profile_fits_telegram_in_every_language(language: str, engine: Engine) -> None:
    profile = engine.profile(language)
    assert profile != engine.profile(SOURCE_LANGUAGE)
    assert len(profile.description) <= 512
    assert len(profile.short_description) <= 120
    assert all(0 < len(text) <= 256 for text in profile.commands.values())


# The screens and the system text with a web wording, and what the web chat's buttons are called
# in the catalogs: the wordings quote them.
WEB_WORDED = ("main.welcome", "main.safety", "main.privacy")
QUICK_EXIT = {"de": "„Schnell weg“", "de@easy": "„Schnell weg“", "ro": "„Ieși repede”"}


def _shown(engine: Engine, session: Session, event: Event) -> str:
    _, actions = engine.step(session, event)
    (screen,) = [action for action in actions if isinstance(action, Show)]
    return screen.text


@pytest.mark.parametrize("language", sorted(QUICK_EXIT))
def test_a_web_session_reads_the_web_wording_and_the_others_the_telegram_one(
    language: str, engine: Engine
) -> None:
    quick_exit = QUICK_EXIT[language]
    for node_id in WEB_WORDED:
        web = _shown(engine, Session(node=node_id, language=language, channel="web"), Unreadable())
        assert quick_exit in web, (node_id, web)
        assert "/exit" not in web, (node_id, web)
        for channel in ("telegram", "console", None):
            session = Session(node=node_id, language=language, channel=channel)
            default = _shown(engine, session, Unreadable())
            assert "/exit" in default and quick_exit not in default, (node_id, channel)
    web = Session(node="main.menu", language=language, channel="web")
    _, actions = engine.step(web, Command("nonsense"))
    (screen,) = [action for action in actions if isinstance(action, Show)]
    # it names the counsellor button below it, as the catalog calls it, instead of /counsellor
    label = screen.buttons[-1][0].label.split(" ", 1)[1]
    assert label in screen.text and "/counsellor" not in screen.text
    telegram = replace(web, channel="telegram")
    assert "/counsellor" in _shown(engine, telegram, Command("nonsense"))


@pytest.mark.parametrize("language", LAUNCH)
def test_every_web_wording_is_translated_complete_and_fits(language: str, engine: Engine) -> None:
    for node_id, node in engine.flow.nodes.items():
        if "web" not in node.channels:
            continue
        web = _shown(engine, Session(node=node_id, language=language, channel="web"), Unreadable())
        default = _shown(engine, Session(node=node_id, language=language), Unreadable())
        assert web != default, node_id
        assert len(web) <= MESSAGE_LIMIT and not PLACEHOLDER.search(web), (node_id, web)
        if language != SOURCE_LANGUAGE:
            german = _shown(
                engine, Session(node=node_id, language="de", channel="web"), Unreadable()
            )
            assert web != german, (language, node_id)


def _text(engine: Engine, language: str, node_id: str) -> str:
    return engine.renderer.node_text(language, node_id, engine.flow.nodes[node_id])


def test_a_screen_depends_on_no_earlier_persons_session(
    example_deployment: Deployment, compiled_locales: Path
) -> None:
    """The engine keeps the screens it built: engines that served the same people in different
    orders show each of them the same, so no screen carries over another person's language,
    channel, way back, case or disappearing mode."""
    nodes = list(load_flow(SHIPPED_FLOWS).nodes)
    sessions = [
        Session(node_id, history, language, case, disappear, channel)
        for node_id in nodes
        for history in ((), ("main.menu",))
        for language in LAUNCH
        for case in (None, "K7Q2")
        for disappear in (None, 300)
        for channel in (None, "web")
    ]
    # a button of no screen (the person's screen again, after a notice); at one node also the
    # language list and the disappearing times, which are the same at every node
    stale: Event = ButtonPressed("main.menu|999")
    steps = [(session, stale) for session in sessions] + [
        (session, event)
        for session in sessions
        if session.node == nodes[0]
        for event in (Command("language"), ButtonPressed("!disappearing"))
    ]
    orders = [steps, steps[::-1]]
    for seed in range(2):
        shuffled = steps.copy()
        random.Random(seed).shuffle(shuffled)
        orders.append(shuffled)
    served = []
    for order in orders:
        engine = build_engine(
            load_flow(SHIPPED_FLOWS), example_deployment, locales=compiled_locales
        )
        served.append({step: engine.step(*step) for step in order})
    assert all(answers == served[0] for answers in served[1:])
