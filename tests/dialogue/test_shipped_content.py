"""The shipped German content keeps the promises of the content review (issue 16): the 24/7
numbers wherever a person is left without a human, emergency and safety one tap away, and the
counsellor named with the deployment's own word."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT, Deployment, load_deployment
from bot.dialogue import (
    ButtonPressed,
    Command,
    Engine,
    Notice,
    Session,
    Show,
    Start,
    TextTyped,
    Unreadable,
)
from bot.dialogue.engine import CONFIRM
from bot.dialogue.loader import LoadError
from tests.conftest import SHIPPED_FLOWS, engine_for, walk

# The numbers a person in crisis needs at any hour (flows/facts.yaml).
TWENTY_FOUR_SEVEN = ("police", "hilfetelefon", "telefonseelsorge")


@pytest.fixture(scope="module")
def engine(example_deployment: Deployment) -> Engine:
    return engine_for(SHIPPED_FLOWS, example_deployment)


def numbers(engine: Engine, *names: str) -> list[str]:
    return [engine.flow.facts[name].text for name in names]


def started(engine: Engine) -> Session:
    session, _ = engine.step(Session(language="de"), Start())
    return session


def texts(actions: tuple[object, ...]) -> str:
    return "\n".join(a.text for a in actions if isinstance(a, Show | Notice))


def test_typed_text_the_bot_does_not_understand_gets_the_24_7_numbers(engine: Engine) -> None:
    _, actions = engine.step(started(engine), TextTyped("mir geht es so schlecht"))

    shown = texts(actions)
    for number in numbers(engine, *TWENTY_FOUR_SEVEN):
        assert number in shown


def test_no_counsellor_available_gets_the_contacts_and_24_7_numbers_and_no_offer(
    engine: Engine,
) -> None:
    session = walk(engine, "de")["counsellor.start"]
    _, screen = engine.step(session, Unreadable())  # the screen again
    # an old confirm button, from a time when counsellors answered in the chat
    _, pressed = engine.step(session, ButtonPressed(f"counsellor.start|{CONFIRM}"))

    for actions in (screen, pressed):
        shown = texts(actions)
        for number in numbers(engine, *TWENTY_FOUR_SEVEN):
            assert number in shown
        assert engine.renderer.text("de", "system", "{service.phone}") in shown
        assert "kann dir hier im Chat antworten" not in shown
    labels = [
        button.label
        for action in screen
        if isinstance(action, Show)
        for row in action.buttons
        for button in row
    ]
    assert not [label for label in labels if label.startswith("✅")], labels
    assert "📞 Lieber anrufen" in labels


@pytest.mark.parametrize("text", ["outside_hours", "nobody"])
def test_waiting_outside_hours_or_for_long_names_the_24_7_numbers(
    engine: Engine, text: str
) -> None:
    shown = engine.renderer.text("de", "system", getattr(engine.flow.system.case, text))

    for number in numbers(engine, *TWENTY_FOUR_SEVEN):
        assert number in shown


def test_the_emergency_numbers_are_one_tap_from_the_first_screen(engine: Engine) -> None:
    session = started(engine)
    _, actions = engine.step(session, Start())
    first = next(a for a in actions if isinstance(a, Show))
    targets = [
        engine.step(session, ButtonPressed(button.data))[0].node
        for row in first.buttons
        for button in row
    ]

    assert "emergency.start" in targets


@pytest.mark.parametrize(
    ("node", "target"),
    [
        ("main.menu", "main.safety"),
        ("main.safety", "main.safety_phone"),
        ("emergency.start", "emergency.crisis"),
        ("health.start", "health.after_risk"),
        ("health.after_risk", "violence.sexual_violence"),
        ("violence.start", "housing.shelter"),
        ("law.eu_residence", "money.basic_income_eu"),
        ("law.eu_residence", "health.insurance"),
        ("work.start", "money.debts"),
        ("work.start", "housing.exit"),
        ("law.deregister", "housing.exit"),
        ("money.debts", "violence.trafficking_what"),
        ("health.sti_test", "health.after_risk"),
    ],
)
def test_the_cross_links_of_the_review_are_one_tap(engine: Engine, node: str, target: str) -> None:
    options = engine.flow.nodes[node].options
    assert target in [option.goto for option in options]


def test_the_counsellor_is_named_with_the_deployments_word_in_each_language(
    engine: Engine, example_deployment: Deployment
) -> None:
    words = example_deployment.service.counsellor
    source = engine.flow.nodes["counsellor.start"].text

    assert words["de"] in engine.renderer.text("de", "counsellor.start", source)
    # a language without its own entry takes its base language's word
    assert engine.renderer.text("de@easy", "x", "{service.counsellor}") == words["de@easy"]


def test_a_deployment_without_a_counsellor_word_for_an_offered_language_is_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "deployment.yaml"
    path.write_text(
        "service:\n  name: Test\n  counsellor:\n    de: Beraterin\nlanguages: [de, ro]\n",
        encoding="utf-8",
    )

    with pytest.raises(LoadError, match=r"service\.counsellor: no word for ro"):
        load_deployment(path)


def test_leichte_sprache_falls_back_to_the_german_word(tmp_path: Path) -> None:
    path = tmp_path / "deployment.yaml"
    path.write_text(
        "service:\n  name: Test\n  counsellor:\n    de: Fachkraft\nlanguages: [de, de@easy]\n",
        encoding="utf-8",
    )

    value = load_deployment(path).placeholders()["service.counsellor"]

    assert callable(value)
    assert value("de@easy") == "Fachkraft"


@pytest.mark.parametrize("channel", ["telegram", "web"])
@pytest.mark.parametrize(
    ("language", "said"),
    [("de", "30 Minuten"), ("de@easy", "30 Minuten"), ("en", "30 minutes"), ("tr", "30 dakika")],
)
def test_the_privacy_screen_says_how_long_deleted_data_stays_in_the_files_from_the_setting(
    example_deployment: Deployment, channel: str, language: str, said: str
) -> None:
    """The rebuild that removes deleted rows' stale copies runs every erase_every_minutes; the
    screen quotes that and the minute one rebuild may take, whatever the deployment sets."""
    sessions = example_deployment.sessions.model_copy(update={"erase_every_minutes": 29})
    deployment = example_deployment.model_copy(update={"sessions": sessions})
    engine = engine_for(SHIPPED_FLOWS, deployment, locales=PROJECT_ROOT / "locales", drafts=True)

    _, actions = engine.step(
        Session(node="main.menu", language=language, channel=channel), Command("privacy")
    )

    (shown,) = [action for action in actions if isinstance(action, Show)]
    assert said in shown.text
