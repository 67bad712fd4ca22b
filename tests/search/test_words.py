"""The stemmers' cache: bounded, whatever people type."""

from __future__ import annotations

from bot.dialogue.words import STEMS_KEPT, stemmer


def test_words_typed_by_anyone_cannot_grow_the_stem_cache_without_bound() -> None:
    stem = stemmer("de")
    for number in range(STEMS_KEPT + 1000):
        stem(f"wort{number}x")

    assert stem.cache_info().currsize <= STEMS_KEPT  # type: ignore[attr-defined]
