"""Log lines (bot/logs.py): the message is kept whatever fields a line brings."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.logs import configure_logging


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
