"""Search over the screens for typed questions: BM25 over stems, one index per language.

A screen's document is its text, the labels of the buttons that lead to it and its keywords, in
the catalog of each language (labels and keywords count LABEL_WEIGHT times: they name the
screen in the words people use). Words are case- and accent-folded and stemmed (words.py); a
typed word that is not in a language's vocabulary matches the vocabulary words one letter off,
at a lower weight; two neighbouring typed words also count as the one word they make, when the
screens know it ("frauen haus"). Words found in more than COMMON_SHARE of a language's screens
("ich", "du", "the") are left out of that index: they find everything, so they say nothing.
Each language's index is built on its first use, or all at once by SearchIndex.warm.

BM25 itself is the classic formula (Robertson et al.; k1, b as in Lucene's defaults). It is
written out here because the few hundred screens need a dictionary, not the sparse matrices of
bm25s or the numpy of rank-bm25.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from bot.dialogue.flow import Flow
from bot.dialogue.render import PLACEHOLDER, Renderer, keyword_context
from bot.dialogue.schema import GlobalAction
from bot.dialogue.words import LONGEST_WORD, near_misses, normalise, stemmer, stop_words

K1 = 1.2
B = 0.75
LABEL_WEIGHT = 4
COMMON_SHARE = 0.25
# How much a word one letter off counts, against the word itself; and a word that is the start
# or end of a longer one ("schlaf" in "schlafplatz", "versicherung" in "krankenversicherung").
NEAR_MISS_WEIGHT = 0.7
PART_WEIGHT = 0.5
PART_LENGTH = 4
# Words at least this long also match vocabulary words that start with the same letters.
SHARED_START = 7
# Words of labels and keywords at least this long are not function words, whatever a stop word
# list says ("help", "work").
NAMING_LENGTH = 4
SUGGESTIONS = 3
# A language other than the person's answers only if it knows at least this share of the
# typed words: one English word in a Turkish text says little.
OTHER_LANGUAGE_SHARE = 0.5
# At most this many longer words per typed word.
PARTS = 20


@dataclass(frozen=True, slots=True)
class Hit:
    node_id: str
    score: float
    language: str  # the language whose index found it


def terms(text: str, language: str, ignored: frozenset[str] = frozenset()) -> list[str]:
    """The index terms of a text: folded, stemmed words; `ignored` words, single letters,
    numbers and "words" too long to be any left out."""
    stem = stemmer(language)
    return [
        stem(word)
        for word in normalise(text).split()
        if 1 < len(word) <= LONGEST_WORD and not word.isdigit() and word not in ignored
    ]


def joined_terms(text: str, language: str) -> list[str]:
    """The stems of each two neighbouring words written as one: people split the compounds
    their language writes as one word ("frauen haus", "weg machen", "egeszseg biztositas")."""
    stem = stemmer(language)
    words = normalise(text).split()
    return [
        stem(first + second)
        for first, second in itertools.pairwise(words)
        if first.isalpha() and second.isalpha() and len(first + second) <= LONGEST_WORD
    ]


def ignored_words(language: str, naming: Iterable[str]) -> frozenset[str]:
    """The function words of a language ("ich", "bin", "sunt"), except those the flow names a
    screen with: the English list has "help", "work" and "test", which are labels here."""
    named = {
        word for text in naming for word in normalise(text).split() if len(word) >= NAMING_LENGTH
    }
    return stop_words(language) - named


class LanguageIndex:
    """BM25 over the screens of one language."""

    def __init__(
        self,
        language: str,
        documents: Mapping[str, list[str]],
        ignored: frozenset[str] = frozenset(),
    ) -> None:
        self.language = language
        self.ignored = ignored
        frequencies = {node_id: Counter(words) for node_id, words in documents.items()}
        count = len(frequencies) or 1
        document_frequency = Counter(term for tf in frequencies.values() for term in tf)
        common = {
            term for term, n in document_frequency.items() if n > 1 and n / count > COMMON_SHARE
        }
        self.lengths = {node_id: sum(tf.values()) for node_id, tf in frequencies.items()}
        self.average_length = sum(self.lengths.values()) / count or 1.0
        self.postings: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for node_id, tf in frequencies.items():
            for term, n in tf.items():
                if term not in common:
                    self.postings[term].append((node_id, n))
        self.idf = {
            term: math.log(1 + (count - len(posting) + 0.5) / (len(posting) + 0.5))
            for term, posting in self.postings.items()
        }
        self.vocabulary = sorted(self.postings)
        near: dict[str, set[str]] = defaultdict(set)
        for term in self.postings:
            for key in near_misses(term):
                near[key].add(term)
        # kept as tuples: most keys name one term, and a set of one costs four times a tuple
        self.near: dict[str, tuple[str, ...]] = {key: tuple(sorted(t)) for key, t in near.items()}

    def scores(self, query: Iterable[str]) -> dict[str, float]:
        scores: dict[str, float] = defaultdict(float)
        for term, weight in self.matched(query).items():
            idf = self.idf[term]
            for node_id, tf in self.postings[term]:
                norm = K1 * (1 - B + B * self.lengths[node_id] / self.average_length)
                scores[node_id] += weight * idf * tf * (K1 + 1) / (tf + norm)
        return scores

    def matched(self, query: Iterable[str]) -> dict[str, float]:
        """The vocabulary terms a query stands for, with their weights."""
        matched: dict[str, float] = {}
        for word in set(query):
            for term, weight in self._standing_for(word):
                matched[term] = max(matched.get(term, 0.0), weight)
        return matched

    def share_known(self, query: list[str]) -> float:
        """The share of a query's words that this language's screens know (0 for no words)."""
        words = set(query)
        known = sum(1 for word in words if next(self._standing_for(word), None))
        return known / len(words) if words else 0.0

    def _standing_for(self, word: str) -> Iterator[tuple[str, float]]:
        if word in self.postings:
            yield word, 1.0
            return
        for key in near_misses(word):
            for term in self.near.get(key, ()):
                yield term, NEAR_MISS_WEIGHT
        for term in self._parts(word):
            yield term, PART_WEIGHT

    def _parts(self, word: str) -> Iterator[str]:
        """Vocabulary words that start with `word`, and those `word` starts or ends with."""
        if not PART_LENGTH <= len(word) <= LONGEST_WORD:
            return
        # words that start like it: "krankenkass" and "krankenversich" share "kranken"
        shared = word if len(word) < SHARED_START else word[:SHARED_START]
        start = bisect.bisect_left(self.vocabulary, shared)
        for term in self.vocabulary[start : start + PARTS]:
            if not term.startswith(shared):
                break
            yield term
        for length in range(PART_LENGTH, len(word)):
            for part in (word[:length], word[-length:]):
                if part in self.postings:
                    yield part


class SearchIndex:
    """One BM25 index per offered language, and each screen's title in each language.

    A language's index is built on its first use (or by `warm`, which a running bot calls in a
    thread at start and before a reloaded flow serves): building all of them stems some 8,000
    words and loads the Bulgarian dictionary, which would otherwise delay every start and
    every `flows check`. Safe to use from several threads; each index is built once."""

    def __init__(
        self,
        indexes: Mapping[str, LanguageIndex | Callable[[], LanguageIndex]],
        titles: Mapping[tuple[str, str], str],
    ) -> None:
        """`indexes` maps each language to its index, or to the function that builds it."""
        self.languages = tuple(indexes)
        self._built = {
            language: index
            for language, index in indexes.items()
            if isinstance(index, LanguageIndex)
        }
        self._builders = {
            language: build
            for language, build in indexes.items()
            if not isinstance(build, LanguageIndex)
        }
        self._building = {language: threading.Lock() for language in self._builders}
        self.titles = dict(titles)
        # the screens a suggestion button may lead to
        self.node_ids = frozenset(node_id for node_id, _ in self.titles)

    def index(self, language: str) -> LanguageIndex | None:
        """The index of one language (built now if it is not yet), None for one not offered."""
        index = self._built.get(language)
        if index is not None or language not in self._builders:
            return index
        with self._building[language]:
            index = self._built.get(language)
            if index is None:
                index = self._builders[language]()
                self._built[language] = index
        return index

    def warm(self) -> None:
        """Build every language's index that is not built yet."""
        for language in self.languages:
            self.index(language)

    def built(self) -> list[str]:
        """The languages whose index is built."""
        return [language for language in self.languages if language in self._built]

    def search(self, text: str, language: str, limit: int = SUGGESTIONS) -> list[Hit]:
        """The best screens for a typed text: in `language` first; only if that finds nothing,
        in every other language (someone who chose German may still type Romanian)."""
        own = self._in(text, language)
        if own:
            return own[:limit]
        found: dict[str, Hit] = {}
        for other in self.languages:
            if other == language:
                continue
            for hit in self._in(text, other, OTHER_LANGUAGE_SHARE):
                if hit.node_id not in found or found[hit.node_id].score < hit.score:
                    found[hit.node_id] = hit
        return sorted(found.values(), key=lambda hit: (-hit.score, hit.node_id))[:limit]

    def title(self, node_id: str, language: str) -> str:
        return self.titles.get((node_id, language), node_id)

    def _in(self, text: str, language: str, share: float = 0.0) -> list[Hit]:
        """The hits in one language; none unless it knows at least `share` of the words."""
        index = self.index(language)
        if index is None:
            return []
        query = terms(text, language, index.ignored)
        query += [term for term in joined_terms(text, language) if term in index.postings]
        if share and index.share_known(query) < share:
            return []
        scores = index.scores(query)
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        return [Hit(node_id, score, language) for node_id, score in ranked]


