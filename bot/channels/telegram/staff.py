"""The staff group's side of operations: /stats and /reload.

Commands count only in the configured staff groups (WEGWEISER_COUNSELLOR_CHAT_ID and the teams'
groups); the handler is registered for those chats alone, and anything from elsewhere never
reaches it.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.dialogue.engine import command_name
from bot.service import Clock
from bot.stats import as_text, report_tables
from bot.store import SessionStore

log = logging.getLogger(__name__)


def for_another_bot(text: str | None, own_username: str) -> bool:
    """A command addressed to another bot: in the staff group ("/close@otherbot") neither acted
    on nor relayed to the person; in a private chat ("/exit@otherbot") no command of ours."""
    if not text or not text.startswith("/"):
        return False
    _, at, addressee = text.split(maxsplit=1)[0].partition("@")
    return bool(at) and addressee.casefold() != own_username.casefold()


class Staff:
    """What the staff group can ask of the bot."""

    def __init__(
        self,
        store: SessionStore,
        clock: Clock,
        staff_chats: frozenset[int],
        reload: Callable[[str], Awaitable[str]] | None,
    ) -> None:
        """`reload(reason)`: the runtime's flow reload; None where flows do not reload."""
        self.store = store
        self.clock = clock
        self.staff_chats = staff_chats
        self.reload = reload

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
            if self.reload is None:
                text = "Reloading is not available in this mode."
            else:
                text = await self.reload("staff command")
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
