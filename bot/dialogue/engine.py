"""The dialogue engine: `Engine.step(session, event) -> (session, actions)`.

Pure: no Telegram, no storage, no clock. Sessions, events and actions are immutable values; the
channels (Telegram, terminal) turn updates into events and actions into messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Literal, TypeVar

from bot.dialogue.crisis import CrisisNet, crisis_net
from bot.dialogue.flow import Flow, namespace_of
from bot.dialogue.render import (
    SYSTEM_CONTEXT,
    ContactEntry,
    Renderer,
    SourceTexts,
    Translator,
    Value,
    channel_system_sources,
    keyword_context,
    system_contexts,
)
from bot.dialogue.schema import GlobalAction, HandoverNode
from bot.dialogue.search import SearchIndex, build_search
from bot.dialogue.words import normalise

# Button data: "<node id>|<option index>" for an option of a node, "<node id>|confirm" for the
# handover confirmation, "!<action>" for a global action, "!lang:<code>" for a language, and
# "?<node id>" for a screen the search suggested.
# Telegram limits callback data to 64 bytes and lets any client send any data, so every press is
# checked against the node the session is at.
OPTION_SEPARATOR = "|"
CONFIRM = "confirm"
GLOBAL_PREFIX = "!"
OPTION_INDEX = re.compile(r"0|[1-9][0-9]{0,2}")  # ASCII only: "²".isdigit() is True too
LANGUAGE_PREFIX = "!lang:"
END_CASE = "!end"
DISAPPEAR_PREFIX = "!vanish:"
DISAPPEAR_SYMBOL = "⏱️"
SUGGESTION_PREFIX = "?"
# Symbols before the details the channel gives (when counsellors are back, a name, a code).
DETAIL_SYMBOLS = {
    "opened_outside_hours": "🕘",
    "claimed": "👤",
    "closed": "🔑",
}
# Marks the language in use in the language list.
CURRENT = "✓"

# What an engine keeps of each kind it builds once (a node's screen in one language, on one
# channel, with or without a way back; a language list; a time in words): every screen of a flow
# in every language fits; the bound only keeps memory from growing should sessions name channels
# without end.
SCREENS_KEPT = 20_000

Key = TypeVar("Key")
Kept = TypeVar("Kept")


def _kept(memo: dict[Key, Kept], key: Key, build: Callable[[], Kept]) -> Kept:
    """What `build` gives for `key`, built once while `memo` holds fewer than SCREENS_KEPT."""
    value = memo.get(key)
    if value is None:
        value = build()
        if len(memo) < SCREENS_KEPT:
            memo[key] = value
    return value


DurationFormat = Callable[[float, str], str]
"""(seconds, language) -> a duration in words ("5 minutes"), given by the channel's side (babel),
so that the core needs no locale data."""


def _in_seconds(seconds: float, language: str) -> str:
    return f"{seconds:g} s"


COMMANDS: Mapping[str, GlobalAction] = {
    "menu": GlobalAction.MENU,
    "help": GlobalAction.MENU,
    "back": GlobalAction.BACK,
    "language": GlobalAction.LANGUAGE,
    "counsellor": GlobalAction.COUNSELLOR,
    "exit": GlobalAction.EXIT,
    "privacy": GlobalAction.PRIVACY,
}


# ---------------------------------------------------------------------------- session and events


@dataclass(frozen=True, slots=True)
class Session:
    """Where a person is in the dialogue. Nothing here identifies them."""

    node: str | None = None
    history: tuple[str, ...] = ()
    language: str | None = None
    # The anonymous code of the counsellor conversation (case) the person is in, if any: while
    # it is set, what the person types goes to the counsellor and the tree is silent.
    case: str | None = None
    # Disappearing mode: every message of the chat is deleted this many seconds after it was
    # sent. None: off.
    disappear: int | None = None
    # The channel the person writes through ("telegram", "web", "console"): texts worded for it
    # (`channels:` in the flows) replace the default ones. None: the default texts.
    channel: str | None = None

    def moved_to(self, node: str, history: tuple[str, ...]) -> Session:
        """The same session at another node: what dataclasses.replace gives, without its cost on
        every step."""
        return Session(
            node=node,
            history=history,
            language=self.language,
            case=self.case,
            disappear=self.disappear,
            channel=self.channel,
        )


@dataclass(frozen=True, slots=True)
class Start:
    """The conversation (re)starts. `language_hint` is the client's language, if it tells one;
    `language` one the person chose already (a link in that language, `chat --lang`), which skips
    the language question."""

    language_hint: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class ButtonPressed:
    data: str  # untrusted: comes from the client


@dataclass(frozen=True, slots=True)
class TextTyped:
    text: str


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # without the slash, e.g. "menu"


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A message the dialogue cannot read (a sticker, photo, voice note, file). `personal` when it
    carries personal data (a shared contact or location): the channel drops it unread."""

    personal: bool = False


