"""The channel-agnostic service: one turn of a conversation, the case desk, what counsellors do,
the counters. It knows the dialogue core and the store's interface; every channel (Telegram,
terminal, web) is an adapter that calls it and implements its ports (`ports.py`)."""

from bot.service.casedesk import CaseDesk, PersonNews
from bot.service.conversation import ConversationService, SessionPolicy
from bot.service.counselling import Counselling
from bot.service.engines import EngineHolder
from bot.service.flood import FloodGate
from bot.service.locks import PersonLocks
from bot.service.ports import (
    Capabilities,
    ChannelError,
    Clock,
    Content,
    Counsellor,
    Delivered,
    Inbound,
    Noting,
    NotShown,
    PersonAddress,
    PersonChannel,
    PersonUnreachable,
    PlaceGone,
    StaffChannel,
    SystemClock,
    Unconfirmed,
)
from bot.service.services import Services, Store
from bot.service.statistics import Statistics

__all__ = [
    "Capabilities",
    "CaseDesk",
    "ChannelError",
    "Clock",
    "Content",
    "ConversationService",
    "Counselling",
    "Counsellor",
    "Delivered",
    "EngineHolder",
    "FloodGate",
    "Inbound",
    "NotShown",
    "Noting",
    "PersonAddress",
    "PersonChannel",
    "PersonLocks",
    "PersonNews",
    "PersonUnreachable",
    "PlaceGone",
    "Services",
    "SessionPolicy",
    "StaffChannel",
    "Statistics",
    "Store",
    "SystemClock",
    "Unconfirmed",
]
