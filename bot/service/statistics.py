"""The anonymous counters: each turn's events, and the case desk's, into the store's per-day
counters and the process's metrics."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence

from bot.dialogue import Action, Engine, Erase, Session
from bot.metrics import Metrics
from bot.stats import Counted, turn_events
from bot.stats.events import home_areas
from bot.store import SessionStore, StoreError

log = logging.getLogger(__name__)


class Statistics:
    def __init__(self, store: SessionStore, metrics: Metrics) -> None:
        self.store = store
        self.metrics = metrics

    async def count(self, counted: Sequence[Counted], now: datetime.datetime) -> None:
        """A failure to count is logged: the person is answered all the same."""
        if not counted:
            return
        self.metrics.count(counted)
        try:
            await self.store.add_counts(now.date(), counted)
        except StoreError as error:
            log.warning("could not count the statistics", extra={"error": str(error)})

    async def count_turn(
        self,
        engine: Engine,
        before: Session,
        after: Session,
        actions: Sequence[Action],
        *,
        fresh: bool,
        now: datetime.datetime,
    ) -> None:
        counted = turn_events(
            before,
            after,
            actions,
            fresh=fresh and not any(isinstance(action, Erase) for action in actions),
            home_areas=home_areas(engine.flow),
            default_language=engine.default_language,
        )
        await self.count(list(counted), now)