@dataclass(frozen=True, slots=True)
class TooFast:
    """The person sends faster than the channel's flood limit; what follows is ignored a while."""


class News(StrEnum):
    """What the channel learnt about the person's case (CaseNews)."""

    OPENED = "opened"  # counsellors are on duty: someone will answer
    OPENED_OUTSIDE_HOURS = "opened_outside_hours"  # detail: when they are back
    CLAIMED = "claimed"  # detail: the name the counsellor chose, if any
    NOBODY_CLAIMED = "nobody_claimed"
    CLOSED = "closed"  # by the counsellor; detail: a return code, if one was given
    RESUMED = "resumed"  # a return code led back to an earlier case
    NOT_DELIVERED = "not_delivered"  # a message of the person's did not reach the counsellor
    UNCONFIRMED = "unconfirmed"  # it may have reached them: the channel did not answer
    UNAVAILABLE = "unavailable"  # the case could not be opened: how to reach the centre


@dataclass(frozen=True, slots=True)
class CaseNews:
    """The channel tells the dialogue about the person's case. `case` is its code (the engine
    reads it for OPENED, OPENED_OUTSIDE_HOURS and RESUMED); `detail` is shown on a line of its
    own."""

    news: News
    case: str | None = None
    detail: str | None = None


Event = Start | ButtonPressed | TextTyped | Command | Unreadable | TooFast | CaseNews


# ---------------------------------------------------------------------------------------- actions


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True, slots=True)
class Show:
    """One message with buttons, one row per tuple. `node_id` is None for system screens."""

    node_id: str | None
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class Notice:
    """A short note before the next screen (a toast on a pressed button, where the channel can)."""

    text: str


@dataclass(frozen=True, slots=True)
class SendMedia:
    path: Path
    kind: Literal["image", "audio"]


@dataclass(frozen=True, slots=True)
class RequestHandover:
    """The person confirmed they want a counsellor. `path` is the nodes they came through.
    `available` is False when no counsellor can be reached through the channel: the engine then
    also shows how to reach the centre, and the channel only counts the request."""

    topic: str | None
    language: str
    path: tuple[str, ...]
    available: bool = True

    @property
    def area(self) -> str:
        """The topic area asked about: the handover node's `topic`, else the flow file of the
        screen the person came from ("" when they came straight from the start)."""
        if self.topic:
            return self.topic
        return namespace_of(self.path[-2]) if len(self.path) > 1 else ""


@dataclass(frozen=True, slots=True)
class Relay:
    """Pass the person's message on to the counsellor of their case, as it is."""

    case: str


@dataclass(frozen=True, slots=True)
class EndCase:
    """The person ended the conversation with the counsellor (or stopped waiting)."""

    case: str


@dataclass(frozen=True, slots=True)
class Erase:
    """Delete the conversation and the session, now. Nothing is shown afterwards."""


