"""Structured logging: one JSON object (or one key=value line) per event.

What may appear: event names, counts, durations, error types, and a person's `log_tag` (eight hex
characters of their pseudonym). Never a chat id, user id, name, username or message text. Pass
fields with `extra={...}`; `log.info("session purged", extra={"sessions": 3})`.
"""

from __future__ import annotations

import datetime
import json
import logging
import sys
from typing import Literal

# The attributes every LogRecord has; anything else on a record came in through `extra`.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}

# Libraries that log request URLs (which hold the bot token) or whole updates at INFO or below.
_QUIET = ("httpx", "httpcore", "apscheduler", "telegram", "tornado", "aiosqlite")


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
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
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
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(
    level: str = "INFO", style: Literal["json", "text"] = "json", stream: object = None
) -> None:
    """Log to stderr (or `stream`) in `style`. Chatty libraries only report warnings."""
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(JsonFormatter() if style == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
