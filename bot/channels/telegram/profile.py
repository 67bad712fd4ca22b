"""What Telegram shows about the bot: its description and command menu, in each language."""

from __future__ import annotations

import logging

from telegram import BotCommand
from telegram.error import TelegramError
from telegram.ext import Application

from bot.dialogue import Engine

log = logging.getLogger(__name__)

# Telegram takes command menus and descriptions for two-letter language codes only.
TELEGRAM_LANGUAGE_CODE_LENGTH = 2


async def publish_profile(application: Application, engine: Engine) -> None:
    """The command menu and the descriptions, in the default language for everybody and in each
    other offered language that Telegram can tell apart. A failure is logged and the bot runs on:
    none of this is needed to answer people."""
    bot = application.bot
    default = engine.default_language
    for language in engine.languages:
        code = None if language == default else language
        if code is not None and len(code) != TELEGRAM_LANGUAGE_CODE_LENGTH:
            continue
        profile = engine.profile(language)
        if code is not None and profile == engine.profile(default):
            continue  # not translated: the default texts are shown anyway
        commands = [BotCommand(name, text) for name, text in profile.commands.items()]
        calls = {
            "setMyCommands": bot.set_my_commands(commands, language_code=code),
            "setMyDescription": bot.set_my_description(profile.description, language_code=code),
            "setMyShortDescription": bot.set_my_short_description(
                profile.short_description, language_code=code
            ),
        }
        for method, call in calls.items():
            try:
                await call
            except TelegramError as error:
                log.warning(
                    "could not set the bot's profile; running on without it",
                    extra={"method": method, "language": language, "error": str(error)},
                )
