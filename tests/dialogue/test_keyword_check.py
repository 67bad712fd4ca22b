"""`flows check` on typed words in every language: keyword collisions, keywords that catch
ordinary words, keywords that the crisis net hides."""

from __future__ import annotations

from pathlib import Path

from bot.config import PROJECT_ROOT, Deployment
from bot.dialogue import load_flow
from bot.dialogue.keyword_check import keyword_problems
from bot.dialogue.render import keyword_context
from bot.i18n.catalogs import Catalogs
from tests.conftest import SHIPPED_FLOWS, check, edit_flow


class Translations:
    """Romanian keywords as a translator might write them."""

    def __init__(self, keywords: dict[str, str]) -> None:
        self.keywords = keywords

    def translate(self, language: str, context: str, text: str) -> str:
        for node_id, words in self.keywords.items():
            if context == keyword_context(node_id) and language == "ro":
                return words
        return text


def messages(flow_dir: Path, keywords: dict[str, str]) -> list[str]:
    flow = load_flow(flow_dir)
    return [p.message for p in keyword_problems(flow, Translations(keywords), ["de", "ro"])]


def test_a_translated_keyword_of_two_screens_is_reported(flow_dir: Path) -> None:
    edit_flow(
        flow_dir, "topic.yaml", "    media: test.png", "    media: test.png\n    keywords: [Test]"
    )
    found = messages(flow_dir, {"topic.emergency": "urgenta, test", "topic.test": "test"})
    assert any("keyword 'test' (ro) also leads to 'topic.test' (de)" in m for m in found), found


def test_a_keyword_that_is_a_function_word_is_reported(flow_dir: Path) -> None:
    found = messages(flow_dir, {"topic.emergency": "urgenta, sunt"})
    assert any("'sunt' (ro) is a function word" in m for m in found), found


def test_a_keyword_hidden_by_a_crisis_word_is_reported(flow_dir: Path) -> None:
    edit_flow(
        flow_dir,
        "topic.yaml",
        "    media: test.png",
        "    media: test.png\n    crisis_words:\n      danger: [in gefahr, notfall*]",
    )
    found = messages(flow_dir, {})
    assert any(
        "keyword 'Notfall' (de) is a crisis word (danger: 'notfall*')" in m for m in found
    ), found


def test_the_crisis_screen_is_not_unreachable(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    edit_flow(
        flow_dir,
        "topic.yaml",
        "  emergency:\n",
        "  crisis:\n    kind: info\n    text: Hilfe 110.\n"
        "    crisis_words:\n      danger: [in gefahr]\n  emergency:\n",
    )
    result = check(flow_dir, minimal_deployment)
    assert result.ok
    assert not [p for p in result.warnings if p.node_id == "topic.crisis"]


def test_the_shipped_keywords_collide_nowhere_and_no_crisis_word_hides_one(
    example_deployment: Deployment,
) -> None:
    flow = load_flow(SHIPPED_FLOWS)
    catalogs = Catalogs.load(PROJECT_ROOT / "locales", example_deployment.languages)
    found = [p.message for p in keyword_problems(flow, catalogs, example_deployment.languages)]
    assert [m for m in found if "also leads to" in m or "crisis word" in m] == []
