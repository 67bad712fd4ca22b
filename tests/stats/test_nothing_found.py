"""Typed questions that found nothing: counted per language and day, never their text."""

from __future__ import annotations

import datetime

from bot.dialogue import NothingFound, Session, Show
from bot.stats import Counted, CountRow, Event, report_tables, turn_events


def test_a_question_that_found_nothing_is_counted_with_its_language_only() -> None:
    session = Session(node="main.menu", language="ro")
    actions = (Show(None, "…"), NothingFound("ro"))
    counted = list(
        turn_events(session, session, actions, fresh=False, home_areas=(), default_language="de")
    )
    assert counted == [Counted(Event.NOTHING_FOUND, "ro")]


def test_the_report_shows_them_per_language() -> None:
    day = datetime.date(2026, 12, 1)
    rows = [
        CountRow(day, Event.NOTHING_FOUND.value, "ro", "", 7),
        CountRow(day, Event.NOTHING_FOUND.value, "bg", "", 5),
    ]
    overview, per_language, *_ = report_tables(rows)
    assert ("typed questions that found nothing", "12") in overview.rows
    column = per_language.columns.index("typed, found nothing")
    assert {row[0]: row[column] for row in per_language.rows} == {"bg": "5", "ro": "7"}
