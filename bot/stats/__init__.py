"""Anonymous statistics: per-day counters of events (never a row per person or session), and the
reports made from them."""

from bot.stats.events import REPLY_BUCKETS, Counted, CountRow, Event, reply_bucket, turn_events
from bot.stats.report import (
    Table,
    as_csv,
    as_html,
    as_markdown,
    as_text,
    report_tables,
    shown,
)

__all__ = [
    "REPLY_BUCKETS",
    "CountRow",
    "Counted",
    "Event",
    "Table",
    "as_csv",
    "as_html",
    "as_markdown",
    "as_text",
    "reply_bucket",
    "report_tables",
    "shown",
    "turn_events",
]
