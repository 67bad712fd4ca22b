"""Log lines (bot/logs.py): the message is kept whatever fields a line brings, and no line holds
the bot token."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from telegram import Bot
from telegram.error import InvalidToken

from bot.logs import conceal, configure_logging
from tests.fake_bot_api import FakeBotAPI


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("INFO", "json", stream)
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_field_named_event_does_not_replace_the_message(log_stream: io.StringIO) -> None:
    logging.getLogger("wegweiser").info(
        "update handled", extra={"person": "58db152f", "event": "ButtonPressed", "ms": 5.2}
    )

    line = json.loads(log_stream.getvalue())
    assert line["event"] == "update handled"
    assert line["event_"] == "ButtonPressed"
    assert (line["person"], line["ms"], line["level"]) == ("58db152f", 5.2, "INFO")


# A token of the real shape (digits, colon, 35 characters), as BotFather gives them.
TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"


async def test_no_line_of_ours_or_of_a_library_holds_the_bot_token(
    log_stream: io.StringIO,
) -> None:
    """httpx logs each request's URL (with the token in its path), python-telegram-bot puts the
    token into the message of a refused token's error: neither reaches the log."""
    logging.getLogger("httpx").setLevel(logging.INFO)  # as an operator looking into a problem
    try:
        async with FakeBotAPI(token=TOKEN) as api:
            conceal(TOKEN)
            async with Bot(TOKEN, base_url=api.base_url) as bot:
                await bot.get_me()
            refused = Bot(TOKEN, base_url=api.base_url.replace("/bot", "/wrong/bot"))
            with pytest.raises(InvalidToken) as raised:
                await refused.initialize()
            logging.getLogger("wegweiser").error("token refused", exc_info=raised.value)
            logging.getLogger("wegweiser").info("url", extra={"url": f"{api.base_url}{TOKEN}/x"})
    finally:
        logging.getLogger("httpx").setLevel(logging.WARNING)

    logged = log_stream.getvalue()
    assert "HTTP Request" in logged and "token refused" in logged  # the lines were written
    assert TOKEN.split(":")[1] not in logged
    assert "/bot<token>/getMe" in logged


def test_a_token_shaped_text_and_a_token_with_a_space_are_redacted(
    log_stream: io.StringIO,
) -> None:
    logging.getLogger("telegram.ext.Updater").warning(
        "Exception for %s and %r", "https://api.telegram.org/bot1234567:abc%20/getUpdates", TOKEN
    )
    line = json.loads(log_stream.getvalue())["event"]
    assert "abc" not in line and TOKEN not in line
    assert line == "Exception for https://api.telegram.org/bot<token>/getUpdates and '<token>'"


def test_a_library_line_about_an_unreadable_update_keeps_neither_the_update_nor_the_error_text(
    log_stream: io.StringIO,
) -> None:
    update = {"message": {"from": {"id": 7391846250, "username": "ana_d_1987"}, "chat": "Ana"}}
    try:
        int("Anamaria")
    except ValueError as error:
        logging.getLogger("telegram.ext.Updater").critical(
            "Something went wrong processing the data received from Telegram. "
            "Received data was *not* processed! Received data was: %r",
            update,
            exc_info=error,
        )

    logged = log_stream.getvalue()
    for needle in ("7391846250", "ana_d_1987", "Ana", "Anamaria"):
        assert needle not in logged
    line = json.loads(logged)
    assert line["event"].startswith("Something went wrong processing the data")
    assert (line["level"], line["error"]) == ("CRITICAL", "ValueError")
