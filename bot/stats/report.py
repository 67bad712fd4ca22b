"""Reports of the anonymous counters for funders (`wegweiser stats`) and the staff group (/stats).

Counts of 1 to 4 are shown as "<5", so that nobody can be singled out ("the one Bulgarian who
asked about housing this month"). Where a column has a total and exactly one cell of it is "<5",
that cell could be worked out from the total; the next smallest cell is then hidden too ("*").
"""

from __future__ import annotations

import csv
import html
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.pages import page
from bot.stats.events import REPLY_BUCKETS, CountRow, Event

SMALL = 5
HIDDEN = "*"
SMALL_SHOWN = f"<{SMALL}"


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]  # the first is the label column
    rows: tuple[tuple[str, ...], ...]  # label, then the shown cells
    total: tuple[str, ...] | None = None  # "total", then the shown sums


OVERVIEW = (
    (Event.CONVERSATION_STARTED, "conversations started"),
    (Event.LANGUAGE_CHOSEN, "languages chosen"),
    (Event.AREA_OPENED, "topic areas opened"),
    (Event.HANDOVER_REQUESTED, "counsellor requested"),
    (Event.HANDOVER_CLAIMED, "counsellor conversations claimed"),
    (Event.HANDOVER_COMPLETED, "counsellor conversations completed"),
    (Event.EXIT_USED, "/exit used"),
    (Event.DISAPPEARING_MODE, "disappearing mode switched on"),
    (Event.NOTHING_FOUND, "typed questions that found nothing"),
)
PER_LANGUAGE = (
    (Event.CONVERSATION_STARTED, "conversations"),
    (Event.LANGUAGE_CHOSEN, "chosen"),
    (Event.HANDOVER_REQUESTED, "counsellor requested"),
    (Event.EXIT_USED, "/exit"),
    (Event.NOTHING_FOUND, "typed, found nothing"),
)
PER_AREA = (
    (Event.AREA_OPENED, "opened"),
    (Event.HANDOVER_REQUESTED, "counsellor requested"),
)
NOTE = (
    f"Counts of 1 to {SMALL - 1} are shown as {SMALL_SHOWN}; {HIDDEN}: hidden so that a "
    f"{SMALL_SHOWN} cell cannot be worked out from the total."
)


def shown(count: int) -> str:
    return SMALL_SHOWN if 0 < count < SMALL else str(count)


def report_tables(rows: Iterable[CountRow]) -> list[Table]:
    """The tables of a report over `rows` (any span of days)."""
    rows = list(rows)
    by_event = Counter[str]()
    by_language = Counter[tuple[str, str]]()
    by_area = Counter[tuple[str, str]]()
    for row in rows:
        by_event[row.event] += row.count
        by_language[(row.language, row.event)] += row.count
        if row.area and row.event != Event.FIRST_REPLY:
            by_area[(row.area, row.event)] += row.count
    replies = Counter[str]()
    for row in rows:
        if row.event == Event.FIRST_REPLY:
            replies[row.area] += row.count
    overview = Table(
        "Overview",
        ("event", "count"),
        tuple((label, shown(by_event[event])) for event, label in OVERVIEW),
    )
    languages = sorted({language for language, _ in by_language})
    areas = sorted({area for area, _ in by_area})
    return [
        overview,
        _crossed("Per language", "language", languages, PER_LANGUAGE, by_language),
        _crossed("Per topic area", "topic area", areas, PER_AREA, by_area),
        _crossed(
            "Time to the first counsellor reply",
            "waited",
            [label for _, label in REPLY_BUCKETS],
            ((Event.FIRST_REPLY, "conversations"),),
            Counter({(bucket, Event.FIRST_REPLY.value): n for bucket, n in replies.items()}),
        ),
    ]


