"""The ports of the conversation service: what it needs of a person's channel, of the staff
channel and of the clock. Each adapter (Telegram private chats, the Telegram staff group, the
terminal, later the web) implements one of them; the service never sees a channel's own types.

Message references and addresses are opaque text: the channel that made them reads them.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.dialogue import Action, Event
from bot.handover.case import Case


class Clock(Protocol):
    def now(self) -> datetime.datetime:
        """The time now, aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC)


# -- failures a channel reports in the service's words -------------------------------------------


class ChannelError(Exception):
    """A call to a channel failed; `detail` is the channel's own short reason (no identity).
    `sent`: refs of the messages that reached the person before the failure (a delivery of
    several that broke halfway), for /exit to delete all the same."""

    def __init__(self, detail: str, kind: str = "", *, sent: Sequence[str] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.kind = kind or type(self).__name__
        self.sent = tuple(sent)


class PersonUnreachable(ChannelError):
    """The person cannot be reached through their channel any more (they blocked the bot)."""


class NotShown(ChannelError):
    """The person's channel cannot show this kind of content (the web chat shows text only):
    sending it again would fail again."""


class PlaceGone(ChannelError):
    """The case's place on the staff side is gone (a counsellor deleted the topic)."""


class Unconfirmed(ChannelError):
    """A relay got no answer: it may have arrived or not. It is not sent again (it would arrive
    twice if the first got there); its sender is told instead."""


# -- values crossing the ports ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a person's channel can do; the service asks instead of assuming Telegram."""

    edit_in_place: bool
    toasts: bool
    toast_limit: int = 0
    # How old a message may be for the channel to delete it; None: any age.
    delete_window: datetime.timedelta | None = None


@dataclass(frozen=True, slots=True)
class PersonAddress:
    """Where a person is reached: the channel's name and its own id of the conversation. Only in
    memory: the store keeps a keyed pseudonym of it and the sealed address."""

    channel: str
    native: str


@dataclass(frozen=True, slots=True)
class Content:
    """What a person or a counsellor wrote, passed through and never stored. `ref` is the
    message's id on its own side, `reply_to` the id of the message it answers (same side),
    `source` the chat it lies in (a channel of the same kind may copy it from there instead of
    sending the text, as Telegram copies without forwarding)."""

    ref: str
    text: str | None = None
    reply_to: str | None = None
    source: PersonAddress | None = None


@dataclass(slots=True)
class Delivered:
    """What reached the person: refs of the new messages, and the one now showing the screen."""

    refs: list[str] = field(default_factory=list)
    screen: str | None = None


Noting = Callable[[], Awaitable[None]]
"""Called by a channel just before a relay leaves for it (after any wait for its rate limits), so
that the service notes it then: a crash before that point is known to have sent nothing."""

Acknowledge = Callable[[str | None], Awaitable[None]]
"""Answers a pressed button, with a short notice (a toast) where the channel shows one."""


@dataclass(frozen=True, slots=True)
class Inbound:
    """One thing a person did, as a channel hands it to the service."""

    person: PersonAddress
    event: Event
    keep: tuple[str, ...] = ()  # refs of the person's own messages, for /exit to delete
    pressed: str | None = None  # the message whose button was pressed
    acknowledge: Acknowledge | None = None
    content: Content | None = None  # what the person sent, for a counsellor


@dataclass(frozen=True, slots=True)
class Counsellor:
    """A counsellor as the staff channel knows them: their account's id there, by whose keyed
    digest their chosen alias is found (the id itself, and their name, are never kept)."""

    id: str


# -- the ports -----------------------------------------------------------------------------------


class PersonChannel(Protocol):
    """A channel people write through (Telegram private chats, the web, the terminal)."""

    name: str
    capabilities: Capabilities

    async def deliver(
        self, address: str, actions: Sequence[Action], *, edit: str | None
    ) -> Delivered:
        """Show the engine's actions, in order; `edit`: the screen to replace in place, if the
        channel can. Raises PersonUnreachable or ChannelError."""
        ...

    async def relay(
        self, address: str, content: Content, reply_to: str | None, noting: Noting
    ) -> str:
        """A counsellor's content into the person's conversation; returns its ref. Raises
        Unconfirmed when it got no answer (it is not sent again)."""
        ...

    async def edit(self, address: str, ref: str, text: str) -> None:
        """Replace the text of a relayed message (a counsellor edited theirs)."""
        ...

    async def delete(self, address: str, refs: Sequence[str], keep: Collection[str] = ()) -> None:
        """Delete messages; a part that fails is logged by the channel, the rest go on. A channel
        whose refs run in sequence also deletes what lies between them (messages the service
        never heard of, such as one sent just before a crash), except the refs in `keep`."""
        ...


class StaffChannel(Protocol):
    """Where counsellors see cases: each case has a place (a forum topic) with a card."""

    async def open(self, case: Case, name: str, card: str) -> Case:
        """A new place for the case with its card as the first post; the case as placed."""
        ...

    async def reopen(self, case: Case) -> None:
        """Open the case's closed place again. Raises PlaceGone."""
        ...

    async def show(self, case: Case, name: str, card: str) -> None:
        """The place's name and card say where the case is now."""
        ...

    async def note(self, case: Case, text: str) -> None: ...

    async def close(self, case: Case) -> None: ...

    async def relay(
        self, case: Case, content: Content, reply_to: str | None, noting: Noting
    ) -> str:
        """The person's content into the case's place; returns the copy's ref. Raises
        PlaceGone, Unconfirmed or ChannelError."""
        ...

    async def edit(self, case: Case, ref: str, text: str) -> None: ...

    async def delete(self, case: Case, refs: Sequence[str]) -> None: ...
