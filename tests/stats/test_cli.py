"""`wegweiser stats`: the monthly report for funders, from the real database file."""

from __future__ import annotations

import asyncio
import datetime
from pathlib import Path

from bot.stats import Counted, Event
from bot.store.sqlite import SQLiteStore
from tests.conftest import wegweiser


def database_with_a_month(path: Path) -> Path:
    async def fill() -> None:
        store = await SQLiteStore.open(path)
        try:
            for day, language, n in ((3, "ro", 6), (17, "ro", 4), (17, "bg", 3), (30, "de", 9)):
                started = [Counted(Event.CONVERSATION_STARTED, language)] * n
                await store.add_counts(datetime.date(2026, 11, day), started)
            health = [Counted(Event.AREA_OPENED, "ro", "health")] * 7
            await store.add_counts(datetime.date(2026, 11, 4), health)
            # another month does not count
            await store.add_counts(datetime.date(2026, 12, 1), started)
        finally:
            await store.close()

    asyncio.run(fill())
    return path


def test_the_monthly_report_in_markdown(tmp_path: Path) -> None:
    database = database_with_a_month(tmp_path / "w.sqlite3")

    run = wegweiser("stats", "--month", "2026-11", "--database", database)

    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(
        "# Wegweiser: anonymous figures, 2026-11 (2026-11-01 to 2026-11-30)\n"
    )
    assert "| conversations started | 22 |" in run.stdout
    assert "| bg | <5 | 0 | 0 | 0 |" in run.stdout  # 3 Bulgarian conversations
    assert "| ro | 10 |" in run.stdout
    assert "| health | 7 | 0 |" in run.stdout


def test_the_monthly_report_as_csv_to_a_file(tmp_path: Path) -> None:
    database = database_with_a_month(tmp_path / "w.sqlite3")
    output = tmp_path / "2026-11.csv"

    run = wegweiser(
        "stats", "--month", "2026-11", "--format", "csv", "--database", database, "-o", output
    )

    assert run.returncode == 0, run.stderr
    lines = output.read_text("utf-8").splitlines()
    assert lines[0] == "table,row,column,value"
    assert "Overview,conversations started,count,22" in lines
    assert "Per language,bg,conversations,<5" in lines


def test_a_missing_database_and_a_wrong_month_are_clear_errors(tmp_path: Path) -> None:
    missing = wegweiser("stats", "--database", tmp_path / "none.sqlite3")
    wrong = wegweiser("stats", "--month", "November", "--database", tmp_path / "none.sqlite3")

    assert missing.returncode == 2 and "no database at" in missing.stderr
    assert wrong.returncode == 2 and "'November' is not a month: write YYYY-MM" in wrong.stderr
    assert "Traceback" not in missing.stderr + wrong.stderr
    assert not (tmp_path / "none.sqlite3").exists()  # looking does not create a database


def test_a_month_in_the_future_is_refused_as_not_begun(tmp_path: Path) -> None:
    database = database_with_a_month(tmp_path / "w.sqlite3")
    today = datetime.datetime.now(datetime.UTC).date()
    future = f"{today.year + 1}-01"

    run = wegweiser("stats", "--month", future, "--database", database)

    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr == (
        f"--month {future} has not begun yet (today is {today}): there are no figures for it\n"
    )


def test_without_a_database_file_the_message_names_both_ways_to_give_one(tmp_path: Path) -> None:
    run = wegweiser("stats", "--database", tmp_path / "none.sqlite3")

    assert run.returncode == 2
    assert "name the bot's file with --database or WEGWEISER_DATABASE" in run.stderr
    assert not (tmp_path / "none.sqlite3").exists()


def test_the_monthly_report_as_a_page_with_bars_that_keeps_small_counts_hidden(
    tmp_path: Path,
) -> None:
    database = database_with_a_month(tmp_path / "w.sqlite3")
    output = tmp_path / "2026-11.html"

    run = wegweiser(
        "stats", "--month", "2026-11", "--format", "html", "--database", database, "-o", output
    )

    assert run.returncode == 0, run.stderr
    page = output.read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<h1>Wegweiser: anonymous figures</h1>" in page
    assert "2026-11 (2026-11-01 to 2026-11-30)" in page
    # the largest count of a column gets the full bar, a smaller one its share
    assert '<td>conversations started</td><td class="n"><div style="--bar:100%">22</div>' in page
    assert '<td>topic areas opened</td><td class="n"><div style="--bar:32%">7</div>' in page
    assert '<td>ro</td><td class="n"><div style="--bar:100%">10</div>' in page
    assert '<td>health</td><td class="n"><div style="--bar:100%">7</div>' in page
    # 3 Bulgarian conversations: "<5"; 9 German ones hidden ("*") since the total would tell the
    # Bulgarian count; neither gets a bar whose length would tell what the cell hides
    assert '<td>bg</td><td class="n"><div style="--bar:0%">&lt;5</div>' in page
    assert '<td>de</td><td class="n"><div style="--bar:0%">*</div>' in page
    assert "Counts of 1 to 4 are shown as &lt;5" in page
    assert "@media print" in page and "print-color-adjust: exact" in page
    for fetching in ("<script", "src=", "<link", "@import", "url("):
        assert fetching not in page
