"""Typed text as words: folding, stems per language, near misses."""

from __future__ import annotations

import pytest

from bot.dialogue import words
from bot.dialogue.words import near_misses, normalise, stemmer, stop_words


def test_case_accents_and_punctuation_are_folded() -> None:
    assert normalise("Sunt ÎNSĂRCINATĂ!!  yardım, Straße") == "sunt insarcinata yardim strasse"


def test_the_bulgarian_short_i_stays_a_letter_of_its_own() -> None:
    assert normalise("Мой ПАСПОРТ") == "мой паспорт"


def test_easy_german_is_stemmed_as_german_and_bulgarian_is_lemmatised() -> None:
    assert stemmer("de@easy")("schwangerschaft") == stemmer("de")("schwangerschaft")
    assert stemmer("bg")("бременна") == stemmer("bg")("бременен")
    assert stemmer("ro")("insarcinata") == stemmer("ro")("insarcinat")
    assert stemmer("xx")("word") == "word"


def test_near_misses_of_short_words_are_only_the_word() -> None:
    assert near_misses("arzt") == {"arzt"}
    # one letter wrong: both lose it to the same word
    assert near_misses("insurence") & near_misses("insurance") == {"insurnce"}
    assert not near_misses("schwanger") & near_misses("schuldner")


def test_function_words_are_folded_and_unknown_languages_have_none() -> None:
    assert "sa" in stop_words("ro")
    assert stop_words("xx") == frozenset()


def test_folding_is_the_same_for_characters_past_the_kept_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = "Ⅻ ﬁ ½ ²x Й ǅ ä̈ a_b ŞEKİL"
    expected = normalise(text)
    monkeypatch.setattr(words, "_FOLDING", words._Folding())
    monkeypatch.setattr(words, "FOLDING_KEPT", 0)  # nothing is kept: each character folds anew
    assert normalise(text) == expected == "xii fi 1 2 2x й dz a a b sekil"
    assert len(words._FOLDING) == 0
