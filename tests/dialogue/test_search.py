"""The search: BM25 over stems in one language, typos, parts of compounds, function words, and
the other languages only when the person's own finds nothing."""

from __future__ import annotations

from pathlib import Path

from bot.config import Deployment
from bot.dialogue.search import LanguageIndex, SearchIndex, terms
from tests.conftest import edit_flow, engine_for


def index(language: str, documents: dict[str, str]) -> LanguageIndex:
    return LanguageIndex(
        language, {node_id: terms(text, language) for node_id, text in documents.items()}
    )


GERMAN = {
    "health.pregnancy": "Schwanger? Beratung zur Schwangerschaft und Verhütung",
    "health.insurance": "Krankenversicherung: wer ist versichert",
    "housing.no_place": "Kein Schlafplatz? Notunterkunft für die Nacht",
    "money.debts": "Schulden: die Schuldnerberatung hilft",
}


def ranked(search: LanguageIndex, text: str) -> list[str]:
    scores = search.scores(terms(text, search.language))
    return sorted(scores, key=lambda node_id: -scores[node_id])


def test_stems_find_other_forms_of_a_word() -> None:
    assert ranked(index("de", GERMAN), "schwangerschaft")[0] == "health.pregnancy"
    assert ranked(index("de", GERMAN), "ich bin versichert")[0] == "health.insurance"


def test_a_typo_still_finds_the_screen() -> None:
    assert ranked(index("de", GERMAN), "schwnager")[0] == "health.pregnancy"


def test_a_part_of_a_compound_finds_the_screen() -> None:
    assert ranked(index("de", GERMAN), "schlaf")[0] == "housing.no_place"
    assert ranked(index("de", GERMAN), "versicherung")[0] == "health.insurance"
    assert ranked(index("de", GERMAN), "krankenkasse")[0] == "health.insurance"


def test_function_words_alone_find_nothing() -> None:
    german = LanguageIndex(
        "de",
        {node_id: terms(text, "de") for node_id, text in GERMAN.items()},
        ignored=frozenset({"die", "ich", "bin", "wer", "ist"}),
    )
    assert german.scores(terms("ich bin die", "de", german.ignored)) == {}


def test_the_persons_language_first_then_the_others() -> None:
    romanian = index("ro", {"health.pregnancy": "Sarcină", "money.debts": "Datorii"})
    search = SearchIndex(
        {"de": index("de", GERMAN), "ro": romanian},
        {("health.pregnancy", "de"): "Schwanger"},
    )
    (found,) = search.search("datorii", "de")
    assert (found.node_id, found.language) == ("money.debts", "ro")
    assert [hit.language for hit in search.search("schulden", "de")] == ["de"]
    # one known word of two is not enough for another language to answer
    assert search.search("datorii xyzzy qwerty", "de") == []
    assert search.title("health.pregnancy", "de") == "Schwanger"
    assert search.title("money.debts", "de") == "money.debts"


def test_the_index_is_built_with_the_engine_so_a_reloaded_flow_is_searched_as_it_is_now(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    before = engine_for(flow_dir, minimal_deployment)
    assert [hit.node_id for hit in before.search.search("gesundheitsamt", "de")] == ["topic.test"]
    assert before.search.search("impfung", "de") == []
    edit_flow(flow_dir, "topic.yaml", "kannst du dich testen lassen.", "gibt es die Impfung.")
    after = engine_for(flow_dir, minimal_deployment)
    assert [hit.node_id for hit in after.search.search("impfung", "de")] == ["topic.test"]
