"""What the engine does with typed text on the shipped flows and catalogs: the crisis net before
anything else, keywords, "Meintest du …?", and the 24/7 numbers with every not-understood."""

from __future__ import annotations

import pytest

from bot.dialogue import (
    ButtonPressed,
    Engine,
    NothingFound,
    Notice,
    Relay,
    Session,
    Show,
    TextTyped,
)
from bot.dialogue.engine import SUGGESTION_PREFIX

LANGUAGES = ["de", "de@easy", "ro", "bg", "en", "es", "hu", "tr"]
# The 24/7 numbers every crisis answer and every not-understood answer shows (flows/facts.yaml).
NUMBERS = ["110", "116 016"]
CRISIS_NUMBERS = ["110", "112", "116 016", "0800 111 0 111", "0800 111 0 222", "116 123"]


def screen(actions: tuple[object, ...]) -> Show:
    shows = [action for action in actions if isinstance(action, Show)]
    assert len(shows) == 1, actions
    return shows[0]


def data(show: Show) -> list[str]:
    return [button.data for row in show.buttons for button in row]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_crisis_screen_has_every_24_7_number_and_a_counsellor(
    shipped: Engine, language: str
) -> None:
    session = Session(node="main.menu", language=language)
    after, actions = shipped.step(session, TextTyped("ich will mich umbringen"))
    shown = screen(actions)
    assert (after.node, shown.node_id) == ("crisis.start", "crisis.start")
    for number in CRISIS_NUMBERS:
        assert number in shown.text, (language, number)
    assert "!counsellor" in data(shown)


@pytest.mark.parametrize("language", LANGUAGES)
def test_text_nobody_understands_gets_the_24_7_numbers_and_is_counted(
    shipped: Engine, language: str
) -> None:
    session = Session(node="main.menu", language=language)
    after, actions = shipped.step(session, TextTyped("qqq zzxy"))
    assert after == session
    shown = screen(actions)
    for number in NUMBERS:
        assert number in shown.text, language
    assert NothingFound(language) in actions


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_suggestion_screen_shows_the_emergency_numbers(
    shipped: Engine, language: str
) -> None:
    # questions that no keyword answers (a keyword would jump to its screen)
    questions = {"de": "aidstest", "de@easy": "arzt kostet geld", "ro": "bani pentru copii"}
    questions |= {"bg": "детски", "en": "insurence", "es": "no tengo seguro"}
    questions |= {"hu": "abba akarom hagyni", "tr": "kayit nasil"}
    session = Session(node="main.menu", language=language)
    _, actions = shipped.step(session, TextTyped(questions[language]))
    shown = screen(actions)
    assert shown.node_id is None
    for number in NUMBERS:
        assert number in shown.text, language


def test_a_question_is_answered_with_suggestions_never_a_jump(shipped: Engine) -> None:
    session = Session(node="main.menu", language="ro")
    after, actions = shipped.step(session, TextTyped("bani pentru copii"))
    assert after == session  # no automatic jump
    suggestions = [d for d in data(screen(actions)) if d.startswith(SUGGESTION_PREFIX)]
    assert 1 <= len(suggestions) <= 3
    assert SUGGESTION_PREFIX + "money.child_benefit" in suggestions
    moved, shown = shipped.step(after, ButtonPressed(SUGGESTION_PREFIX + "money.child_benefit"))
    assert moved.node == "money.child_benefit"
    assert moved.history == ("main.menu",)
    assert screen(shown).node_id == "money.child_benefit"


def test_a_forged_suggestion_is_refused(shipped: Engine) -> None:
    session = Session(node="main.menu", language="de")
    for forged in ("?no.such_node", "?crisis.start", "?"):
        after, actions = shipped.step(session, ButtonPressed(forged))
        assert after.node == "main.menu"
        assert any(isinstance(action, Notice) for action in actions)


def test_a_question_in_another_language_than_the_chosen_one_finds_its_screen(
    shipped: Engine,
) -> None:
    session = Session(node="main.menu", language="de")
    _, actions = shipped.step(session, TextTyped("bani pentru copii"))
    assert SUGGESTION_PREFIX + "money.child_benefit" in data(screen(actions))


def test_an_explicit_keyword_still_jumps(shipped: Engine) -> None:
    after, actions = shipped.step(Session(node="main.menu", language="de"), TextTyped("Notfall"))
    assert after.node == screen(actions).node_id == "emergency.start"


