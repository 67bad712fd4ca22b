"""The reports: small counts hidden as "<5", and never worked out from a total."""

from __future__ import annotations

import csv
import datetime
import io

from bot.stats import CountRow, Event, Table, as_csv, as_markdown, as_text, report_tables

DAY = datetime.date(2026, 11, 3)


def row(event: Event, language: str, area: str, count: int) -> CountRow:
    return CountRow(DAY, event.value, language, area, count)


ROWS = [
    row(Event.CONVERSATION_STARTED, "ro", "", 9),
    row(Event.CONVERSATION_STARTED, "de", "", 7),
    row(Event.CONVERSATION_STARTED, "bg", "", 2),
    row(Event.AREA_OPENED, "ro", "health", 6),
    row(Event.AREA_OPENED, "bg", "housing", 1),
    row(Event.AREA_OPENED, "de", "health", 3),
    row(Event.EXIT_USED, "ro", "", 12),
]


def table(title: str) -> Table:
    return next(t for t in report_tables(ROWS) if t.title == title)


def test_counts_of_one_to_four_are_shown_as_less_than_five() -> None:
    languages = table("Per language")
    shown = {r[0]: r[1] for r in languages.rows}  # conversations per language
    assert shown["bg"] == "<5"
    overview = dict(table("Overview").rows)
    assert overview["conversations started"] == "18"
    assert overview["counsellor requested"] == "0"  # nothing is not a small count


def test_a_lone_small_cell_cannot_be_worked_out_from_the_total() -> None:
    languages = table("Per language")
    conversations = {r[0]: r[1] for r in languages.rows}
    # total 18 = 9 + 7 + 2: with the 7 shown, the "<5" of bg would be 2. The 7 is hidden too.
    assert conversations == {"bg": "<5", "de": "*", "ro": "9"}
    assert languages.total is not None and languages.total[1] == "18"


def test_two_small_cells_protect_each_other() -> None:
    areas = table("Per topic area")
    opened = {r[0]: r[1] for r in areas.rows}
    # health 6 + 3 = 9 (one cell per area), housing 1: the lone small cell hides the smallest
    assert opened == {"health": "*", "housing": "<5"}


def test_markdown_and_csv_say_the_same() -> None:
    tables = report_tables(ROWS)
    markdown = as_markdown("Wegweiser 2026-11", tables)
    assert markdown.startswith("# Wegweiser 2026-11\n")
    assert "| bg | <5 | 0 | 0 | 0 |" in markdown
    assert "Counts of 1 to 4 are shown as <5" in markdown
    cells = list(csv.DictReader(io.StringIO(as_csv(tables))))
    assert {"table": "Per language", "row": "bg", "column": "conversations", "value": "<5"} in cells
    assert not any(cell["value"] in {"1", "2", "3", "4"} for cell in cells)


def test_no_small_number_escapes_in_any_format() -> None:
    tables = report_tables(ROWS)
    for text in (as_markdown("x", tables), as_csv(tables), as_text("x", tables)):
        for small in ("| 1 |", "| 2 |", ",2\n", ",1\n", " 2,", " 1,"):
            assert small not in text, (small, text)
