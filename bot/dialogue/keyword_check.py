"""What `flows check` says about typed words in every language: keywords that collide, keywords
that catch ordinary words, and keywords that the crisis net hides.

The source check (check.py) refuses a German keyword given to two screens; translations come
from the catalogs, so their findings here are warnings for the translator to look at.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

from bot.dialogue.crisis import CrisisNet, crisis_entries
from bot.dialogue.flow import Flow, Problem, Severity
from bot.dialogue.render import PLACEHOLDER, Translator, keyword_context
from bot.dialogue.search import ignored_words, terms
from bot.dialogue.words import normalise, stop_words

SOURCE = "de"
# A one-word keyword found in the texts of this share of the other screens is an ordinary word
# of the content ("ajutor", help): a question about anything else that uses it jumps too.
ORDINARY_SHARE = 0.2


def keyword_problems(flow: Flow, translator: Translator, languages: Iterable[str]) -> list[Problem]:
    """Warnings about the keywords of every screen in the source and every offered language."""
    languages = [language for language in languages if language != SOURCE]
    net = CrisisNet(crisis_entries(flow, translator, languages))
    owners: dict[str, tuple[str, str]] = {}
    problems: list[Problem] = []
    for language in (SOURCE, *languages):
        texts = _screen_terms(flow, translator, language)
        for node_id, keyword in _keywords(flow, translator, language):
            owner = owners.setdefault(normalise(keyword), (node_id, language))
            said = f"keyword '{keyword}' ({language})"
            findings = []
            if owner[0] != node_id:
                findings.append(f"{said} also leads to '{owner[0]}' ({owner[1]}); the first wins")
            if (crisis := net.match(keyword)) is not None:
                findings.append(
                    f"{said} is a crisis word ({crisis.group}: '{crisis.written}'): typing it "
                    f"shows '{crisis.node_id}' instead"
                )
            if (ordinary := _ordinary(keyword, node_id, language, texts)) is not None:
                findings.append(f"{said} {ordinary}, and a question with it jumps here")
            where = flow.where(node_id, "keywords")
            problems += [Problem(where, text, node_id, Severity.WARNING) for text in findings]
    return problems


def _ordinary(keyword: str, node_id: str, language: str, texts: dict[str, set[str]]) -> str | None:
    """Why a one-word keyword is an ordinary word, if it is: a function word of the language,
    or a word the texts of other screens use."""
    word = normalise(keyword)
    if " " in word:
        return None
    if word in stop_words(language):
        return "is a function word of the language"
    (stem,) = terms(word, language) or ("",)
    elsewhere = sorted(
        other for other, found in texts.items() if other != node_id and stem in found
    )
    if not stem or len(elsewhere) < ORDINARY_SHARE * len(texts):
        return None
    shown = ", ".join(elsewhere[:3]) + (", ..." if len(elsewhere) > 3 else "")
    return f"is an ordinary word here: the texts of {len(elsewhere)} other screens use it ({shown})"


def _keywords(flow: Flow, translator: Translator, language: str) -> Iterator[tuple[str, str]]:
    """(node id, keyword) in one language: the source list, or the catalog's translation."""
    for node_id, node in flow.nodes.items():
        if not node.keywords:
            continue
        source = ", ".join(node.keywords)
        written = (
            source
            if language == SOURCE
            else translator.translate(language, keyword_context(node_id), source)
        )
        for keyword in written.split(","):
            if keyword.strip() and normalise(keyword):
                yield node_id, keyword.strip()


def _screen_terms(flow: Flow, translator: Translator, language: str) -> dict[str, set[str]]:
    """The stems of each screen's text in one language."""
    found: dict[str, set[str]] = defaultdict(set)
    ignored = ignored_words(language, ())
    for node_id, node in flow.nodes.items():
        text = PLACEHOLDER.sub(" ", translator.translate(language, node_id, node.text))
        found[node_id].update(terms(text, language, ignored))
    return found
