"""The translatable texts of a flow: what goes into the gettext template, one entry per text.

Each text is keyed as the engine looks it up: the node id as context (``health.sti_test``), the
German source text as msgid. Each system text has its own context
(``system.messages.not_understood``), facts ``fact.NAME``, and
a node's keywords are one comma-separated entry under ``NODE.keywords`` (its crisis words one per
group under ``NODE.crisis.GROUP``), so that a translator can list as many words of their language
as people might type.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.dialogue.check import LABEL_LIMIT, MESSAGE_LIMIT, SYSTEM_TEXT_LIMITS
from bot.dialogue.flow import FACTS_LINES, SYSTEM_LINES, Flow, Location
from bot.dialogue.loader import LoadError, load_flow
from bot.dialogue.render import (
    channel_context,
    channel_system_texts,
    crisis_context,
    fact_context,
    keyword_context,
    system_context,
    system_texts,
)
from bot.dialogue.schema import HandoverNode

# Comments shown to translators next to an entry (PO "#." lines).
SCREEN = "screen text: keep {placeholders}, numbers, emoji and line breaks"
LABEL = "button label: short, at most about 40 characters"
KEYWORDS = (
    "words a person may type to get to this screen: comma-separated, as many as people of your "
    "language would type (with and without accents)"
)
CRISIS_WORDS = (
    "crisis words ({group}): typing any of them shows the 24/7 numbers, before anything else. "
    "Comma-separated: as many words and short phrases as people of your language would type, "
    "with inflections, common misspellings and without accents; a * at the end of a word also "
    "matches longer words (umbring* matches umbringen)"
)
FACT = "checked fact from flows/facts.yaml, re-checked there; source: {source}"
CHANNEL_WORDING = {
    "web": (
        "the web chat's wording of the text with the same context without '@web' (that one is "
        "for Telegram): a web page with a 'Schnell weg' (quick exit) button, no app, no /commands "
        "to type"
    ),
    "telegram": "the Telegram wording of the text with the same context without '@telegram'",
    "console": "the terminal's wording of the text with the same context without '@console'",
}
MESSAGE = "the bot's own message in a special situation: keep {placeholders} and /commands"
CASE = (
    "around a conversation with a counsellor: keep {placeholders}; a detail (a time, a name, "
    "a code) follows on its own line"
)
DISAPPEARING = "disappearing mode: a time (5 minutes, 1 hour) follows on its own line"
PROFILE_COMMENTS = {
    "description": "the bot's description in an empty chat: at most 512 characters",
    "short_description": "the bot's profile page: at most 120 characters",
    "commands": "command menu entry: a few words",
}


class Kind(StrEnum):
    SCREEN = "screen"
    LABEL = "label"
    KEYWORDS = "keywords"
    MESSAGE = "message"
    PROFILE = "profile"
    FACT = "fact"


@dataclass(frozen=True, slots=True)
class FlowMessage:
    """One text to translate and where a maintainer wrote it. `limit`: Telegram's (or, for
    labels, the project's) most characters, where one applies to the text on its own."""

    context: str
    text: str
    location: Location
    comment: str
    kind: Kind
    limit: int | None = None
    # What the author wrote for translators and maintainers: the YAML comments directly above.
    note: str = ""

    @property
    def comments(self) -> list[str]:
        """The PO `#.` lines: what kind of text it is, then the author's note."""
        return [self.comment, self.note] if self.note else [self.comment]


class AuthorNotes:
    """The YAML comment lines directly above a line of a flow file, joined: an author's note
    on a node, an option or a system text, which PyYAML does not keep. Each file is read once."""

    def __init__(self) -> None:
        self._files: dict[str, list[str]] = {}

    def above(self, *locations: Location) -> str:
        notes = []
        for location in locations:
            lines = self._lines(location.file)
            found: list[str] = []
            index = location.line - 2  # the line above, counted from 0
            while 0 <= index < len(lines) and lines[index].lstrip().startswith("#"):
                found.insert(0, lines[index].lstrip().lstrip("#").strip())
                index -= 1
            if note := " ".join(line for line in found if line):
                notes.append(note)
        return " ".join(dict.fromkeys(notes))

    def _lines(self, file: str) -> list[str]:
        if file not in self._files:
            try:
                self._files[file] = Path(file).read_text("utf-8").splitlines()
            except OSError:
                self._files[file] = []
        return self._files[file]