def _crossed(
    title: str,
    label: str,
    keys: Sequence[str],
    columns: Sequence[tuple[Event, str]],
    counts: Counter[tuple[str, str]],
) -> Table:
    """Rows `keys`, one column per event, a total row, and the small counts protected."""
    matrix = [[counts[(key, event)] for event, _ in columns] for key in keys]
    cells = [[shown(n) for n in row] for row in matrix]
    for column in range(len(columns)):
        values = [row[column] for row in matrix]
        small = [index for index, n in enumerate(values) if 0 < n < SMALL]
        if len(small) == 1:
            others = [(n, index) for index, n in enumerate(values) if n >= SMALL]
            if others:
                cells[min(others)[1]][column] = HIDDEN
    total = ("total", *(shown(sum(row[c] for row in matrix)) for c in range(len(columns))))
    return Table(
        title,
        (label, *(name for _, name in columns)),
        tuple((key, *row) for key, row in zip(keys, cells, strict=True)),
        total,
    )


def as_markdown(heading: str, tables: Sequence[Table]) -> str:
    out = [f"# {heading}", ""]
    for table in tables:
        out += [f"## {table.title}", ""]
        out.append("| " + " | ".join(table.columns) + " |")
        out.append("|" + "|".join(["---", *("---:" for _ in table.columns[1:])]) + "|")
        for row in (*table.rows, *((table.total,) if table.total else ())):
            out.append("| " + " | ".join(row) + " |")
        out.append("")
    out.append(NOTE)
    return "\n".join(out) + "\n"


def as_csv(tables: Sequence[Table]) -> str:
    """One line per cell: table, row, column, value (a spreadsheet pivots it as needed)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["table", "row", "column", "value"])
    for table in tables:
        for row in (*table.rows, *((table.total,) if table.total else ())):
            for column, value in zip(table.columns[1:], row[1:], strict=True):
                writer.writerow([table.title, row[0], column, value])
    return buffer.getvalue()


_HTML_STYLE = """
table { border-collapse: collapse; min-width: 28rem; }
th, td { padding: .3rem .6rem; border-bottom: 1px solid #e2e8f0; text-align: left; }
th { font-weight: 600; border-bottom: 2px solid #94a3b8; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; min-width: 6rem; }
td.n div { padding: 0 .3rem;
           background: linear-gradient(to left, #93c5fd var(--bar), transparent var(--bar)); }
tr.total td { font-weight: 600; border-top: 2px solid #94a3b8; }
"""


def as_html(title: str, period: str, tables: Sequence[Table]) -> str:
    """A page for funders: each table with a bar behind every count, as long as the count is
    against the largest in its column. A "<5" or hidden cell gets no bar: its length would tell
    what the cell hides."""
    body = [_html_table(table) for table in tables]
    body.append(f'<p class="note">{html.escape(NOTE)}</p>')
    return page(title, period, "\n".join(body), _HTML_STYLE)


def _html_table(table: Table) -> str:
    highest = [
        max((int(row[column]) for row in table.rows if row[column].isdigit()), default=0)
        for column in range(len(table.columns))
    ]

    def cells(row: tuple[str, ...], bars: bool) -> str:
        out = [f"<td>{html.escape(row[0])}</td>"]
        for column, value in enumerate(row[1:], start=1):
            share = (
                int(value) / highest[column] if bars and value.isdigit() and highest[column] else 0
            )
            out.append(
                f'<td class="n"><div style="--bar:{share:.0%}">{html.escape(value)}</div></td>'
            )
        return "".join(out)

    head = f"<th>{html.escape(table.columns[0])}</th>" + "".join(
        f'<th class="n">{html.escape(name)}</th>' for name in table.columns[1:]
    )
    rows = [f"<tr>{cells(row, bars=True)}</tr>" for row in table.rows]
    if table.total:
        rows.append(f'<tr class="total">{cells(table.total, bars=False)}</tr>')
    return (
        f"<section><h2>{html.escape(table.title)}</h2>\n"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def as_text(heading: str, tables: Sequence[Table]) -> str:
    """For a chat: the overview, and per language and topic area their first figure."""
    overview, *crossed = tables
    out = [heading]
    out += [f"{label}: {value}" for label, value in overview.rows]
    for table in crossed[:2]:
        if table.rows:
            parts = ", ".join(f"{row[0]} {row[1]}" for row in table.rows)
            out.append(f"{table.title.lower()} ({table.columns[1]}): {parts}")
    return "\n".join(out)
