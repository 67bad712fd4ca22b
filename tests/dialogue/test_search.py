"""The search: BM25 over stems in one language, typos, parts of compounds, function words, and
the other languages only when the person's own finds nothing."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from bot.config import Deployment
from bot.dialogue.search import LanguageIndex, SearchIndex, terms
from bot.live_flows import LiveFlows
from tests.conftest import MINIMAL_LOCALES, edit_flow, engine_for


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


def test_two_typed_words_also_count_as_the_compound_the_screens_write() -> None:
    german = index("de", {**GERMAN, "housing.shelter": "Im Frauenhaus bist du geschützt"})
    search = SearchIndex({"de": german}, {})
    (hit,) = search.search("frauen haus", "de")
    assert hit.node_id == "housing.shelter"
    # the parts alone only start the screen's word ("frau"): without the join it counts less
    apart = german.scores(terms("frauen haus", "de"))
    assert hit.score > 1.5 * apart["housing.shelter"]


def test_each_language_is_indexed_on_first_use_and_warm_builds_the_others(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    engine = engine_for(flow_dir, minimal_deployment)
    assert engine.search.built() == []  # building the engine stems nothing
    assert [hit.node_id for hit in engine.search.search("gesundheitsamt", "de")] == ["topic.test"]
    assert engine.search.built() == ["de"]
    engine.search.warm()
    assert engine.search.built() == list(minimal_deployment.languages) == ["de", "ro"]


def test_an_index_is_built_once_when_several_threads_search_at_once() -> None:
    calls = []

    def build() -> LanguageIndex:
        calls.append(threading.get_ident())
        time.sleep(0.05)  # the others arrive while it builds
        return index("de", GERMAN)

    search = SearchIndex({"de": build}, {})
    found: list[list[str]] = []
    threads = [
        threading.Thread(
            target=lambda: found.append([hit.node_id for hit in search.search("schulden", "de")])
        )
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert found == [["money.debts"]] * 8


def test_a_reloaded_flow_is_indexed_before_it_serves(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    engine = engine_for(flow_dir, minimal_deployment)
    live = LiveFlows(flow_dir, MINIMAL_LOCALES, minimal_deployment, engine)
    edit_flow(flow_dir, "topic.yaml", "kannst du dich testen lassen.", "gibt es die Impfung.")
    reloaded = live.reload()
    assert reloaded.engine is not None
    assert reloaded.engine.search.built() == ["de", "ro"]
