"""The staff group's side of operations: /stats and /reload, and reports of flow reloads.

Commands count only in the configured staff groups (WEGWEISER_COUNSELLOR_CHAT_ID and the teams'
groups); the handler is registered for those chats alone, and anything from elsewhere never
reaches it.
"""

from __future__ import annotations

import asyncio
import datetime
import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from bot.channels.telegram.profile import publish_profile
from bot.dialogue import BotProfile, Engine
from bot.dialogue.engine import command_name
from bot.live_flows import LiveFlows, Reloaded
from bot.metrics import Metrics
from bot.service import Clock, EngineHolder
from bot.stats import as_text, report_tables
from bot.store import SessionStore

log = logging.getLogger(__name__)

# A report to the staff group lists this many problems at most (one message holds 4096
# characters); the log and `wegweiser flows check` have them all.
PROBLEMS_SHOWN = 15
MESSAGE_LIMIT = 4096


def reload_report(result: Reloaded, version: int) -> str:
    if result.engine is not None:
        return f"✅ Flows reloaded: version {version}, {len(result.engine.flow.nodes)} nodes."
    lines = [
        "❌ The changed flows were refused; the bot keeps serving the last good version.",
        f"{len(result.errors)} error(s):",
        *(f"• {problem}" for problem in result.errors[:PROBLEMS_SHOWN]),
    ]
    if len(result.errors) > PROBLEMS_SHOWN:
        lines.append(f"… and {len(result.errors) - PROBLEMS_SHOWN} more (`wegweiser flows check`)")
    return "\n".join(lines)[:MESSAGE_LIMIT]


class Staff:
    """What the staff group can ask of the bot, and the flow reloads it is told about."""

    def __init__(
        self,
        store: SessionStore,
        engines: EngineHolder,
        metrics: Metrics,
        clock: Clock,
        staff_chats: frozenset[int],
        report_to: int | None,
        live: LiveFlows | None,
    ) -> None:
        """`report_to`: the staff group that hears of reloads nobody asked for there."""
        self.store = store
        self.engines = engines
        self.metrics = metrics
        self.clock = clock
        self.staff_chats = staff_chats
        self.report_to = report_to
        self.live = live
        self._reloading = asyncio.Lock()

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
        """/stats or /reload from a staff group; False for anything else."""
        message = update.effective_message
        if message is None or message.text is None or message.chat_id not in self.staff_chats:
            return False
        if not message.text.startswith("/"):
            return False
        name = command_name(message.text.split(maxsplit=1)[0])
        if name == "stats":
            text = await self.statistics(self.clock.now().date())
        elif name == "reload":
            text = await self.reload(context.application, "staff command")
        else:
            return False  # the case desk's, or the counsellors' own
        try:
            await message.reply_text(text)
        except TelegramError as error:
            log.warning("could not answer the staff group", extra={"error": type(error).__name__})
        return True

    async def statistics(self, today: datetime.date) -> str:
        """Today's and this month's counts, small ones shown as "<5"."""
        first_of_month = today.replace(day=1)
        rows = await self.store.counts(first_of_month, today)
        daily = [row for row in rows if row.day == today]
        return "\n\n".join(
            [
                as_text(f"📊 Today, {today.isoformat()}", report_tables(daily)),
                as_text(f"📊 This month, {today:%Y-%m}", report_tables(rows)),
            ]
        )

    async def reload(self, application: Application, reason: str) -> str:
        """Check and load the flows; the staff group is told either way (a /reload gets the
        answer as its reply, other triggers a message of their own)."""
        if self.live is None:
            return "Reloading is not available in this mode."
        async with self._reloading:
            # the check reads files and takes a little while: not on the event loop
            result = await asyncio.to_thread(self.live.reload)
        self.metrics.reloads.labels("ok" if result.engine else "refused").inc()
        if result.engine is not None:
            before = self.engines.swap(result.engine)
            if _profiles(before) != _profiles(result.engine):
                await publish_profile(application, result.engine)
        log.info("reload asked for", extra={"reason": reason, "ok": result.engine is not None})
        return reload_report(result, self.live.version)

    async def reload_and_tell(self, application: Application, reason: str) -> None:
        """A reload not asked for in the staff group (SIGHUP, a changed file): tell it there."""
        text = await self.reload(application, reason)
        if self.report_to is None:
            return
        try:
            await application.bot.send_message(self.report_to, text)
        except TelegramError as error:
            log.warning("could not tell the staff group", extra={"error": type(error).__name__})

    async def watch(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The job that notices changed files."""
        if self.live is not None and await asyncio.to_thread(self.live.changed):
            await self.reload_and_tell(context.application, "files changed")


def _profiles(engine: Engine) -> list[BotProfile]:
    return [engine.profile(language) for language in engine.languages]
