"""Turns flow texts into what a person reads: translated, placeholders filled, contacts listed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from bot.dialogue.schema import ContactsNode, Fact, Node, SystemFile, variant

PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)\}")
SYSTEM_CONTEXT = "system"


def system_texts(system: SystemFile) -> Iterator[tuple[tuple[str, ...], str]]:
    """Every text of system.yaml with its path, e.g. (("profile", "commands", "exit"), ...)."""
    for section in ("labels", "messages", "case", "disappearing", "web"):
        for key, text in getattr(system, section).model_dump().items():
            if text is not None:
                yield (section, key), text
    profile = system.profile
    yield ("profile", "description"), profile.description
    yield ("profile", "short_description"), profile.short_description
    for key, text in profile.commands.model_dump().items():
        yield ("profile", "commands", key), text


def channel_system_texts(system: SystemFile) -> Iterator[tuple[str, tuple[str, ...], str]]:
    """Every system text worded for one channel: (channel, path of its default, text), e.g.
    ("web", ("messages", "not_understood"), ...)."""
    for channel, texts in system.channels.items():
        for section in ("labels", "messages", "case", "disappearing"):
            for key, text in getattr(texts, section).items():
                yield str(channel), (section, key), text


def channel_context(context: str, channel: str) -> str:
    """The translation context of a text worded for one channel: its default's context and the
    channel ("main.safety@web", "system.messages.not_understood@web"), so that a translator sees
    which wording it is."""
    return f"{context}@{channel}"


def node_source(node_id: str, node: Node, channel: str | None = None) -> tuple[str, str]:
    """The context and the source text of a node's screen on `channel`: its own wording there,
    else the default."""
    worded = variant(node.channels, channel)
    if worded is None:
        return node_id, node.text
    return channel_context(node_id, str(channel)), worded.text


def system_context(path: tuple[str, ...]) -> str:
    """The translation context of a system text: its own, so a translator sees where it is
    shown ("system.messages.not_understood") and two equal German texts can differ."""
    return ".".join((SYSTEM_CONTEXT, *path))


def system_contexts(system: SystemFile) -> dict[str, str]:
    """The context of each system text by its German text, as the engine looks texts up. Should
    two keys share a German text, the first one's translation serves both."""
    contexts: dict[str, str] = {}
    for path, text in system_texts(system):
        contexts.setdefault(text, system_context(path))
    return contexts


def channel_system_sources(system: SystemFile) -> dict[tuple[str, str], tuple[str, str]]:
    """(channel, default text) -> (context, text) of each system text worded for a channel, as
    the engine looks texts up (by their German text, like system_contexts)."""
    defaults = dict(system_texts(system))
    sources: dict[tuple[str, str], tuple[str, str]] = {}
    for channel, path, text in channel_system_texts(system):
        default = defaults.get(path)
        if default is not None:
            context = channel_context(system_context(path), channel)
            sources.setdefault((channel, default), (context, text))
    return sources


def fact_context(name: str) -> str:
    """The translation context of the fact {fact.NAME}."""
    return f"fact.{name}"


def keyword_context(node_id: str) -> str:
    """The translation context of a node's keywords (one comma-separated entry per node)."""
    return f"{node_id}.keywords"


def crisis_context(node_id: str, group: str) -> str:
    """The translation context of one group of a node's crisis words (comma-separated)."""
    return f"{node_id}.crisis.{group}"


class Translator(Protocol):
    """Looks up the translation of a source (German) text; `context` is the node id."""

    def translate(self, language: str, context: str, text: str) -> str: ...


class SourceTexts:
    """The source texts themselves, for flows that have no catalogs yet."""

    def translate(self, language: str, context: str, text: str) -> str:
        return text


# A value of the deployment configuration: the same in every language (a phone number), or made
# for the language it is shown in (opening hours, formatted with the language's day names).
Value = str | Callable[[str], str]


def in_language(value: Value, language: str) -> str:
    return value if isinstance(value, str) else value(language)


@dataclass(frozen=True, slots=True)
class ContactEntry:
    """A local service from the deployment configuration, as a contacts node lists it."""

    name: str
    phone: str | None = None
    address: str | None = None
    hours: Value | None = None
    link: str | None = None

    def lines(self, language: str) -> list[str]:
        # Symbols instead of words ("Telefon:") so the entry needs no translation.
        parts = [("☎️", self.phone), ("📍", self.address), ("🕘", self.hours), ("🔗", self.link)]
        return [
            self.name,
            *(f"{symbol} {in_language(value, language)}" for symbol, value in parts if value),
        ]


# Rendered texts a Renderer keeps: every text of a flow in every language fits many times over;
# the bound only keeps memory from growing should a caller ever render texts it was sent.
RENDERED_KEPT = 20_000


@dataclass(frozen=True)
class Renderer:
    """Texts in a language with their placeholders filled. A renderer belongs to one engine and
    its values do not change while it serves, so each text is rendered once (a flow reload
    makes a new engine, and with it a new renderer)."""

    translator: Translator
    facts: Mapping[str, Fact]
    placeholders: Mapping[str, Value]
    contacts: Mapping[str, ContactEntry]
    _rendered: dict[tuple[str, str, str], str] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def text(self, language: str, context: str, source: str) -> str:
        """The text in `language` with {service.*} and {fact.*} filled in.

        An unknown placeholder is left as written (the linter reports it) rather than failing a
        conversation.
        """
        key = (language, context, source)
        rendered = self._rendered.get(key)
        if rendered is None:
            rendered = self._render(language, context, source)
            if len(self._rendered) < RENDERED_KEPT:
                self._rendered[key] = rendered
        return rendered

    def _render(self, language: str, context: str, source: str) -> str:
        translated = self.translator.translate(language, context, source)

        def fill(match: re.Match[str]) -> str:
            group, name = match.groups()
            if group == "fact" and name in self.facts:
                fact = self.facts[name].text
                return self.translator.translate(language, fact_context(name), fact)
            value = self.placeholders.get(f"{group}.{name}")
            return match.group(0) if value is None else in_language(value, language)

        return PLACEHOLDER.sub(fill, translated)

    def node_text(self, language: str, node_id: str, node: Node, channel: str | None = None) -> str:
        """The message a node shows on `channel` (None: the default text): its text, and for a
        contacts node the contact entries."""
        text = self.text(language, *node_source(node_id, node, channel))
        if isinstance(node, ContactsNode):
            entries = [self.contacts[name] for name in node.contacts if name in self.contacts]
            text = "\n\n".join([text, *("\n".join(entry.lines(language)) for entry in entries)])
        return text
