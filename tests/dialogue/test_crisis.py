"""The crisis net: words, prefixes and phrases as written, accents and case folded, near misses
of long words, and no alarm for an ordinary word one letter off a short crisis word."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Deployment
from bot.dialogue import Relay, Session, Show, TextTyped
from bot.dialogue.crisis import CrisisNet, crisis_word
from tests.conftest import edit_flow, engine_for


def net(*written: str) -> CrisisNet:
    words = [crisis_word(entry, "crisis.start", "test", "de") for entry in written]
    return CrisisNet(word for word in words if word is not None)


@pytest.mark.parametrize(
    ("written", "typed"),
    [
        ("umbringen", "Ich will mich UMBRINGEN!"),
        ("umbring*", "ich umbringe mich"),
        ("bring* mich um", "ich bringe mich um"),
        ("vreau să mor", "vreau sa mor"),
        ("vreau sa mor", "VREAU SĂ MOR"),
        ("vergewaltigt", "ich wurde vergewaltikt"),  # one letter wrong
        ("vergewaltigt", "vergewlatigt"),  # two letters swapped
        ("vergewaltigt", "vergewaltig"),  # one left out
        ("vergewalt*", "vergewalltigung"),  # in a prefix, one letter added
        ("kendimi öldüreceğim", "kendimi oldurecegim"),
        ("бие ме", "мъжът ми бие ме"),
    ],
)
def test_crisis_words_are_found_as_people_type_them(written: str, typed: str) -> None:
    found = net(written).match(typed)
    assert found is not None and found.written == written


@pytest.mark.parametrize(
    ("written", "typed"),
    [
        ("schlagen", "wo kann ich schlafen"),  # short words: exactly, or not at all
        ("bring* mich um", "bring mich nach hause"),  # a phrase needs its words in a row
        ("umbring*", "rumbringen"),  # a prefix starts a word
        ("viol", "violenta"),  # a word without * is a whole word
        ("in gefahr", "gefahr in verzug"),
    ],
)
def test_ordinary_text_is_no_crisis(written: str, typed: str) -> None:
    assert net(written).match(typed) is None


def test_the_earliest_crisis_word_is_the_one_reported() -> None:
    found = net("will sterben", "eingesperrt").match("ich bin eingesperrt und will sterben")
    assert found is not None and found.written == "eingesperrt"


def test_an_entry_without_letters_is_left_out() -> None:
    assert crisis_word(" * ", "crisis.start", "test", "de") is None


def test_a_flow_with_crisis_words_answers_them_first_also_in_a_case(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    edit_flow(
        flow_dir,
        "topic.yaml",
        "    keywords: [Notfall, help, ajutor]",
        "    keywords: [Notfall, help, ajutor]\n    crisis_words:\n      suicide: [umbring*]",
    )
    engine = engine_for(flow_dir, minimal_deployment)
    at_menu = Session(node="main.menu", language="de")
    after, actions = engine.step(at_menu, TextTyped("Notfall, ich will mich umbringen"))
    assert after.node == "topic.emergency"
    talking = Session(node="main.menu", language="de", case="AB12")
    after, actions = engine.step(talking, TextTyped("ich bringe mich um, umbringen"))
    assert actions[0] == Relay("AB12")
    assert [a.node_id for a in actions if isinstance(a, Show)] == ["topic.emergency"]
    assert engine.step(after, TextTyped("umbringen"))[1] == (Relay("AB12"),)
