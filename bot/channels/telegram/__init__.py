"""The Telegram channel: python-telegram-bot's Application around the dialogue engine."""

from bot.channels.telegram.app import ALLOWED_UPDATES, BotSetup, build_application, webhook_options

__all__ = ["ALLOWED_UPDATES", "BotSetup", "build_application", "webhook_options"]
