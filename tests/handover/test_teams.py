"""Routing cases to teams, office hours with holidays, and the codes of a case."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest

from bot.config import ConfigurationError, Deployment, HandoverSetting, TeamSetting
from bot.handover.case import RETURN_WORDS, new_case_code, new_return_code, normalised_return_code
from bot.handover.teams import Team, format_back, route
from bot.i18n.formatting import OpeningTime, parse_days

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
OFFICE = (OpeningTime(parse_days("mon-thu"), datetime.time(10), datetime.time(16)),)
# Thursday 2026-12-24 is a holiday of this team; Friday is not an office day.
CHRISTMAS = frozenset({datetime.date(2026, 12, 24)})


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 12, day, hour, minute, tzinfo=BERLIN)


GENERAL = Team("Beratung", "-100", fallback=True)
HEALTH = Team("Gesundheitsamt", "-200", areas=frozenset({"health"}))
BULGARIAN = Team("Team BG", "-300", languages=frozenset({"bg"}), areas=frozenset({"law", "work"}))


@pytest.mark.parametrize(
    ("language", "area", "team"),
    [("ro", "health", HEALTH), ("bg", "law", BULGARIAN), ("bg", "money", GENERAL)],
)
def test_a_case_goes_to_the_first_team_that_covers_it_else_the_fallback(
    language: str, area: str, team: Team
) -> None:
    assert route([HEALTH, BULGARIAN, GENERAL], language, area) == team


def test_on_duty_in_office_hours_but_not_on_holidays_or_at_night() -> None:
    team = Team("Beratung", "-100", hours=OFFICE, holidays=CHRISTMAS)
    assert team.on_duty(at(21, 10))  # Monday 10:00
    assert not team.on_duty(at(21, 16))  # closes at 16:00
    assert not team.on_duty(at(24, 11))  # Christmas Eve, a Thursday
    assert not team.on_duty(at(25, 11))  # Friday
    assert team.on_duty(at(21, 10).astimezone(datetime.UTC))  # any time zone in, same answer


def test_back_at_skips_the_night_the_weekend_and_holidays() -> None:
    team = Team("Beratung", "-100", hours=OFFICE, holidays=CHRISTMAS)
    assert team.back_at(at(21, 18)) == at(22, 10)
    assert team.back_at(at(23, 17)) == at(28, 10)  # Thu 24th holiday, Fri-Sun closed
    assert Team("immer", "-1").back_at(at(23, 17)) == at(23, 17)


def test_when_they_are_back_reads_in_the_persons_language() -> None:
    assert format_back(at(28, 10), "de") == "Montag, 10:00 (Mitteleuropäische Zeit)"
    assert format_back(at(28, 10), "ro") == "Luni, 10:00 (Ora Europei Centrale)"


def test_one_team_by_default_in_the_staff_group_with_the_services_hours(
    example_deployment: Deployment,
) -> None:
    (team,) = example_deployment.teams(staff_chat_id=-100)
    assert team.group == "-100" and team.hours is not None
    assert team.on_duty(at(21, 11)) and not team.on_duty(at(21, 17))
    assert example_deployment.teams(staff_chat_id=None) == []


def test_a_team_without_a_staff_group_stops_the_start(example_deployment: Deployment) -> None:
    handover = HandoverSetting(teams=[TeamSetting(name="Rechtsberatung")])
    deployment = example_deployment.model_copy(update={"handover": handover})
    with pytest.raises(ConfigurationError, match="team 'Rechtsberatung' has no chat_id"):
        deployment.teams(staff_chat_id=None)


def test_case_codes_are_short_unambiguous_and_new() -> None:
    taken = {new_case_code() for _ in range(50)}
    code = new_case_code(taken)
    assert code not in taken and len(code) == 4
    assert not set(code) & set("01OIL")


def test_return_codes_are_words_and_a_number_and_forgive_how_they_are_typed() -> None:
    code = new_return_code()
    *words, number = code.split("-")
    assert len(words) == 3 and all(word in RETURN_WORDS for word in words)
    assert 10 <= int(number) <= 99
    assert normalised_return_code(f"  {' '.join(words).upper()} {number} ") == code
    assert normalised_return_code("hallo wie geht es") is None
    assert normalised_return_code("amber otter lemon") is None
