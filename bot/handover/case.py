"""A case: one person's conversation with the counsellors, as the staff group sees it.

It is known by an anonymous code (K7Q2) and lives in one forum topic of a team's staff group.
The person is linked to it only by their session's pseudonym, and only until the case expires.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

# No 0/O, 1/I/L: a counsellor may read the code out on the phone.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 4

# Return codes are three of these words and a number: easy to note down and to type on any
# phone keyboard, unrelated to the person: about 240 words, three of them, and 90 numbers give
# over a billion codes.
# A list literal of 239 words would take 239 lines.
RETURN_WORDS = tuple(
    """
    acorn amber anchor apple arrow aspen autumn badge bagel bamboo banjo barley basil beacon berry
    birch biscuit blossom bonbon breeze brook bubble button cabin cactus camel candle canyon carrot
    castle cedar cello cherry chess cider circle citrus cloud clover cobalt cocoa comet copper coral
    cotton cricket crystal cupcake daisy delta denim desert dolphin domino donut dragon dune eagle
    echo elbow ember emerald falcon feather fern fiddle fig flame flint forest fossil fountain fox
    galaxy garden garnet gecko ginger glacier globe grape gravel guitar hammock harbor hazel helmet
    heron hill honey horizon iris island ivory jacket jade jasmine jelly jigsaw jungle kayak kettle
    kiwi koala ladder lagoon lantern lava lemon lilac lily lime linen lotus lunar magnet mango maple
    marble meadow melon meteor mint mirror mitten moon mosaic moss mountain muffin nectar nest
    noodle nutmeg oasis ocean olive onion opal orbit orchid otter owl paddle palm panda paper parrot
    peach pearl pebble pepper piano pillow pine planet plum pocket polar pony poppy prism pumpkin
    puzzle quartz quill rabbit radish rain raven reef ribbon river robin rocket rose ruby saffron
    sail salmon sand saturn scarf seed shell silver sky sloth snow socks sparrow spice spiral spruce
    squash star stone storm sugar summit sun swan tango teapot thistle thunder tiger timber tomato
    topaz tulip tundra turtle umbrella valley vanilla velvet violet volcano waffle walnut water wave
    whale willow window winter wolf yarrow yogurt zebra zinc anise apron bison cosmos fjord jewel
    quince
    """.split()  # noqa: SIM905
)


class CaseState(StrEnum):
    WAITING = "waiting"  # no counsellor has claimed it yet
    CLAIMED = "claimed"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Case:
    code: str
    person: bytes | None  # the pseudonym of the person's session; None once they erased it
    team: str
    # Where the case lives, as the staff channel names it: the team's staff group, and the
    # case's place there (a forum topic; "" until the channel made one).
    group: str
    place: str
    language: str
    area: str
    path: tuple[str, ...]  # the nodes the person came through
    opened: datetime
    expires: datetime
    state: CaseState = CaseState.WAITING
    card: str | None = None  # the case card, the place's first post
    alias: str | None = None  # the name the claiming counsellor chose
    claimed: datetime | None = None
    replied: datetime | None = None  # the counsellors' first reply
    closed: datetime | None = None
    told_nobody: bool = False  # the person was told that nobody claimed it in time

    def with_state(self, state: CaseState, **changes: object) -> Case:
        return replace(self, state=state, **changes)  # type: ignore[arg-type]


def new_case_code(taken: set[str] | frozenset[str] = frozenset()) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if code not in taken:
            return code


def new_return_code() -> str:
    """ "amber-otter-lemon-42": three words and a number."""
    words = [secrets.choice(RETURN_WORDS) for _ in range(3)]
    return "-".join([*words, str(10 + secrets.randbelow(90))])


_SEPARATORS = re.compile(r"[\s\-_.,;:/]+")


def normalised_return_code(typed: str) -> str | None:
    """A typed text as a return code, if it looks like one: case, spaces and dashes do not
    matter ("Amber Otter lemon 42"). None for anything else."""
    parts = [part for part in _SEPARATORS.split(typed.strip().casefold()) if part]
    if len(parts) != 4 or not parts[3].isdigit() or not all(p in RETURN_WORDS for p in parts[:3]):
        return None
    return "-".join(parts)
