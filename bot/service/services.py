"""The services as one value, for the channels the runtime starts."""

from __future__ import annotations

from dataclasses import dataclass

from bot.service.casedesk import CaseDesk
from bot.service.conversation import ConversationService
from bot.service.counselling import Counselling
from bot.service.engines import EngineHolder
from bot.service.ports import Clock
from bot.service.statistics import Statistics
from bot.store import CaseStore, SessionStore


class Store(SessionStore, CaseStore):
    """Both halves of the store, as one backend provides them."""


@dataclass(frozen=True)
class Services:
    store: SessionStore
    engines: EngineHolder
    clock: Clock
    statistics: Statistics
    conversations: ConversationService
    # When counsellors answer in the chat (a staff group is configured).
    desk: CaseDesk | None = None
    counselling: Counselling | None = None
