"""Times and dates in the person's language, with babel's locale data (CLDR).

Opening hours are written once in the deployment file (`days: mon-thu, open: "10:00"`) and shown
in each language: "Montag–Donnerstag 10:00–16:00" or "luni–joi 10:00–16:00", with the name of the
service's time zone, since a person's phone may be set to another one.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from babel import Locale
from babel.dates import (
    format_time,
    format_timedelta,
    get_day_names,
    get_timezone,
    get_timezone_name,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RANGE = "–"


def parse_days(written: str) -> tuple[int, ...]:
    """ "mon-thu", "mon,wed,fri" or "sat" as weekday numbers (Monday is 0).

    Raises ValueError with the accepted spelling for anything else."""
    days: list[int] = []
    for part in written.replace(" ", "").casefold().split(","):
        first, _, last = part.partition("-")
        try:
            start = WEEKDAYS.index(first)
            end = WEEKDAYS.index(last) if last else start
        except ValueError:
            raise ValueError(
                f"'{written}' is not a list of days: write e.g. mon-fri, sat or mon,wed "
                f"(days: {', '.join(WEEKDAYS)})"
            ) from None
        if end < start:
            raise ValueError(f"'{part}' runs backwards: write the earlier day first")
        days.extend(range(start, end + 1))
    if len(set(days)) != len(days):
        raise ValueError(f"'{written}' names a day twice")
    return tuple(days)


@dataclass(frozen=True, slots=True)
class OpeningTime:
    days: tuple[int, ...]
    opens: datetime.time
    closes: datetime.time


@lru_cache(maxsize=64)
def locale_of(language: str) -> Locale:
    """babel's locale of a language code of ours (de@easy is German for dates and times)."""
    return Locale.parse(language.replace("-", "_"))


def format_days(days: Sequence[int], language: str) -> str:
    """Weekdays in the language, consecutive ones as a range: "Montag–Donnerstag"."""
    names = get_day_names("wide", locale=locale_of(language))
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = [
        names[run[0]] if len(run) == 1 else f"{names[run[0]]}{RANGE}{names[run[-1]]}"
        for run in runs
    ]
    return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """Opening hours in the service's time zone; called with a language, they read in it."""

    times: tuple[OpeningTime, ...]
    timezone: str

    def __call__(self, language: str) -> str:
        """ "Montag–Donnerstag 10:00–16:00, Freitag 10:00–13:00 (Mitteleuropäische Zeit)"."""
        locale = locale_of(language)
        entries = [
            f"{format_days(time.days, language)} "
            f"{format_time(time.opens, 'short', locale=locale)}{RANGE}"
            f"{format_time(time.closes, 'short', locale=locale)}"
            for time in self.times
        ]
        zone = get_timezone_name(
            get_timezone(self.timezone), "long", locale=locale, zone_variant="generic"
        )
        return f"{', '.join(entries)} ({zone})"


def format_duration(seconds: float, language: str) -> str:
    """A span of time in words of the language: "5 Minuten", "1 oră", "2 седмици"."""
    return format_timedelta(
        datetime.timedelta(seconds=seconds), threshold=1.0, locale=locale_of(language)
    )
