"""How complete and how safe each translation is: `wegweiser i18n status`, and the translation
part of `wegweiser flows check`.

Counted against the template made from the flows as they are now, so a catalog that was not
updated after a flow edit shows its new texts as missing. Errors are what would mislead a person:
a placeholder, number, command, link or address that a translation drops, changes or adds, markup
that Telegram would show as plain characters, and texts over Telegram's limits. Missing and fuzzy
texts are not errors: the bot shows them in English or German, and the status counts them.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from babel import Locale
from babel.messages.catalog import Catalog, Message

from bot.dialogue.check import LABEL_LENGTH, MESSAGE_LIMIT, SCREEN_LENGTH
from bot.dialogue.engine import normalise
from bot.dialogue.flow import Flow, Location, Problem, Severity
from bot.dialogue.loader import shown_path
from bot.dialogue.render import (
    PLACEHOLDER,
    SYSTEM_CONTEXT,
    ContactEntry,
    Renderer,
    Value,
    keyword_context,
    node_source,
)
from bot.i18n.catalogs import (
    SOURCE_LANGUAGE,
    CatalogError,
    Catalogs,
    Review,
    catalog_languages,
    catalog_path,
    compiled,
    fallback_chain,
    is_reviewed,
    read_catalog,
    review_of,
)
from bot.i18n.messages import FlowMessage, Kind, flow_messages

NUMBER = re.compile(r"\d+(?:[ \u00a0.]\d+)*")
COMMAND = re.compile(r"(?<![\w/])/[a-z_]+\b")
# Web addresses with a scheme or www., e-mail addresses, and plain domains ("hilfetelefon.de"):
# a translation must keep each as written, a changed domain would send the person elsewhere.
LINK = re.compile(
    r"https?://[^\s)]+|www\.[^\s)]+|[\w.+-]+@[\w-]+\.[\w.-]+"
    r"|(?<![\w@/.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:de|eu|com|org|net|info)\b(?:/[^\s)]*)?"
)
# Translations run up to a third longer than the German: warn a little later than for the source.
TRANSLATED_SCREEN_LENGTH = round(SCREEN_LENGTH * 4 / 3)
# Messages are sent as plain text: tags and Markdown would reach the person as typed.
MARKUP = re.compile(r"</?[a-zA-Z][^<>]*>|\*\*|__|```")


Found = TypeVar("Found", str, tuple[str, str])


@dataclass(frozen=True, slots=True)
class LanguageStatus:
    language: str
    name: str
    offered: bool
    path: Path | None
    total: int
    translated: int = 0
    fuzzy: int = 0
    missing: int = 0
    reviewed: int = 0  # translated entries a reviewer marked as checked
    review: Review | None = None
    review_note: str = ""

    @property
    def is_source(self) -> bool:
        return self.language == SOURCE_LANGUAGE


@dataclass(frozen=True)
class TranslationReport:
    languages: list[LanguageStatus]
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]


def check_translations(
    flow: Flow,
    locales: Path,
    offered: Iterable[str],
    *,
    placeholders: Mapping[str, Value],
    contacts: Mapping[str, ContactEntry],
    names: Mapping[str, str] | None = None,
) -> TranslationReport:
    """Status and problems of every catalog in `locales` and every offered language."""
    offered = list(offered)
    # A text written twice in one context (a label and a command description) is one entry.
    messages = list({(m.context, m.text): m for m in flow_messages(flow)}.values())
    names = dict(names or {})
    languages = [*offered, *(c for c in catalog_languages(locales) if c not in offered)]
    statuses: list[LanguageStatus] = []
    problems: list[Problem] = []
    catalogs: dict[str, tuple[Catalog, str]] = {}
    for language in languages:
        name = names.get(language) or _own_name(language)
        if language == SOURCE_LANGUAGE:
            statuses.append(LanguageStatus(language, name, True, None, len(messages)))
            continue
        path = catalog_path(locales, language)
        where = Location(shown_path(path), 1)
        if not path.is_file():
            statuses.append(LanguageStatus(language, name, True, None, len(messages)))
            problems.append(
                Problem(
                    Location(shown_path(path), 0),
                    f"language '{language}' is offered in the deployment file but has no "
                    "catalog: run `wegweiser i18n update`, then translate it",
                )
            )
            continue
        try:
            catalog = read_catalog(path)
        except CatalogError as error:
            file, line, message = str(error).split(":", 2)
            problems.append(Problem(Location(file, int(line)), message.strip()))
            continue
        catalogs[language] = (catalog, where.file)
        status = _status(language, name, language in offered, path, catalog, messages)
        statuses.append(status)
        problems.extend(_entry_problems(catalog, messages, where.file))
        if status.review is Review.DRAFT:
            said = f"{language}: the translation is a draft, awaiting review by a native speaker"
            if not status.review_note.startswith(Review.DRAFT):
                said += f" ({status.review_note})"
            problems.append(Problem(where, said, severity=Severity.WARNING))
        if status.fuzzy or status.missing:
            fallback = " or ".join(_own_name(c) for c in fallback_chain(language)[1:])
            problems.append(
                Problem(
                    where,
                    f"{language}: {status.missing} text(s) untranslated and {status.fuzzy} "
                    f"fuzzy, shown in {fallback} until translated (`wegweiser i18n update`, "
                    "then translate)",
                    severity=Severity.WARNING,
                )
            )
    problems.extend(_keyword_collisions(flow, catalogs))
    translator = Catalogs({language: compiled(c) for language, (c, _) in catalogs.items()})
    renderer = Renderer(translator, flow.facts, placeholders, contacts)
    for language, (catalog, file) in catalogs.items():
        problems.extend(_screen_lengths(flow, renderer, language, catalog, file))
    return TranslationReport(statuses, problems)


def _own_name(language: str) -> str:
    return Locale.parse(language).get_display_name(language) or language


def _status(
    language: str,
    name: str,
    offered: bool,
    path: Path,
    catalog: Catalog,
    messages: list[FlowMessage],
) -> LanguageStatus:
    translated = fuzzy = reviewed = 0
    for message in messages:
        entry = catalog.get(message.text, message.context)
        if entry is None or not entry.string:
            continue
        if entry.fuzzy:
            fuzzy += 1
        else:
            translated += 1
            reviewed += is_reviewed(entry)
    review, note = review_of(catalog.header_comment)
    return LanguageStatus(
        language,
        name,
        offered,
        path,
        total=len(messages),
        translated=translated,
        fuzzy=fuzzy,
        missing=len(messages) - translated - fuzzy,
        reviewed=reviewed,
        review=review,
        review_note=note,
    )


def _entry_problems(catalog: Catalog, messages: list[FlowMessage], file: str) -> Iterator[Problem]:
    for message in messages:
        entry = catalog.get(message.text, message.context)
        if entry is None or not entry.string or entry.fuzzy:
            continue
        where = Location(file, entry.lineno or 0)
        on_a_node = message.kind in (Kind.SCREEN, Kind.LABEL) and not message.context.startswith(
            f"{SYSTEM_CONTEXT}."
        )
        node_id = message.context if on_a_node else None
        for text, severity in translation_problems(message, _text(entry)):
            yield Problem(where, text, node_id, severity)


def _text(entry: Message) -> str:
    string = entry.string
    if isinstance(string, str):
        return string
    return string[0] if string else ""


def translation_problems(message: FlowMessage, translated: str) -> Iterator[tuple[str, Severity]]:
    """What a translation must keep of its source, and the limits it must fit."""
    error, warning = Severity.ERROR, Severity.WARNING
    if message.kind is Kind.KEYWORDS:
        return
    source = message.text
    lost, added = _difference(PLACEHOLDER.findall(source), PLACEHOLDER.findall(translated))
    for group, name in lost:
        yield f"translation drops the placeholder {{{group}.{name}}}", error
    for group, name in added:
        yield f"translation adds the placeholder {{{group}.{name}}}, which the source lacks", error
    if translated.count("{") != translated.count("}"):
        yield "translation has a '{' or '}' without its partner", error
    plain_source, plain_translated = PLACEHOLDER.sub("", source), PLACEHOLDER.sub("", translated)
    for kind, pattern in (("number", NUMBER), ("command", COMMAND), ("link or address", LINK)):
        lost, _ = _difference(
            [_folded(found) for found in pattern.findall(plain_source)],
            [_folded(found) for found in pattern.findall(plain_translated)],
        )
        for found in lost:
            yield f"translation changes or drops the {kind} '{found}': keep it as written", error
    for found in set(MARKUP.findall(translated)) - set(MARKUP.findall(source)):
        plain = "messages are plain text, Telegram would show it as typed"
        yield f"translation has markup '{found}': {plain}", error
    if message.limit is not None and len(translated) > message.limit:
        yield f"translation is {len(translated)} characters (at most {message.limit})", error
    elif message.kind is Kind.LABEL and len(translated) > LABEL_LENGTH:
        cut = f"phones may cut it after about {LABEL_LENGTH}"
        yield f"label is {len(translated)} characters; {cut}", warning
    symbol = source[:1]
    if (
        symbol
        and unicodedata.category(symbol).startswith("S")
        and not translated.startswith(symbol)
    ):
        yield f"translation does not start with the symbol {symbol} of the source", warning


def _folded(text: str) -> str:
    return re.sub(r"[\s\u00a0]+", " ", text).rstrip(".,;:!?")


def _difference(source: list[Found], translated: list[Found]) -> tuple[list[Found], list[Found]]:
    """What the source has that the translation lacks, and what the translation adds."""
    have, want = Counter(translated), Counter(source)
    return sorted((want - have).elements(), key=str), sorted((have - want).elements(), key=str)


def _screen_lengths(
    flow: Flow, renderer: Renderer, language: str, catalog: Catalog, file: str
) -> Iterator[Problem]:
    """A screen as the person gets it (placeholders filled, contacts listed) must fit one
    Telegram message; a long one is worth a look."""
    screens = [
        (node_id, node, channel)
        for node_id, node in flow.nodes.items()
        for channel in (None, *map(str, node.channels))
    ]
    for node_id, node, channel in screens:
        source, context = node_source(node_id, node, channel)[::-1]
        entry = catalog.get(source, context)
        if entry is None or not entry.string or entry.fuzzy:
            continue
        where = Location(file, entry.lineno or 0)
        length = len(renderer.node_text(language, node_id, node, channel))
        if length > MESSAGE_LIMIT:
            yield Problem(
                where,
                f"{language}: the screen is {length} characters; Telegram allows {MESSAGE_LIMIT}",
                node_id,
            )
        elif length > TRANSLATED_SCREEN_LENGTH:
            yield Problem(
                where,
                f"{language}: the screen is {length} characters, more than a phone screen",
                node_id,
                Severity.WARNING,
            )


def _keyword_collisions(
    flow: Flow, catalogs: Mapping[str, tuple[Catalog, str]]
) -> Iterator[Problem]:
    """A typed word leads to one screen only: the engine takes the first node that lists it, in
    any language, so a translated keyword that another screen also has sends people astray."""
    owner = {
        normalise(word): node_id for node_id, node in flow.nodes.items() for word in node.keywords
    }
    for language, (catalog, file) in catalogs.items():
        for node_id, node in flow.nodes.items():
            if not node.keywords:
                continue
            entry = catalog.get(", ".join(node.keywords), keyword_context(node_id))
            if entry is None or not entry.string or entry.fuzzy:
                continue
            for word in _text(entry).split(","):
                key = normalise(word)
                if not key:
                    continue
                other = owner.setdefault(key, node_id)
                if other != node_id:
                    yield Problem(
                        Location(file, entry.lineno or 0),
                        f"{language}: keyword '{word.strip()}' also leads to '{other}'; "
                        "a typed word can lead to one screen only",
                        node_id,
                        Severity.WARNING,
                    )
