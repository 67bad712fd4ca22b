"""The search: BM25 over stems in one language, typos, parts of compounds, function words, and
the other languages only when the person's own finds nothing."""

from __future__ import annotations

from bot.dialogue.search import LanguageIndex, SearchIndex, terms


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