@dataclass(frozen=True, slots=True)
class SetLanguage:
    language: str


@dataclass(frozen=True, slots=True)
class SetDisappearing:
    """The person switched disappearing mode on (after `seconds`) or off (None)."""

    seconds: int | None


@dataclass(frozen=True, slots=True)
class NothingFound:
    """A typed question found no screen: only counted (per language and day), never kept."""

    language: str


@dataclass(frozen=True, slots=True)
class BotProfile:
    """What Telegram shows about the bot in one language; `commands` maps name to description."""

    description: str
    short_description: str
    commands: Mapping[str, str]


Action = (
    Show
    | Notice
    | SendMedia
    | RequestHandover
    | Relay
    | EndCase
    | Erase
    | SetLanguage
    | SetDisappearing
    | NothingFound
)
Step = tuple[Session, tuple[Action, ...]]


# ----------------------------------------------------------------------------------------- engine


def command_name(typed: str) -> str:
    """The command a typed word names: "/Menu@wegweiser_bot" -> "menu"."""
    return typed.lstrip("/").split("@", 1)[0].casefold()


class Engine:
    """Runs one flow for one deployment. Build it once; `step` is safe to call concurrently."""

    def __init__(
        self,
        flow: Flow,
        *,
        languages: Mapping[str, str],
        translator: Translator | None = None,
        placeholders: Mapping[str, Value] | None = None,
        contacts: Mapping[str, ContactEntry] | None = None,
        handover_available: bool = False,
        history_limit: int = 20,
        disappearing_times: tuple[int, ...] = (300, 3600, 86400),
        durations: DurationFormat = _in_seconds,
    ) -> None:
        """`languages` maps each offered language code to its name in itself, in display order;
        the first is the default. `handover_available` says whether a counsellor can be reached
        through the channel; without one, the handover button shows the centre's contacts."""
        if not languages:
            raise ValueError("at least one language is needed")
        self.flow = flow
        self._node_ids = frozenset(flow.nodes)
        self.languages = dict(languages)
        self.default_language = next(iter(self.languages))
        self.handover_available = handover_available
        self.history_limit = history_limit
        self.disappearing_times = disappearing_times
        self.durations = durations
        self.renderer = Renderer(
            translator=translator or SourceTexts(),
            facts=flow.facts,
            placeholders=placeholders or {},
            contacts=contacts or {},
        )
        self._system_contexts = system_contexts(flow.system)
        # (channel, default source) -> (context, source) of the text worded for that channel
        self._channel_texts = channel_system_sources(flow.system)
        self.keywords = self._keyword_index()
        # each keyword's words and screen, by its first word: a typed text is looked up word by
        # word instead of every keyword being searched for in it
        self._keywords_by_first_word: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for keyword, node_id in self.keywords.items():
            words = tuple(keyword.split(" "))
            self._keywords_by_first_word.setdefault(words[0], []).append((words, node_id))
        translator = self.renderer.translator
        self.crisis: CrisisNet = crisis_net(flow, translator, self.languages)
        self.search: SearchIndex = build_search(flow, self.renderer, self.languages)
        # (node id, language, channel, no history) -> what _screen gives: all a screen depends on
        self._screens: dict[tuple[str, str, str | None, bool], tuple[Action, ...]] = {}
        # (language, channel) -> the language list
        self._language_lists: dict[tuple[str, str | None], Show] = {}
        # (seconds, language) -> the time in words, for the offered disappearing times
        self._times_in_words: dict[tuple[int, str], str] = {}

    # -- the contract ------------------------------------------------------------------------

    def step(self, session: Session, event: Event) -> Step:
        """Answer one event. Never raises for any session or event content.

        A session at a node that no longer exists continues at the start node; a button that does
        not belong to the session's node is refused and the node is shown again.
        """
        session = self._repaired(session)
        if isinstance(event, TextTyped) and (crisis := self.crisis.match(event.text)):
            return self._crisis(session, crisis.node_id)
        if session.case is not None:
            answered = self._in_case(session, event)
            if answered is not None:
                return answered
        match event:
            case CaseNews():
                return self._case_news(session, event)
            case Start(language_hint=hint, language=chosen):
                if session.language is None and chosen in self.languages:
                    session = replace(session, language=chosen)
                return self._start(session, hint)
            case Command(name=name):
                return self._command(session, name)
            case ButtonPressed(data=data):
                return self._button(session, data)
            case TextTyped(text=text):
                return self._typed(session, text)
            case Unreadable(personal=personal):
                return self._unreadable(session, personal)
            case TooFast():
                message = self.flow.system.messages.slow_down
                return session, (Notice(self._say(session, message)),)
        return self._show_current(session)

    # -- a conversation with a counsellor ------------------------------------------------------

    def _in_case(self, session: Session, event: Event) -> Step | None:
        """While a case runs: typed text and media go to the counsellor, the tree is silent;
        /exit, /menu, /language, /privacy and the buttons still work. None: handled as usual.
        Typed text that starts with "/" but names no command is text for the counsellor."""
        case = str(session.case)
        match event:
            case TextTyped() | Unreadable(personal=False):
                return session, (Relay(case),)
            case Command(name=name) if command_name(name) not in (*COMMANDS, "start"):
                return session, (Relay(case),)
            case ButtonPressed(data=data) if data == END_CASE:
                text = self._say(session, self.flow.system.case.ended)
                menu, shown = self._back_to_menu(session)
                return menu, (EndCase(case), Notice(text.strip()), *shown)
            case Start() | Command(name="counsellor") | Command(name="start"):
                return session, (self._case_screen(session, self.flow.system.case.active),)
        return None

    def _crisis(self, session: Session, node_id: str) -> Step:
        """A crisis word: its screen with the 24/7 numbers, before anything else. During a
        conversation with a counsellor the message is relayed as usual, and the screen is shown
        once: not again while the person is still at it (the node remembers it)."""
        if session.case is None:
            return self._go(session, node_id)
        relay = Relay(session.case)
        if session.node == node_id:
            return session, (relay,)
        shown, actions = self._go(session, node_id)
        return shown, (relay, *actions)

    def _case_news(self, session: Session, news: CaseNews) -> Step:
        texts = self.flow.system.case
        match news.news:
            case News.OPENED | News.RESUMED:
                session = replace(session, case=news.case)
                text = texts.waiting if news.news is News.OPENED else texts.resumed
            case News.OPENED_OUTSIDE_HOURS:
                session = replace(session, case=news.case)
                text = texts.outside_hours
            case News.CLAIMED:
                text = texts.claimed
            case News.NOBODY_CLAIMED:
                text = texts.nobody
            case News.UNAVAILABLE:
                unavailable = self._say(session, self.flow.system.messages.handover_unavailable)
                return session, (Show(None, unavailable, self._navigation_rows(session, None)),)
            case News.NOT_DELIVERED | News.UNCONFIRMED:
                said = texts.not_delivered if news.news is News.NOT_DELIVERED else texts.unconfirmed
                return session, (Notice(self._say(session, said)),)
            case News.CLOSED:
                parts = [self._say(session, texts.closed).strip()]
                if news.detail:
                    code = f"{DETAIL_SYMBOLS[News.CLOSED]} {news.detail}"
                    parts.append(f"{self._say(session, texts.return_code).strip()}\n{code}")
                menu, shown = self._back_to_menu(session)
                return menu, (Notice("\n\n".join(parts)), *shown)
        if session.case is None:  # news of a case the person has left meanwhile
            return self._show_current(session)
        symbol = DETAIL_SYMBOLS.get(news.news)
        detail = f"{symbol} {news.detail}" if symbol and news.detail else None
        return session, (self._case_screen(session, text, detail),)

    def _back_to_menu(self, session: Session) -> Step:
        """After a counsellor conversation: the main menu, the case gone."""
        return self._go(replace(session, case=None), self.flow.system.menu, history=())

    def _case_screen(self, session: Session, source: str, detail: str | None = None) -> Show:
        """A screen of the running case: its text, a detail, and the button that ends it."""
        text = self._say(session, source).strip()
        if detail:
            text = f"{text}\n{detail}"
        end = Button(self._say(session, self.flow.system.case.end), END_CASE)
        return Show(None, text, ((end,), *self._navigation_rows(session, None)))

    def profile(self, language: str) -> BotProfile:
        """The bot's description and command menu in `language` (system.yaml `profile`)."""
        profile = self.flow.system.profile
        return BotProfile(
            description=self._system_text(language, profile.description),
            short_description=self._system_text(language, profile.short_description),
            commands={
                name: self._system_text(language, text)
                for name, text in profile.commands.model_dump().items()
            },
        )

    # -- events ------------------------------------------------------------------------------

    def _start(self, session: Session, hint: str | None) -> Step:
        if session.language is None:
            preselected = self._supported(hint) or self.default_language
            session = replace(session, language=preselected)
            if len(self.languages) > 1:
                return session, (self._language_choice(session),)
        return self._go(session, self.flow.system.start, history=())

    def _command(self, session: Session, name: str) -> Step:
        name = command_name(name)
        if name == "start":
            return self._start(session, None)
        action = COMMANDS.get(name)
        if action is None:
            return self._not_understood(session)
        return self._global(session, action)

    def _button(self, session: Session, data: str) -> Step:
        if data.startswith(DISAPPEAR_PREFIX):
            seconds = data.removeprefix(DISAPPEAR_PREFIX)
            if seconds == "0" or (
                seconds.isascii() and seconds.isdigit() and int(seconds) in self.disappearing_times
            ):
                return self._disappear(session, int(seconds) or None)
        elif data.startswith(LANGUAGE_PREFIX):
            language = data.removeprefix(LANGUAGE_PREFIX)
            if language in self.languages:
                chosen, shown = self._show_current(replace(session, language=language))
                return chosen, (SetLanguage(language), *shown)
        elif data.startswith(SUGGESTION_PREFIX):
            # any screen the search can suggest: the suggestions are not kept in the session
            node_id = data.removeprefix(SUGGESTION_PREFIX)
            if node_id in self.search.node_ids:
                return self._go(session, node_id)
        elif data.startswith(GLOBAL_PREFIX):
            try:
                action = GlobalAction(data.removeprefix(GLOBAL_PREFIX))
            except ValueError:
                pass
            else:
                return self._global(session, action)
        else:
            node_id, _, choice = data.partition(OPTION_SEPARATOR)
            if node_id == session.node:
                node = self.flow.nodes[node_id]
                if choice == CONFIRM and isinstance(node, HandoverNode):
                    return self._handover(session, node)
                if OPTION_INDEX.fullmatch(choice) and int(choice) < len(node.options):
                    option = node.options[int(choice)]
                    if option.action is not None:
                        return self._global(session, option.action)
                    if option.goto is not None:
                        return self._go(session, option.goto)
        return self._refuse_stale(session)

    def _unreadable(self, session: Session, personal: bool) -> Step:
        messages = self.flow.system.messages
        text = self._say(session, messages.personal_data if personal else messages.not_readable)
        shown_session, shown = self._show_current(session)
        return shown_session, (Notice(text), *shown)

    def keyword_target(self, text: str) -> str | None:
        """The screen the first keyword in a typed text jumps to, if it has one (of keywords
        that start at the same word, the one whose screen id sorts first)."""
        words = tuple(normalise(text).split(" "))
        for index, word in enumerate(words):
            targets = [
                node_id
                for keyword, node_id in self._keywords_by_first_word.get(word, ())
                if words[index : index + len(keyword)] == keyword
            ]
            if targets:
                return min(targets)
        return None

    def _typed(self, session: Session, text: str) -> Step:
        if (target := self.keyword_target(text)) is not None:
            return self._go(session, target)
        language = self._language(session)
        hits = self.search.search(text, language)
        suggestion = self.flow.system.messages.did_you_mean
        if not hits or suggestion is None:
            shown, actions = self._not_understood(session)
            return shown, (*actions, NothingFound(language))
        rows = tuple(
            (Button(self.search.title(hit.node_id, language), SUGGESTION_PREFIX + hit.node_id),)
            for hit in hits
        )
        counsellor = GlobalAction.COUNSELLOR
        label = self._say(session, self.flow.system.labels.of(counsellor))
        rows += ((Button(label, GLOBAL_PREFIX + counsellor),),)
        text = self._say(session, suggestion)
        return session, (Show(None, text, (*rows, *self._navigation_rows(session, None))),)

    # -- global actions ----------------------------------------------------------------------

    def _global(self, session: Session, action: GlobalAction) -> Step:
        match action:
            case GlobalAction.MENU:
                return self._go(session, self.flow.system.menu, history=())
            case GlobalAction.BACK:
                if not session.history:
                    return self._global(session, GlobalAction.MENU)
                return self._go(session, session.history[-1], history=session.history[:-1])
            case GlobalAction.LANGUAGE:
                return session, (self._language_choice(session),)
            case GlobalAction.EXIT:
                return Session(), (Erase(),)
            case GlobalAction.DISAPPEARING:
                return session, (self._disappearing_choice(session),)
        target = self.flow.global_target(action)
        assert target is not None  # every remaining action shows a node
        return self._go(session, target)

    def _handover(self, session: Session, node: HandoverNode) -> Step:
        if session.case is not None:  # an old confirm button: the case runs already
            return session, (self._case_screen(session, self.flow.system.case.active),)
        language = self._language(session)
        path = (*session.history, str(session.node))
        if self.handover_available:
            return session, (RequestHandover(node.topic, language, path),)
        text = self._say(session, self.flow.system.messages.handover_unavailable)
        return session, (
            RequestHandover(node.topic, language, path, available=False),
            Show(None, text, self._navigation_rows(session, None)),
        )

    # -- showing -----------------------------------------------------------------------------

    def _go(
        self, session: Session, node_id: str, *, history: tuple[str, ...] | None = None
    ) -> Step:
        """The session at `node_id` and its screen. `history` is the way back from there; by
        default the session's, and the node it leaves."""
        if node_id not in self.flow.nodes:
            # Only reachable through a flow that failed its check; keep the person somewhere sane.
            node_id = self.flow.system.start
        if history is None:
            history = session.history
            if session.node is not None and session.node != node_id:
                history = (*history, session.node)[-self.history_limit :]
        moved = session.moved_to(node_id, history)
        node = self.flow.nodes[node_id]
        if isinstance(node, HandoverNode) and not self.handover_available and not session.case:
            # The screen with the contacts instead of an offer: the person asked for a
            # counsellor all the same (it counts), without a button to confirm.
            language = self._language(moved)
            asked = RequestHandover(node.topic, language, (*history, node_id), available=False)
            return moved, (asked, *self._render(moved, node_id))
        return moved, self._render(moved, node_id)

    def _show_current(self, session: Session) -> Step:
        node_id = session.node or self.flow.system.start
        shown = session if session.node == node_id else session.moved_to(node_id, session.history)
        return shown, self._render(session, node_id)

    def _refuse_stale(self, session: Session) -> Step:
        notice = Notice(self._say(session, self.flow.system.messages.stale_button))
        shown_session, shown = self._show_current(session)
        return shown_session, (notice, *shown)

    def _not_understood(self, session: Session) -> Step:
        labels = self.flow.system.labels
        rows = tuple(
            (Button(self._say(session, labels.of(action)), GLOBAL_PREFIX + action),)
            for action in (GlobalAction.MENU, GlobalAction.COUNSELLOR)
        )
        text = self._say(session, self.flow.system.messages.not_understood)
        return session, (Show(None, text, rows),)

    def _disappearing_choice(self, session: Session) -> Show:
        """The times to choose from, named in the person's language; the one in use ticked."""
        language = self._language(session)
        texts = self.flow.system.disappearing
        rows = [
            (
                Button(
                    f"{CURRENT if seconds == session.disappear else DISAPPEAR_SYMBOL} "
                    f"{self._in_words(seconds, language)}",
                    f"{DISAPPEAR_PREFIX}{seconds}",
                ),
            )
            for seconds in self.disappearing_times
        ]
        if session.disappear is not None:
            rows.append((Button(self._say(session, texts.off), f"{DISAPPEAR_PREFIX}0"),))
        return Show(
            None,
            self._say(session, texts.text),
            (*rows, *self._navigation_rows(session, None)),
        )

    def _disappear(self, session: Session, seconds: int | None) -> Step:
        language = self._language(session)
        texts = self.flow.system.disappearing
        if seconds is None:
            notice = self._say(session, texts.stopped).strip()
        else:
            on = self._say(session, texts.on).strip()
            notice = f"{on}\n{DISAPPEAR_SYMBOL} {self._in_words(seconds, language)}"
        changed, shown = self._show_current(replace(session, disappear=seconds))
        return changed, (SetDisappearing(seconds), Notice(notice), *shown)

    def _in_words(self, seconds: int, language: str) -> str:
        """One of the disappearing times in words of `language`, worded once per engine."""
        return _kept(
            self._times_in_words, (seconds, language), lambda: self.durations(seconds, language)
        )

    def _language_choice(self, session: Session) -> Show:
        """Every offered language named in itself; the one in use (on a first start, the one the
        phone's language pre-selected) is ticked, and the question is asked in it. Built once per
        language and channel, the only parts of a session it depends on."""
        key = (self._language(session), session.channel)
        return _kept(self._language_lists, key, lambda: self._language_list(session))

    def _language_list(self, session: Session) -> Show:
        language = self._language(session)
        rows = tuple(
            (Button(f"{CURRENT} {name}" if code == language else name, LANGUAGE_PREFIX + code),)
            for code, name in self.languages.items()
        )
        return Show(None, self._say(session, self.flow.system.messages.choose_language), rows)

    def _render(self, session: Session, node_id: str) -> tuple[Action, ...]:
        """A node's screen (and media) for the session: built once per engine for each language,
        channel and whether there is a way back, the only parts of a session it depends on."""
        key = (node_id, self._language(session), session.channel, not session.history)
        return _kept(self._screens, key, lambda: self._screen(session, node_id))

    def _screen(self, session: Session, node_id: str) -> tuple[Action, ...]:
        node = self.flow.nodes[node_id]
        language = self._language(session)
        text = self.renderer.node_text(language, node_id, node, session.channel)
        rows: list[tuple[Button, ...]] = []
        if isinstance(node, HandoverNode) and self.handover_available:
            confirm = self.renderer.text(language, node_id, node.confirm)
            rows.append((Button(confirm, f"{node_id}{OPTION_SEPARATOR}{CONFIRM}"),))
        elif isinstance(node, HandoverNode):
            # No counsellor can answer in the chat: no offer to connect but the centre's contacts
            # and the 24/7 numbers; the node's other options stay.
            text = self._say(session, self.flow.system.messages.handover_unavailable)
        for index, option in enumerate(node.options):
            label = self.renderer.text(language, node_id, option.label)
            data = (
                GLOBAL_PREFIX + option.action
                if option.action is not None
                else f"{node_id}{OPTION_SEPARATOR}{index}"
            )
            rows.append((Button(label, data),))
        rows.extend(self._navigation_rows(session, node_id, exit_only=not node.navigation))
        show = Show(node_id, text, tuple(rows))
        media_root = self.flow.directory / "media"
        media: list[Action] = []
        if node.media is not None:
            media.append(SendMedia(media_root / node.media.path, node.media.kind))
        if audio := node.audio.get(language):  # in the person's language or none at all
            media.append(SendMedia(media_root / audio, "audio"))
        return (*media, show)

    def _navigation_rows(
        self, session: Session, node_id: str | None, *, exit_only: bool = False
    ) -> tuple[tuple[Button, ...], ...]:
        """The buttons every screen gets (system.yaml `navigation`), minus pointless ones:
        no "back" with nowhere to go back to, no "main menu" on the main menu. A node with
        `navigation: false` keeps only the exit: erasing the chat works from every screen."""
        labels = self.flow.system.labels
        buttons = tuple(
            Button(self._say(session, labels.of(action)), GLOBAL_PREFIX + action)
            for action in self.flow.system.navigation
            if not (action is GlobalAction.BACK and not session.history)
            and not (action is GlobalAction.MENU and node_id == self.flow.system.menu)
            and not (exit_only and action is not GlobalAction.EXIT)
        )
        return (buttons,) if buttons else ()

    # -- helpers -----------------------------------------------------------------------------

    def _repaired(self, session: Session) -> Session:
        """A session saved under an older flow or language list, made valid for this one."""
        if (
            (session.node is None or session.node in self._node_ids)
            and (session.language is None or session.language in self.languages)
            and self._node_ids.issuperset(session.history)
        ):
            return session
        node = session.node
        if node is not None and node not in self._node_ids:
            node = self.flow.system.start
        history = tuple(step for step in session.history if step in self._node_ids)
        language = session.language
        if language is not None and language not in self.languages:
            language = self.default_language
        return replace(session, node=node, history=history, language=language)

    def _language(self, session: Session) -> str:
        return session.language or self.default_language

    def _supported(self, hint: str | None) -> str | None:
        """The offered language a client's language code ("de-AT", "ro") stands for, if any."""
        if not hint:
            return None
        code = hint.replace("_", "-").casefold()
        for candidate in (code, code.split("-", 1)[0]):
            if candidate in self.languages:
                return candidate
        return None

    def system_context(self, source: str) -> str:
        """The translation context of a text of system.yaml."""
        return self._system_contexts.get(source, SYSTEM_CONTEXT)

    def web_texts(self, language: str) -> dict[str, str]:
        """The web chat page's own texts (system.yaml `web`) in `language`, by key."""
        return {
            key: self._system_text(language, text)
            for key, text in self.flow.system.web.model_dump().items()
        }

    def _say(self, session: Session, source: str) -> str:
        """A text of system.yaml in the session's language, worded for its channel."""
        return self._system_text(self._language(session), source, session.channel)

    def _system_text(self, language: str, source: str, channel: str | None = None) -> str:
        """A text of system.yaml in `language`: its wording for `channel` where it has one."""
        worded = self._channel_texts.get((channel, source)) if channel else None
        if worded is not None:
            return self.renderer.text(language, *worded)
        return self.renderer.text(language, self.system_context(source), source)

    def _keyword_index(self) -> dict[str, str]:
        """Every keyword in every offered language, so a person can type in their own language
        before they have chosen one. Translations may list several words, comma-separated."""
        index: dict[str, str] = {}
        for node_id, node in self.flow.nodes.items():
            if not node.keywords:
                continue
            words = list(node.keywords)
            source = ", ".join(node.keywords)
            for language in self.languages:
                translated = self.renderer.translator.translate(
                    language, keyword_context(node_id), source
                )
                words.extend(translated.split(","))
            for word in words:
                if normalised := normalise(word):
                    index.setdefault(normalised, node_id)
        return index
