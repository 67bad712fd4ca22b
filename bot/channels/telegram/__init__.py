"""The Telegram channel: python-telegram-bot's Application around the conversation service."""

from bot.channels.telegram.app import ALLOWED_UPDATES, BotSetup, TelegramChannel, webhook_options

__all__ = ["ALLOWED_UPDATES", "BotSetup", "TelegramChannel", "webhook_options"]
