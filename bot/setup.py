"""What the runtime is started with (bot/runtime.py), apart from the engine and the web chat's
setup: its own module, so that a run without Telegram loads no Telegram library."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import Deployment
from bot.handover.teams import Team
from bot.live_flows import LiveFlows
from bot.service import Clock, SystemClock
from bot.store import SecretKeys


@dataclass(frozen=True)
class BotSetup:
    """Everything the runtime needs besides the engine and the web chat's setup: the store, the
    keys, the deployment, and how to reach the Bot API (when Telegram runs)."""

    token: str | None  # None: Telegram is off (the web chat runs alone)
    api_url: str
    database: Path
    keys: SecretKeys
    deployment: Deployment
    staff_chat_id: int | None = None
    # Waits before retrying a call that timed out or met a server error, and the read timeout.
    retry_delays: Sequence[float] = (1.0, 3.0, 10.0)
    read_timeout: float = 10.0
    # Flow reloads (SIGHUP, /reload, changed files); None: the flow stays as started.
    live_flows: LiveFlows | None = None
    # (address, port) of /healthz and /metrics; None: switched off. Port 0: any free port.
    operations: tuple[str, int] | None = None
    clock: Clock = field(default_factory=SystemClock)
    # Webhook mode: (public URL, listen address, port); None: long polling.
    webhook: tuple[str, str, int] | None = None
    # How long one getUpdates waits for news (long polling).
    poll_timeout: float = 10.0
    # How often /healthz's Bot API state is refreshed (getMe), in seconds.
    health_every: float = 30.0

    @property
    def teams(self) -> list[Team]:
        """The teams counsellors answer in: none without Telegram, whose groups they are."""
        return [] if self.token is None else self.deployment.teams(self.staff_chat_id)

    @property
    def staff_chats(self) -> frozenset[int]:
        """Every staff group (Telegram's, the only staff channel): the teams' and
        WEGWEISER_COUNSELLOR_CHAT_ID."""
        chats = {int(team.group) for team in self.deployment.teams(self.staff_chat_id)}
        if self.staff_chat_id is not None:
            chats.add(self.staff_chat_id)
        return frozenset(chats)
