"""The crisis net: words and phrases of suicidal thoughts, acute danger, violence, rape or being
held, in every offered language, that lead to a crisis screen before anything else happens.

A node's `crisis_words` are written as typed: case and accents do not matter, `*` at the end of a
word also matches longer words ("umbring*" matches "umbringen", "umbringe"), and a phrase matches
its words in a row ("bring* mich um"). A typed word of at least CRISIS_NEAR_MISS_LENGTH letters
also matches a crisis word one letter off ("vergewaltikt"): here a false alarm (the 24/7 numbers
shown once too often) costs far less than a missed one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from bot.dialogue.flow import Flow
from bot.dialogue.render import Translator, crisis_context
from bot.dialogue.words import near_misses, normalise

WILDCARD = "*"
# Shorter words are matched exactly: "schlafen" must not pass for "schlagen".
CRISIS_NEAR_MISS_LENGTH = 9


@dataclass(frozen=True, slots=True)
class CrisisWord:
    """One entry of a crisis list as written, folded into words; `prefixes` says which of them
    were written with a * (and match longer words too)."""

    written: str
    words: tuple[str, ...]
    prefixes: tuple[bool, ...]
    node_id: str
    group: str
    language: str


def crisis_entries(
    flow: Flow, translator: Translator, languages: Iterable[str]
) -> Iterator[CrisisWord]:
    """Every crisis word of every node: the source list and each language's translated one
    (comma-separated in the catalog, so translators add as many as their language needs)."""
    for node_id, node in flow.nodes.items():
        for group, words in node.crisis_words.items():
            source = ", ".join(words)
            lists = {"": source}
            for language in languages:
                lists[language] = translator.translate(
                    language, crisis_context(node_id, group), source
                )
            for language, written in lists.items():
                for entry in written.split(","):
                    word = crisis_word(entry, node_id, group, language)
                    if word is not None:
                        yield word


def crisis_word(entry: str, node_id: str, group: str, language: str) -> CrisisWord | None:
    """One entry as written in a list ("bring* mich um"), or None if it has no words."""
    entry = entry.strip()
    words: list[str] = []
    prefixes: list[bool] = []
    for token in entry.split():
        parts = normalise(token).split()  # "m-a" is two words, as typed text is folded
        words += parts
        prefixes += [False] * (len(parts) - 1) + [token.endswith(WILDCARD)] * bool(parts)
    if not words:
        return None
    return CrisisWord(entry, tuple(words), tuple(prefixes), node_id, group, language)


class CrisisNet:
    """Finds the first crisis word in a typed text. Built once per engine; lookups are by
    dictionary, so the cost does not grow with the length of the lists."""

    def __init__(self, entries: Iterable[CrisisWord]) -> None:
        self._whole: dict[str, list[CrisisWord]] = defaultdict(list)
        self._prefixes: dict[int, dict[str, list[CrisisWord]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self.entries = tuple(entries)
        for entry in self.entries:
            first = entry.words[0]
            if entry.prefixes[0]:
                for key in near_misses(first, CRISIS_NEAR_MISS_LENGTH):
                    self._prefixes[len(first)][key].append(entry)
            else:
                for key in near_misses(first, CRISIS_NEAR_MISS_LENGTH):
                    self._whole[key].append(entry)

    def match(self, text: str) -> CrisisWord | None:
        """The crisis word found earliest in `text`, or None."""
        typed = normalise(text).split()
        for position, word in enumerate(typed):
            for entry in self._candidates(word):
                if _rest_matches(entry, typed, position):
                    return entry
        return None

    def _candidates(self, word: str) -> Iterable[CrisisWord]:
        for key in near_misses(word, CRISIS_NEAR_MISS_LENGTH):
            yield from self._whole.get(key, ())
        for length, entries in self._prefixes.items():
            if len(word) < length - 1:
                continue  # every key of these is at least length - 1 letters long
            # the prefix typed right or one letter off; one letter more or fewer typed in it
            keys = near_misses(word[:length], CRISIS_NEAR_MISS_LENGTH)
            if len(word) > length:
                keys |= near_misses(word[: length + 1], CRISIS_NEAR_MISS_LENGTH)
            keys.add(word[: length - 1])
            for key in keys:
                yield from entries.get(key, ())


def _rest_matches(entry: CrisisWord, typed: list[str], position: int) -> bool:
    """The words after the first of a phrase, in a row (as prefixes where written with *)."""
    rest = entry.words[1:]
    following = typed[position + 1 : position + 1 + len(rest)]
    if len(following) < len(rest):
        return False
    return all(
        word.startswith(written) if prefix else word == written
        for written, prefix, word in zip(rest, entry.prefixes[1:], following, strict=True)
    )


def crisis_net(flow: Flow, translator: Translator, languages: Mapping[str, str]) -> CrisisNet:
    return CrisisNet(crisis_entries(flow, translator, languages))