def build_search(flow: Flow, renderer: Renderer, languages: Iterable[str]) -> SearchIndex:
    """The index of every screen in every language, from the flow and its catalogs: the titles
    now, each language's index on first use (SearchIndex.warm builds them all)."""
    builders: dict[str, Callable[[], LanguageIndex]] = {}
    titles: dict[tuple[str, str], str] = {}
    # the crisis net's screens are no suggestion, even where a button leads to one
    crisis = {node_id for node_id, node in flow.nodes.items() if node.crisis_words}
    for language in languages:
        texts = list(_document_texts(flow, renderer, language))
        for node_id, text, kind in texts:
            if kind == "label" and node_id not in crisis:
                titles.setdefault((node_id, language), text)
        for node_id, node in flow.nodes.items():
            if node_id not in crisis and (node_id, language) not in titles:
                first_line = renderer.text(language, node_id, node.text).strip().splitlines()[0]
                titles[(node_id, language)] = first_line
        builders[language] = functools.partial(_language_index, flow, language, texts)
    return SearchIndex(builders, titles)


def _language_index(flow: Flow, language: str, texts: list[tuple[str, str, str]]) -> LanguageIndex:
    """The index of one language over (node id, text, kind) of _document_texts."""
    ignored = ignored_words(language, (text for _, text, kind in texts if kind != "text"))
    documents: dict[str, list[str]] = {}
    for node_id, text, kind in texts:
        weight = 1 if kind == "text" else LABEL_WEIGHT
        documents.setdefault(node_id, []).extend(terms(text, language, ignored) * weight)
    for node_id, node in flow.nodes.items():
        if node.crisis_words:  # typed crisis words open it; it is no answer to a question
            documents.pop(node_id, None)
    return LanguageIndex(language, documents, ignored)


def _document_texts(
    flow: Flow, renderer: Renderer, language: str
) -> Iterator[tuple[str, str, str]]:
    """(node id, text, kind): each screen's text, the labels leading to it, its keywords.
    Placeholders are left out ({service.phone} is not a word anyone types)."""
    translate = renderer.translator.translate
    for node_id, node in flow.nodes.items():
        yield node_id, PLACEHOLDER.sub(" ", translate(language, node_id, node.text)), "text"
        for option in node.options:
            target = option.goto or flow.global_target(option.action or GlobalAction.EXIT)
            if target is not None and target != node_id:
                yield target, renderer.text(language, node_id, option.label), "label"
        if node.keywords:
            source = ", ".join(node.keywords)
            translated = translate(language, keyword_context(node_id), source)
            yield node_id, f"{translated}, {source}", "keywords"
