"""A clock the test moves on: the service's Clock port, so that expiry is tested without waiting."""

from __future__ import annotations

import datetime


class SettableClock:
    def __init__(self) -> None:
        self._now = datetime.datetime.now(datetime.UTC)

    def now(self) -> datetime.datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += datetime.timedelta(seconds=seconds)
