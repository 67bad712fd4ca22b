"""Typed text as words: case and accent folding, stems per language, and near misses.

Shared by the keyword match, the crisis net and the search, so that all three read "Sunt
insarcinata", "sunt însărcinată" and "SUNT ÎNSĂRCINATĂ" the same way.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import cache, lru_cache

import snowballstemmer
from stop_words import StopWordError, get_stop_words

# Letters that Unicode does not decompose into a base letter and an accent (Turkish dotless ı,
# Polish ł), so that "yardim" matches "yardım" as "ajutor" matches "ajutór".
_UNDECOMPOSABLE = str.maketrans({"ı": "i", "ł": "l", "ø": "o", "đ": "d"})
# Letters whose NFKD form is a base letter with a mark, but which are letters of their own: the
# Bulgarian й is not an и with an accent (and the lemmatiser knows "мой", not "мои"). They are
# set aside (as a private-use character) while the accents come off.
_OWN_LETTERS = {"й": "\ue000"}
_SET_ASIDE = str.maketrans(_OWN_LETTERS)
_SET_ASIDE_CHARS = frozenset(_OWN_LETTERS.values())
_PUT_BACK = str.maketrans({aside: letter for letter, aside in _OWN_LETTERS.items()})

# Snowball algorithms by the base language of an offered language (de@easy uses German).
SNOWBALL = {
    "de": "german",
    "en": "english",
    "ro": "romanian",
    "hu": "hungarian",
    "es": "spanish",
    "tr": "turkish",
    "ru": "russian",
    "pl": "polish",
}
# Snowball has no Bulgarian; simplemma's dictionary lemmatises it (bundled in the wheel), in its
# low-memory form: 3.5 MB instead of 24, the same lemmas (the stems are cached anyway).
LEMMATISED = frozenset({"bg"})
# Words shorter than this are matched exactly: "arzt" and "amt" are one letter apart.
NEAR_MISS_LENGTH = 5
# Longer "words" are no words (a pasted link, "xxxx…"): matched exactly, so that a 4,000
# character message costs no more than a short one.
LONGEST_WORD = 40


# The folding table keeps at most this many characters (the alphabets of the offered languages
# and their punctuation need a few hundred).
FOLDING_KEPT = 10_000


class _Folding(dict[int, str]):
    """The table `str.translate` folds decomposed text with: accents (combining marks) go, other
    characters that are neither letters nor digits become spaces, a letter set aside comes
    back. Filled per character on first sight (up to FOLDING_KEPT characters: typed text may
    bring any of a million), so that folding costs one C call per text."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        if unicodedata.combining(char):
            folded = ""
        elif char in _SET_ASIDE_CHARS:
            folded = char.translate(_PUT_BACK)
        else:
            folded = char if char.isalnum() else " "
        if len(self) < FOLDING_KEPT:
            self[code] = folded
        return folded


_FOLDING = _Folding()


def normalise(text: str) -> str:
    """Lower case, no accents, words separated by single spaces: for matching typed keywords."""
    lowered = text.casefold().translate(_UNDECOMPOSABLE).translate(_SET_ASIDE)
    decomposed = unicodedata.normalize("NFKD", lowered)
    return " ".join(decomposed.translate(_FOLDING).split())


def base_language(language: str) -> str:
    """de@easy -> de, pt_BR -> pt."""
    for separator in "@_-":
        language = language.split(separator, 1)[0]
    return language


# Per language: more than the words of all flows and catalogs (about 6,000 in German).
STEMS_KEPT = 50_000


@cache
def stemmer(language: str) -> Callable[[str], str]:
    """The function that reduces a folded word of `language` to its stem (or lemma); the word
    itself for a language without one. The stems of the most recent STEMS_KEPT words are kept:
    the flows' words are stemmed once, and words typed by anyone cannot grow the cache."""
    base = base_language(language)
    if base in LEMMATISED:
        import simplemma  # its dictionaries load on first use, per language

        def lemma(word: str) -> str:
            return normalise(simplemma.lemmatize(word, lang=base, low_memory=True))

        return lru_cache(STEMS_KEPT)(lemma)
    algorithm = SNOWBALL.get(base)
    if algorithm is None:
        return str
    snowball = snowballstemmer.stemmer(algorithm)
    return lru_cache(STEMS_KEPT)(snowball.stemWord)


def near_misses(word: str, length: int = NEAR_MISS_LENGTH) -> set[str]:
    """The word and every form of it with one letter left out. Two words share one of these
    when they differ by one letter typed wrong, added, left out or swapped (a deletion
    neighbourhood, as SymSpell uses it); words shorter than `length` only match themselves."""
    if not length <= len(word) <= LONGEST_WORD:
        return {word}
    return {word, *(word[:index] + word[index + 1 :] for index in range(len(word)))}


@cache
def stop_words(language: str) -> frozenset[str]:
    """The language's function words ("ich", "bin", "sunt"), folded: they say nothing about what
    a question is about. Empty for a language the stop-words package does not list."""
    try:
        words = get_stop_words(base_language(language))
    except StopWordError:
        return frozenset()
    return frozenset(normalise(word) for word in words)
