"""Structured logging: one JSON object (or one key=value line) per event.

What may appear: event names, counts, durations, error types, and a person's `log_tag` (eight hex
characters that change with every session, bot/store/keys.py), never with a case code or a node.
Never a chat id, user id, name, username or message text. Pass fields with `extra={...}`;
`log.info("session purged", extra={"sessions": 3})`.

Every line also passes the `Redactor` on the handler, whoever logged it: the bot token (and any
Bot API URL path, which holds it) becomes `<token>`, and python-telegram-bot's lines about an
update it could not read lose the update (it holds ids and names).
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import sys
import traceback
from typing import Literal

# The attributes every LogRecord has; anything else on a record came in through `extra`.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}

# Libraries that log request URLs (which hold the bot token) or whole updates at INFO or below.
_QUIET = ("httpx", "httpcore", "telegram", "tornado", "aiosqlite")

REDACTED = "<token>"
# A bot token (digits, a colon, 35 characters), and the path of a Bot API URL, which holds the
# token (percent-encoded, if it came with spaces): /bot<token>/getMe, /file/bot<token>/...
_TOKEN_SHAPED = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}")
_API_PATH = re.compile(r"(/bot)\d+:[^/\s\"'?#]*")
# Tokens this process uses, whatever their shape (registered with `conceal`).
_concealed: set[str] = set()
# python-telegram-bot logs the data of an update it cannot read ("Received data was %r") at
# CRITICAL: the user's id, names and username. Such a line keeps its words and the error's type.
UPDATE_DATA = "Received data was"
_OWN_LOGGERS = ("bot.", "wegweiser", "__main__")


def conceal(secret: str) -> None:
    """Never log `secret` (the bot token): it is replaced by <token> in every line."""
    for form in {secret, secret.strip()}:
        if form:
            _concealed.add(form)


def redacted(text: str) -> str:
    """`text` without the bot token, for a line of the log or a message on stderr."""
    for secret in sorted(_concealed, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _API_PATH.sub(rf"\1{REDACTED}", text)
    return _TOKEN_SHAPED.sub(REDACTED, text)


class Redactor(logging.Filter):
    """On the handler: every record, ours or a library's, is rendered and stripped of the token
    before any formatter sees it; a library's record about an unreadable update loses the
    update's data and the error's message (which may quote it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(_OWN_LOGGERS) and UPDATE_DATA in str(record.msg):
            record.msg = str(record.msg).split(UPDATE_DATA)[0].strip() + " (update not logged)"
            record.args = ()
            if record.exc_info and record.exc_info[1] is not None:
                record.__dict__["error"] = type(record.exc_info[1]).__name__
            record.exc_info = None
            record.exc_text = None
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit the message
            message = str(record.msg)
        record.msg, record.args = redacted(message), ()
        if record.exc_info:
            record.exc_text = redacted("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redacted(record.exc_text)
        if record.stack_info:
            record.stack_info = redacted(record.stack_info)
        for key, value in fields_of(record).items():
            if isinstance(value, str):
                record.__dict__[key] = redacted(value)
        return True


def fields_of(record: logging.LogRecord) -> dict[str, object]:
    return {key: value for key, value in record.__dict__.items() if key not in _STANDARD}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        if failure := _failure(self, record):
            entry["error"] = failure
        for key, value in fields_of(record).items():
            # A field named like one of the line's own keys (`extra={"event": ...}`) must not
            # replace the message: it is written as `event_`.
            while key in entry:
                key += "_"
            entry[key] = value
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        time = datetime.datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        extra = " ".join(f"{key}={value}" for key, value in fields_of(record).items())
        line = f"{time} {record.levelname:<7} {record.getMessage()}" + (
            f"  {extra}" if extra else ""
        )
        if failure := _failure(self, record):
            line += "\n" + failure
        return line


def _failure(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    """The traceback of the record, as the Redactor left it (or as it came, without one)."""
    if record.exc_text:
        return record.exc_text.rstrip("\n")
    return formatter.formatException(record.exc_info) if record.exc_info else ""


def configure_logging(
    level: str = "INFO", style: Literal["json", "text"] = "json", stream: object = None
) -> None:
    """Log to stderr (or `stream`) in `style`. Chatty libraries only report warnings."""
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(JsonFormatter() if style == "json" else TextFormatter())
    handler.addFilter(Redactor())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    # uvicorn's access log names each client's address and path: off for good, whatever a
    # library or a handler added later would make of it (the web chat also starts uvicorn so)
    logging.getLogger("uvicorn.access").disabled = True
