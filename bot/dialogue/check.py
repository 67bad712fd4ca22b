"""The flow linter behind `wegweiser flows check`: rules that need the whole flow and deployment.

Errors stop a flow from going live; warnings are for the maintainer to look at. CI and (later)
live reload run the same `check_flows`.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.dialogue.engine import COMMANDS, CONFIRM, OPTION_SEPARATOR, normalise
from bot.dialogue.flow import FACTS_LINES, SYSTEM_LINES, Flow, Location, Problem, Severity
from bot.dialogue.loader import LoadError, load_flow, shown_path
from bot.dialogue.render import (
    PLACEHOLDER,
    ContactEntry,
    Renderer,
    SourceTexts,
    Value,
    channel_system_texts,
    system_texts,
)
from bot.dialogue.schema import Channel, ContactsNode, GlobalAction, HandoverNode

# Telegram's limits (Bot API): a message text is at most 4096 characters, callback data at most
# 64 bytes. Labels are not limited by the API, but phones cut long ones.
MESSAGE_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64
LABEL_LIMIT = 64
# Telegram's limits for the bot's profile (description 512, short description 120, a command's
# description 256 characters), and ours for labels.
SYSTEM_TEXT_LIMITS = {
    "labels": LABEL_LIMIT,
    "case.end": LABEL_LIMIT,
    "disappearing.off": LABEL_LIMIT,
    "description": 512,
    "short_description": 120,
    "commands": 256,
}
# The web chat shows a screen as one message too; it takes Telegram's limit, so that a text
# fits wherever it is shown. The terminal has none.
WEB_MESSAGE_LIMIT = 4096
CHANNEL_MESSAGE_LIMITS = {Channel.TELEGRAM: MESSAGE_LIMIT, Channel.WEB: WEB_MESSAGE_LIMIT}
# What only Telegram has: its name, and commands typed in its chat (/exit). A default text that
# names them is shown on the web as well, unless it has a web wording.
TELEGRAM_ONLY = re.compile(
    r"telegram|(?<![\w/])/(?:" + "|".join(sorted({*COMMANDS, "start"})) + r")\b", re.IGNORECASE
)
# System texts that no web page shows: Telegram's profile of the bot, and the web page's own.
NOT_ON_THE_WEB = ("profile", "web")
# What reads well on a phone: one screen of text, labels that fit a button.
SCREEN_LENGTH = 700
LABEL_LENGTH = 40
MANY_OPTIONS = 12
# Telegram's upload limits for bots: photos 10 MB, other files 50 MB.
IMAGE_BYTES = 10 * 1024 * 1024
AUDIO_BYTES = 50 * 1024 * 1024
# Time-sensitive facts are checked again after this long.
RECHECK_AFTER = datetime.timedelta(days=183)

# Lengths are measured on the source texts; translations are checked by the i18n tooling.
SOURCE_LANGUAGE = "de"

ANY_BRACES = re.compile(r"\{[^{}]*\}")


@dataclass(frozen=True)
class CheckResult:
    flow: Flow | None
    problems: list[Problem]
    # Summary lines that are no problem, such as how many screens have audio in each language.
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        return self.flow is not None and not self.errors


# A summary line names this many screens without audio at most.
AUDIO_NAMED = 8


def audio_summary(flow: Flow, languages: Sequence[str]) -> tuple[list[str], list[Problem]]:
    """One line per offered language: how many screens have audio in it, and which lack it.
    Audio is optional screen by screen, so a missing one is no warning; audio in a language the
    deployment does not offer is, since nobody would hear it."""
    notes = []
    for language in languages:
        without = [node_id for node_id, node in flow.nodes.items() if language not in node.audio]
        having = len(flow.nodes) - len(without)
        line = f"audio {language}: {having} of {len(flow.nodes)} screens"
        if without and having:
            named = ", ".join(without[:AUDIO_NAMED])
            more = len(without) - AUDIO_NAMED
            line += f"; without: {named}" + (f" and {more} more" if more > 0 else "")
        notes.append(line)
    problems = [
        Problem(
            flow.where(node_id, "audio", language),
            f"audio for '{language}', which the deployment does not offer",
            node_id,
            Severity.WARNING,
        )
        for node_id, node in flow.nodes.items()
        for language in node.audio
        if language not in languages
    ]
    return notes, problems


def check_flows(
    directory: Path,
    *,
    placeholders: Mapping[str, Value],
    contacts: Mapping[str, ContactEntry],
    today: datetime.date,
) -> CheckResult:
    """Load the flows in `directory` and lint them against one deployment, on the day `today`
    (facts due for a re-check are counted from it)."""
    try:
        flow = load_flow(directory)
    except LoadError as error:
        return CheckResult(None, error.problems)
    linter = _Linter(flow, placeholders, contacts, today)
    return CheckResult(flow, sorted(linter.run(), key=_reading_order))


def _reading_order(problem: Problem) -> tuple[str, int, str]:
    return (problem.location.file, problem.location.line, problem.message)


class _Linter:
    def __init__(
        self,
        flow: Flow,
        placeholders: Mapping[str, Value],
        contacts: Mapping[str, ContactEntry],
        today: datetime.date,
    ) -> None:
        self.flow = flow
        self.placeholders = placeholders
        self.contacts = contacts
        self.today = today
        self.renderer = Renderer(SourceTexts(), flow.facts, placeholders, contacts)
        self.problems: list[Problem] = []

    def run(self) -> list[Problem]:
        self._system_targets()
        for node_id in self.flow.nodes:
            self._targets(node_id)
            self._texts(node_id)
            self._telegram_limits(node_id)
            self._channel_wordings(node_id)
            self._media(node_id)
            self._contacts(node_id)
        self._system_texts()
        self._channel_system_texts()
        self._facts()
        self._keywords()
        self._reachability()
        self._dead_ends()
        return self.problems

    def _error(self, location: Location, message: str, node_id: str | None = None) -> None:
        self.problems.append(Problem(location, message, node_id, Severity.ERROR))

    def _warn(self, location: Location, message: str, node_id: str | None = None) -> None:
        self.problems.append(Problem(location, message, node_id, Severity.WARNING))

    def _unknown_target(self, target: str) -> str:
        close = difflib.get_close_matches(target, self.flow.nodes, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown target '{target}'{hint}"

    # -- targets and graph -------------------------------------------------------------------

    def _system_targets(self) -> None:
        system = self.flow.system
        for key in ("start", "menu", "counsellor", "privacy"):
            target = getattr(system, key)
            if target not in self.flow.nodes:
                self._error(
                    self.flow.where(SYSTEM_LINES, key), f"{key}: {self._unknown_target(target)}"
                )
        counsellor = self.flow.nodes.get(system.counsellor)
        if counsellor is not None and not isinstance(counsellor, HandoverNode):
            self._error(
                self.flow.where(SYSTEM_LINES, "counsellor"),
                f"counsellor: '{system.counsellor}' must be a node of kind handover",
            )

    def _targets(self, node_id: str) -> None:
        for index, option in enumerate(self.flow.nodes[node_id].options):
            if option.goto is not None and option.goto not in self.flow.nodes:
                where = self.flow.where(node_id, "options", index, "goto")
                self._error(where, self._unknown_target(option.goto), node_id)

    def _successors(self, node_id: str) -> Iterator[str]:
        for option in self.flow.nodes[node_id].options:
            if option.goto is not None:
                yield option.goto
            elif option.action is not None and (target := self.flow.global_target(option.action)):
                yield target

    def _reachability(self) -> None:
        system = self.flow.system
        roots = [system.start, system.menu, system.counsellor, system.privacy]
        roots += [
            node_id
            for node_id, node in self.flow.nodes.items()
            if node.keywords or node.crisis_words
        ]
        seen: set[str] = set()
        queue = [root for root in roots if root in self.flow.nodes]
        while queue:
            node_id = queue.pop()
            if node_id in seen:
                continue
            seen.add(node_id)
            queue.extend(t for t in self._successors(node_id) if t in self.flow.nodes)
        for node_id in self.flow.nodes.keys() - seen:
            self._warn(
                self.flow.where(node_id),
                "unreachable: no option, keyword, crisis word or system setting leads here",
                node_id,
            )

    def _dead_ends(self) -> None:
        """Every node must offer a way back to the main menu: its navigation buttons, an option
        with the menu or back action (back with nothing to go back to is the menu), or options
        that lead to a node which does."""
        escapes = {GlobalAction.MENU, GlobalAction.BACK}
        safe = {
            node_id
            for node_id, node in self.flow.nodes.items()
            if node_id == self.flow.system.menu
            or (node.navigation and escapes & set(self.flow.system.navigation))
            or any(option.action in escapes for option in node.options)
        }
        changed = True
        while changed:
            changed = False
            for node_id in self.flow.nodes.keys() - safe:
                if any(target in safe for target in self._successors(node_id)):
                    safe.add(node_id)
                    changed = True
        for node_id in sorted(self.flow.nodes.keys() - safe):
            self._error(
                self.flow.where(node_id),
                "dead end: no way back to the main menu (navigation is off and no option "
                "leads there)",
                node_id,
            )

    # -- texts -------------------------------------------------------------------------------

    def _node_texts(self, node_id: str) -> Iterator[tuple[tuple[str | int, ...], str]]:
        node = self.flow.nodes[node_id]
        yield ("text",), node.text
        if isinstance(node, HandoverNode):
            yield ("confirm",), node.confirm
        for index, option in enumerate(node.options):
            yield ("options", index, "label"), option.label

    def _texts(self, node_id: str) -> None:
        for path, text in self._node_texts(node_id):
            for message in self._placeholder_problems(text):
                self._error(self.flow.where(node_id, *path), message, node_id)

    def _system_texts(self) -> None:
        for path, text in self._system_text_items():
            where = self.flow.where(SYSTEM_LINES, *path)
            name = ".".join(map(str, path[1:]))
            for message in self._placeholder_problems(text):
                self._error(where, f"{name}: {message}")
            limit = SYSTEM_TEXT_LIMITS.get(".".join(path[:2]), 0) or next(
                (SYSTEM_TEXT_LIMITS[key] for key in path if key in SYSTEM_TEXT_LIMITS), 0
            )
            if limit and len(text) > limit:
                self._error(where, f"{name}: {len(text)} characters (at most {limit})")

    def _system_text_items(self) -> Iterator[tuple[tuple[str, ...], str]]:
        return system_texts(self.flow.system)

    def _placeholder_problems(self, text: str) -> Iterator[str]:
        if "{" in ANY_BRACES.sub("", text) or "}" in ANY_BRACES.sub("", text):
            yield "a '{' or '}' without its partner: a placeholder is written {service.NAME}"
        for braces in ANY_BRACES.findall(text):
            match = PLACEHOLDER.fullmatch(braces)
            if match is None:
                yield f"'{braces}' is not a placeholder: use {{service.NAME}} or {{fact.NAME}}"
                continue
            group, name = match.groups()
            if group == "fact":
                if name not in self.flow.facts:
                    yield f"'{braces}': no fact '{name}' in facts.yaml"
            elif braces[1:-1] in self.placeholders:
                continue
            elif group == "service":
                yield f"'{braces}': the deployment configuration does not set service.{name}"
            else:
                yield f"'{braces}': unknown placeholder (use service.*, keep.* or fact.*)"

    def _telegram_limits(self, node_id: str) -> None:
        node = self.flow.nodes[node_id]
        length = len(self.renderer.node_text(SOURCE_LANGUAGE, node_id, node))
        where = self.flow.where(node_id, "text")
        if length > MESSAGE_LIMIT:
            self._error(
                where, f"text is {length} characters; Telegram allows {MESSAGE_LIMIT}", node_id
            )
        elif length > SCREEN_LENGTH:
            self._warn(
                where,
                f"text is {length} characters, more than a phone screen "
                f"(about {SCREEN_LENGTH}); consider splitting it",
                node_id,
            )
        for path, label in self._node_texts(node_id):
            if path == ("text",):
                continue
            where = self.flow.where(node_id, *path)
            if len(label) > LABEL_LIMIT:
                self._error(
                    where, f"label is {len(label)} characters (at most {LABEL_LIMIT})", node_id
                )
            elif len(label) > LABEL_LENGTH:
                self._warn(
                    where,
                    f"label is {len(label)} characters; phones may cut it after "
                    f"about {LABEL_LENGTH}",
                    node_id,
                )
        data = [
            f"{node_id}{OPTION_SEPARATOR}{CONFIRM}",
            f"{node_id}{OPTION_SEPARATOR}{len(node.options)}",
        ]
        longest = max(data, key=lambda d: len(d.encode()))
        if len(longest.encode()) > CALLBACK_DATA_LIMIT:
            self._error(
                self.flow.where(node_id),
                f"node id too long: button data '{longest}' exceeds Telegram's "
                f"{CALLBACK_DATA_LIMIT} bytes",
                node_id,
            )
        if len(node.options) > MANY_OPTIONS:
            self._warn(
                self.flow.where(node_id, "options"),
                f"{len(node.options)} options are a lot for a phone; consider grouping",
                node_id,
            )

    # -- texts worded for one channel -----------------------------------------------------------

    def _channel_wordings(self, node_id: str) -> None:
        """A node's text worded for a channel fits that channel and names the same placeholders
        as its default; a default text that names Telegram things needs a web wording."""
        node = self.flow.nodes[node_id]
        if Channel.WEB not in node.channels and (found := TELEGRAM_ONLY.search(node.text)):
            self._warn(
                self.flow.where(node_id, "text"),
                f"text names '{found.group(0)}', a Telegram thing, and is shown in the "
                "web chat too: give it a web wording (channels: web: text:, see flows/README.md)",
                node_id,
            )
        for channel, worded in node.channels.items():
            where = self.flow.where(node_id, "channels", channel, "text")
            for message in self._placeholder_problems(worded.text):
                self._error(where, message, node_id)
            self._same_placeholders(where, f"the {channel} text", worded.text, node.text, node_id)
            length = len(self.renderer.node_text(SOURCE_LANGUAGE, node_id, node, channel))
            limit = CHANNEL_MESSAGE_LIMITS.get(channel)
            if limit is not None and length > limit:
                self._error(
                    where, f"{channel} text is {length} characters; at most {limit}", node_id
                )
            elif channel is not Channel.CONSOLE and length > SCREEN_LENGTH:
                self._warn(
                    where,
                    f"{channel} text is {length} characters, more than a phone screen "
                    f"(about {SCREEN_LENGTH}); consider splitting it",
                    node_id,
                )

    def _channel_system_texts(self) -> None:
        defaults = dict(self._system_text_items())
        worded = {(channel, path) for channel, path, _ in channel_system_texts(self.flow.system)}
        for path, text in defaults.items():
            found = TELEGRAM_ONLY.search(text)
            if found and path[0] not in NOT_ON_THE_WEB and (Channel.WEB, path) not in worded:
                self._warn(
                    self.flow.where(SYSTEM_LINES, *path),
                    f"{'.'.join(path)} names '{found.group(0)}', a Telegram thing, and is shown "
                    "in the web chat too: give it a web wording (channels: web: "
                    f"{path[0]}: {path[1]}:, see flows/README.md)",
                )
        for channel, path, text in channel_system_texts(self.flow.system):
            where = self.flow.where(SYSTEM_LINES, "channels", channel, *path)
            name = f"channels.{channel}.{'.'.join(path)}"
            for message in self._placeholder_problems(text):
                self._error(where, f"{name}: {message}")
            self._same_placeholders(where, name, text, defaults[path])
            limit = SYSTEM_TEXT_LIMITS.get(path[0]) or SYSTEM_TEXT_LIMITS.get(".".join(path))
            if limit is None and channel is not Channel.CONSOLE:
                limit = CHANNEL_MESSAGE_LIMITS.get(Channel(channel))
            if limit and len(text) > limit:
                self._error(where, f"{name}: {len(text)} characters (at most {limit})")

    def _same_placeholders(
        self, where: Location, name: str, worded: str, default: str, node_id: str | None = None
    ) -> None:
        """A channel's wording is the same message in other words: what its default fills in
        (a phone number, a time), it fills in too."""
        mine, theirs = set(PLACEHOLDER.findall(worded)), set(PLACEHOLDER.findall(default))
        if mine != theirs:
            said = [
                f"{what} {', '.join(sorted('{' + '.'.join(p) + '}' for p in placeholders))}"
                for what, placeholders in (("lacks", theirs - mine), ("adds", mine - theirs))
                if placeholders
            ]
            self._warn(
                where,
                f"{name} {' and '.join(said)} of the default text: a channel's wording should "
                "say the same",
                node_id,
            )

    def _media(self, node_id: str) -> None:
        node = self.flow.nodes[node_id]
        if node.media is not None:
            self._media_file(node_id, ("media",), node.media.path, node.media.kind)
        for language, audio in node.audio.items():
            self._media_file(node_id, ("audio", language), audio, "audio")

    def _media_file(self, node_id: str, field: tuple[str, ...], name: str, kind: str) -> None:
        where = self.flow.where(node_id, *field)
        path = self.flow.directory / "media" / name
        media_root = (self.flow.directory / "media").resolve()
        if not path.resolve().is_relative_to(media_root):
            self._error(where, f"media '{name}' must stay inside flows/media/", node_id)
        elif not path.is_file():
            self._error(where, f"media file not found: {shown_path(path)}", node_id)
        else:
            limit = AUDIO_BYTES if kind == "audio" else IMAGE_BYTES
            if path.stat().st_size > limit:
                self._error(
                    where,
                    f"media file is larger than Telegram's {limit // 2**20} MB for {kind}",
                    node_id,
                )

    def _contacts(self, node_id: str) -> None:
        node = self.flow.nodes[node_id]
        if not isinstance(node, ContactsNode):
            return
        for index, name in enumerate(node.contacts):
            if name not in self.contacts:
                self._error(
                    self.flow.where(node_id, "contacts", index),
                    f"contact '{name}' is not in the deployment configuration's contacts",
                    node_id,
                )

    def _facts(self) -> None:
        used = {
            name
            for node_id in self.flow.nodes
            for _, text in self._node_texts(node_id)
            for group, name in PLACEHOLDER.findall(text)
            if group == "fact"
        }
        used.update(
            name
            for node in self.flow.nodes.values()
            for worded in node.channels.values()
            for group, name in PLACEHOLDER.findall(worded.text)
            if group == "fact"
        )
        system = [text for _, text in self._system_text_items()]
        system += [text for _, _, text in channel_system_texts(self.flow.system)]
        for text in system:
            used.update(name for group, name in PLACEHOLDER.findall(text) if group == "fact")
        for name, fact in self.flow.facts.items():
            where = self.flow.where(FACTS_LINES, "facts", name)
            if ANY_BRACES.search(fact.text):
                self._error(
                    where, f"fact '{name}' contains a placeholder; facts must be plain text"
                )
            if name not in used:
                self._warn(where, f"fact '{name}' is not used by any text")
            if fact.time_sensitive and self.today - fact.checked > RECHECK_AFTER:
                self._warn(
                    where,
                    f"fact '{name}' is time-sensitive and was last checked on "
                    f"{fact.checked.isoformat()}: check it again ({fact.source})",
                )

    def _keywords(self) -> None:
        owner: dict[str, str] = {}
        for node_id, node in self.flow.nodes.items():
            for index, keyword in enumerate(node.keywords):
                word = normalise(keyword)
                where = self.flow.where(node_id, "keywords", index)
                if not word:
                    self._error(where, f"keyword '{keyword}' has no letters or digits", node_id)
                elif word in owner and owner[word] != node_id:
                    self._error(
                        where, f"keyword '{keyword}' also leads to '{owner[word]}'", node_id
                    )
                else:
                    owner[word] = node_id