def test_iubitul_no_longer_sends_an_insurance_question_to_the_loverboy_screen(
    shipped: Engine,
) -> None:
    session = Session(node="main.menu", language="ro")
    after, actions = shipped.step(session, TextTyped("iubitul meu nu are asigurare"))
    insurance = ("health.uninsured", "health.insurance")
    if after.node == "main.menu":  # suggestions: an insurance screen first
        assert data(screen(actions))[0] in [SUGGESTION_PREFIX + node for node in insurance]
    else:  # the keyword "asigurare" jumps
        assert after.node in insurance


def test_a_crisis_word_in_a_counsellor_conversation_is_relayed_and_shows_the_numbers_once(
    shipped: Engine,
) -> None:
    talking = Session(node="counsellor.start", language="ro", case="K7Q2")
    after, actions = shipped.step(talking, TextTyped("nu mai vreau sa traiesc"))
    assert actions[0] == Relay("K7Q2")
    shown = screen(actions)
    assert shown.node_id == "crisis.start"
    for number in CRISIS_NUMBERS:
        assert number in shown.text
    assert after.case == "K7Q2"
    # the next messages go to the counsellor only: the numbers are not shown again
    again, more = shipped.step(after, TextTyped("vreau sa mor"))
    assert more == (Relay("K7Q2"),)
    assert again == after
    _, ordinary = shipped.step(again, TextTyped("multumesc"))
    assert ordinary == (Relay("K7Q2"),)


def test_text_in_a_counsellor_conversation_without_crisis_words_is_only_relayed(
    shipped: Engine,
) -> None:
    talking = Session(node="counsellor.start", language="de", case="K7Q2")
    assert shipped.step(talking, TextTyped("Hallo, ich habe eine Frage")) == (
        talking,
        (Relay("K7Q2"),),
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_two_crisis_screens_link_to_each_other_and_show_the_numbers(
    shipped: Engine, language: str
) -> None:
    # crisis.start (the net's) and emergency.crisis (the topic's) both stay: each is one tap
    # from the other, and between them every 24/7 number is shown
    def pressed(session: Session, shown: Show, target: str) -> tuple[Session, Show]:
        for button in (button for row in shown.buttons for button in row):
            after, actions = shipped.step(session, ButtonPressed(button.data))
            if after.node == target:
                return after, screen(actions)
        raise AssertionError(f"no button of {session.node} leads to {target} ({language})")

    session = Session(node="main.menu", language=language)
    net, actions = shipped.step(session, TextTyped("ich will mich umbringen"))
    net_screen = screen(actions)
    topic, topic_screen = pressed(net, net_screen, "emergency.crisis")
    for number in ["112", "0800 111 0 111", "0800 111 0 222", "116 123"]:
        assert number in topic_screen.text, (language, number)
    _, back_screen = pressed(topic, topic_screen, "crisis.start")
    for number in CRISIS_NUMBERS:
        assert number in back_screen.text, (language, number)


@pytest.mark.parametrize(
    ("language", "help_word", "question", "screen_of_it"),
    [
        ("de", "Hilfe", "ich brauche hilfe beim jobcenter", "money.basic_income"),
        ("de@easy", "hilfe", "hilfe bei schulden", "money.debts"),
        ("ro", "ajutor", "ajutor cu datoriile", "money.debts"),
        ("bg", "помощ", "помощ с дългове", "money.debts"),
        ("en", "help", "help with debts", "money.debts"),
        ("es", "ayuda", "ayuda con deudas", "money.debts"),
        ("tr", "yardım", "borçlar için yardım", "money.debts"),
    ],
)
def test_the_word_help_shows_the_numbers_but_a_question_with_it_finds_its_screen(
    shipped: Engine, language: str, help_word: str, question: str, screen_of_it: str
) -> None:
    # "help" is no keyword of the emergency screen: questions use it for anything
    session = Session(node="main.menu", language=language)
    _, alone = shipped.step(session, TextTyped(help_word))
    for number in NUMBERS:
        assert number in screen(alone).text, (language, number)
    after, actions = shipped.step(session, TextTyped(question))
    shown = screen(actions)
    assert after.node != "emergency.start"
    suggested = [d.removeprefix(SUGGESTION_PREFIX) for d in data(shown)]
    assert screen_of_it in [shown.node_id, *suggested]
