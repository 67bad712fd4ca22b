"""Which team a case goes to, and whether that team is on duty.

Teams come from the deployment file: each has its staff group, the languages and topic areas it
covers, and its office hours with holidays in the service's time zone. A case goes to the first
team that covers both its language and its area, else to the fallback team.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass

from babel.dates import format_date, format_time, get_timezone_name

from bot.i18n.formatting import OpeningTime, locale_of

# How far ahead the next opening is looked for (holidays over Christmas and New Year included).
LOOK_AHEAD_DAYS = 21


@dataclass(frozen=True, slots=True)
class Team:
    name: str
    group: str  # the team's staff place, as its staff channel names it (a Telegram group's id)
    languages: frozenset[str] = frozenset()  # empty: every language
    areas: frozenset[str] = frozenset()  # empty: every topic area
    hours: tuple[OpeningTime, ...] | None = None  # None: always on duty
    holidays: frozenset[datetime.date] = frozenset()
    timezone: str = "Europe/Berlin"
    fallback: bool = False

    def covers(self, language: str, area: str) -> bool:
        return (not self.languages or language in self.languages) and (
            not self.areas or area in self.areas
        )

    def on_duty(self, at: datetime.datetime) -> bool:
        if self.hours is None:
            return True
        local = at.astimezone(zoneinfo.ZoneInfo(self.timezone))
        if local.date() in self.holidays:
            return False
        now = local.time().replace(tzinfo=None)
        return any(
            local.weekday() in time.days and time.opens <= now < time.closes for time in self.hours
        )

    def back_at(self, at: datetime.datetime) -> datetime.datetime | None:
        """When the team is next on duty after `at` (aware, in the team's time zone)."""
        if self.hours is None:
            return at
        zone = zoneinfo.ZoneInfo(self.timezone)
        local = at.astimezone(zone)
        for offset in range(LOOK_AHEAD_DAYS + 1):
            day = local.date() + datetime.timedelta(days=offset)
            if day in self.holidays:
                continue
            openings = sorted(t.opens for t in self.hours if day.weekday() in t.days)
            for opens in openings:
                moment = datetime.datetime.combine(day, opens, zone)
                if moment > local:
                    return moment
        return None


def route(teams: Sequence[Team], language: str, area: str) -> Team:
    """The team for a case: the first that covers its language and area, else the fallback (or
    the first team if none is marked)."""
    for team in teams:
        if team.covers(language, area):
            return team
    return next((team for team in teams if team.fallback), teams[0])


def format_back(moment: datetime.datetime, language: str) -> str:
    """ "Montag, 10:00 (Mitteleuropäische Zeit)" in the person's language, in the team's time
    zone (the moment's own)."""
    locale = locale_of(language)
    day = format_date(moment.date(), "EEEE", locale=locale)
    time = format_time(moment.time(), "short", locale=locale)
    zone = get_timezone_name(moment.tzinfo, "long", locale=locale, zone_variant="generic")
    return f"{day[:1].upper()}{day[1:]}, {time} ({zone})"
