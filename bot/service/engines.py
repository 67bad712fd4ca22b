"""The engine in service: one holder that a flow reload swaps and every channel reads."""

from __future__ import annotations

from bot.dialogue import Engine


class EngineHolder:
    """Each turn takes `engine` once when it begins, so a reload in the middle of a turn does not
    mix two versions of the flow."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def swap(self, engine: Engine) -> Engine:
        """Put `engine` in service; returns the one it replaced."""
        before, self.engine = self.engine, engine
        return before
