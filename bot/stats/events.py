"""What a conversation contributes to the anonymous statistics: counted events, never a record.

A turn of the dialogue (the session before and after, and the engine's actions) yields a few
`Counted` values: an event name, the language and, where it means something, the topic area.
Channels add them to per-day counters; nothing links a count to a person, a session or a time of
day. Pure: no storage, no clock.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.dialogue import (
    Action,
    Erase,
    NothingFound,
    RequestHandover,
    Session,
    SetDisappearing,
    SetLanguage,
)
from bot.dialogue.flow import Flow, namespace_of


class Event(StrEnum):
    CONVERSATION_STARTED = "conversation_started"
    LANGUAGE_CHOSEN = "language_chosen"
    AREA_OPENED = "area_opened"
    HANDOVER_REQUESTED = "handover_requested"
    HANDOVER_CLAIMED = "handover_claimed"
    HANDOVER_COMPLETED = "handover_completed"
    FIRST_REPLY = "first_reply"  # the area is the bucket of the waiting time
    EXIT_USED = "exit_used"
    DISAPPEARING_MODE = "disappearing_mode"
    # A typed question that found no screen (counted, never its text): where people get lost.
    NOTHING_FOUND = "nothing_found"


# Buckets of the time to a counsellor's first reply, as (upper bound in minutes, label).
REPLY_BUCKETS: tuple[tuple[float, str], ...] = (
    (5, "<5 min"),
    (15, "5-15 min"),
    (60, "15-60 min"),
    (240, "1-4 h"),
    (24 * 60, "4-24 h"),
    (float("inf"), ">24 h"),
)

NO_AREA = ""


@dataclass(frozen=True, slots=True, order=True)
class Counted:
    event: Event
    language: str
    area: str = NO_AREA


@dataclass(frozen=True, slots=True)
class CountRow:
    """One counter as the store keeps it: how often `event` happened on `day`."""

    day: datetime.date
    event: str
    language: str
    area: str
    count: int


def reply_bucket(minutes: float) -> str:
    """The histogram bucket of a waiting time: only the bucket is counted, never the time."""
    return next(label for bound, label in REPLY_BUCKETS if minutes < bound)


def turn_events(
    before: Session,
    after: Session,
    actions: Sequence[Action],
    *,
    fresh: bool,
    home_areas: Iterable[str],
    default_language: str,
) -> Iterator[Counted]:
    """The counted events of one turn. `fresh`: the turn began without a session (a first
    message, or one after /exit or expiry). `home_areas`: namespaces of the welcome and the main
    menu, which are not topic areas."""
    language = after.language or before.language or default_language
    if fresh:
        yield Counted(Event.CONVERSATION_STARTED, language)
    for action in actions:
        if isinstance(action, SetLanguage):
            yield Counted(Event.LANGUAGE_CHOSEN, action.language)
        elif isinstance(action, RequestHandover):
            yield Counted(Event.HANDOVER_REQUESTED, action.language, action.area)
        elif isinstance(action, Erase):
            yield Counted(Event.EXIT_USED, before.language or default_language)
        elif isinstance(action, SetDisappearing) and action.seconds is not None:
            yield Counted(Event.DISAPPEARING_MODE, language)
        elif isinstance(action, NothingFound):
            yield Counted(Event.NOTHING_FOUND, action.language)
    entered = _area(after.node)
    if entered and entered != _area(before.node) and entered not in set(home_areas):
        yield Counted(Event.AREA_OPENED, language, entered)


def home_areas(flow: Flow) -> frozenset[str]:
    """The namespaces of the welcome, the main menu, the counsellor request and the privacy
    screen: places every conversation passes, not topic areas."""
    system = flow.system
    return frozenset(
        namespace_of(node)
        for node in (system.start, system.menu, system.counsellor, system.privacy)
    )


def _area(node_id: str | None) -> str | None:
    return namespace_of(node_id) if node_id else None