def flow_messages(flow: Flow) -> Iterator[FlowMessage]:
    """Every translatable text of the flow, in the order of the files, with the author's notes
    (comments above a node go with its screen text, above an option with its label)."""
    notes = AuthorNotes()
    for node_id, node in flow.nodes.items():
        where = flow.where(node_id, "text")
        note = notes.above(flow.where(node_id), where)
        yield FlowMessage(node_id, node.text, where, SCREEN, Kind.SCREEN, note=note)
        for channel, worded in node.channels.items():
            where = flow.where(node_id, "channels", channel, "text")
            yield FlowMessage(
                channel_context(node_id, str(channel)),
                worded.text,
                where,
                SCREEN,
                Kind.SCREEN,
                note=_joined(
                    CHANNEL_WORDING[channel], notes.above(flow.where(node_id, "channels", channel))
                ),
            )
        if isinstance(node, HandoverNode):
            where = flow.where(node_id, "confirm")
            note = notes.above(where)
            yield FlowMessage(node_id, node.confirm, where, LABEL, Kind.LABEL, LABEL_LIMIT, note)
        for index, option in enumerate(node.options):
            where = flow.where(node_id, "options", index, "label")
            note = notes.above(flow.where(node_id, "options", index))
            yield FlowMessage(node_id, option.label, where, LABEL, Kind.LABEL, LABEL_LIMIT, note)
        if node.keywords:
            yield FlowMessage(
                keyword_context(node_id),
                ", ".join(node.keywords),
                flow.where(node_id, "keywords"),
                KEYWORDS,
                Kind.KEYWORDS,
            )
        for group, words in node.crisis_words.items():
            yield FlowMessage(
                crisis_context(node_id, group),
                ", ".join(words),
                flow.where(node_id, "crisis_words", group),
                CRISIS_WORDS.format(group=group),
                Kind.KEYWORDS,
            )
    for path, text in system_texts(flow.system):
        context, where = system_context(path), flow.where(SYSTEM_LINES, *path)
        yield replace(_system_message(path, text, context, where), note=notes.above(where))
    for name, path, text in channel_system_texts(flow.system):
        context = channel_context(system_context(path), name)
        where = flow.where(SYSTEM_LINES, "channels", name, *path)
        note = _joined(CHANNEL_WORDING[name], notes.above(where))
        yield replace(_system_message(path, text, context, where), note=note)
    for name, fact in flow.facts.items():
        if any(char.isalpha() for char in fact.text):  # a bare phone number needs no translation
            where = flow.where(FACTS_LINES, "facts", name, "text")
            comment = FACT.format(source=fact.source)
            note = notes.above(flow.where(FACTS_LINES, "facts", name))
            yield FlowMessage(fact_context(name), fact.text, where, comment, Kind.FACT, note=note)


def _joined(*notes: str) -> str:
    return " ".join(note for note in notes if note)


# Sections of system messages with one button label each, and the comment for their other texts.
SECTION_COMMENTS = {"disappearing": ("off", DISAPPEARING), "case": ("end", CASE)}


def _system_message(path: tuple[str, ...], text: str, context: str, where: Location) -> FlowMessage:
    section, key = path[0], path[-1]
    if section == "profile":
        limit_key = key if key in PROFILE_COMMENTS else "commands"
        comment = PROFILE_COMMENTS[limit_key]
        return FlowMessage(
            context, text, where, comment, Kind.PROFILE, SYSTEM_TEXT_LIMITS[limit_key]
        )
    label, comment = SECTION_COMMENTS.get(section, (None, MESSAGE))
    if section == "labels" or key == label:
        return FlowMessage(context, text, where, LABEL, Kind.LABEL, LABEL_LIMIT)
    return FlowMessage(context, text, where, comment, Kind.MESSAGE, MESSAGE_LIMIT)


def relative_location(location: Location, root: Path) -> tuple[str, int]:
    """The location as the catalog shows it: relative to the folder above flows/, with /."""
    path = Path(location.file).resolve()
    try:
        shown = path.relative_to(root.resolve())
    except ValueError:
        shown = Path(os.path.relpath(path, root.resolve()))
    return shown.as_posix(), location.line


# -- the babel extractor ---------------------------------------------------------------------

_loaded: dict[Path, Flow] = {}


def extract_flow_file(
    fileobj: Any, keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[tuple[int, str, tuple[str, str], list[str]]]:
    """Babel's extractor for flow YAML (`pybabel extract -F babel.cfg`), registered as the
    `wegweiser_flow` method. The whole folder is loaded once, so ids and checks are the same as
    the bot's; only the texts written in `fileobj` are yielded. A flow that does not load is
    reported with file:line and nothing is extracted from it."""
    path = Path(fileobj.name).resolve()
    directory = path.parent
    if directory not in _loaded:
        try:
            _loaded[directory] = load_flow(directory)
        except LoadError as error:
            raise SystemExit(f"the flow files have errors:\n{error}") from None
    for message in flow_messages(_loaded[directory]):
        if Path(message.location.file).resolve() == path:
            yield (
                message.location.line,
                "pgettext",
                (message.context, message.text),
                message.comments,
            )
