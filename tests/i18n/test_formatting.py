"""Opening hours in the person's language and the service's time zone."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from bot.config import load_deployment
from bot.dialogue import LoadError, Session, Show, Start
from bot.i18n.formatting import OpeningHours, OpeningTime, format_days, parse_days
from tests.conftest import MINIMAL_DEPLOYMENT, edit_flow, engine_for

MON_THU = OpeningTime(parse_days("mon-thu"), datetime.time(10), datetime.time(16))
FRI = OpeningTime(parse_days("fri"), datetime.time(10), datetime.time(13, 30))


def test_days_are_ranges_and_lists() -> None:
    assert parse_days("mon-thu") == (0, 1, 2, 3)
    assert parse_days("Mon, wed,fri") == (0, 2, 4)
    assert parse_days("sat-sun") == (5, 6)


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("montag", "is not a list of days"),
        ("fri-mon", "runs backwards"),
        ("mon-wed,tue", "names a day twice"),
    ],
)
def test_days_written_wrongly_are_refused_with_the_spelling_to_use(written: str, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        parse_days(written)


def test_consecutive_days_read_as_a_range_in_each_language() -> None:
    assert format_days((0, 1, 2, 3, 5), "de") == "Montag–Donnerstag, Samstag"
    assert format_days((0, 2), "ro") == "luni, miercuri"
    assert format_days((0, 1, 2, 3, 4), "bg") == "понеделник–петък"


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        ("de", "Montag–Donnerstag 10:00–16:00, Freitag 10:00–13:30 (Mitteleuropäische Zeit)"),
        ("de@easy", "Montag–Donnerstag 10:00–16:00, Freitag 10:00–13:30 (Mitteleuropäische Zeit)"),
        ("ro", "luni–joi 10:00–16:00, vineri 10:00–13:30 (Ora Europei Centrale)"),
        # CLDR puts a narrow no-break space before AM and PM
        (
            "en",
            "Monday–Thursday 10:00\u202fAM–4:00\u202fPM, Friday 10:00\u202fAM–1:30\u202fPM "
            "(Central European Time)",
        ),
        ("tr", "Pazartesi–Perşembe 10:00–16:00, Cuma 10:00–13:30 (Orta Avrupa Saati)"),
    ],
)
def test_opening_hours_read_in_the_persons_language(language: str, shown: str) -> None:
    assert OpeningHours((MON_THU, FRI), "Europe/Berlin")(language) == shown


def test_the_time_zone_is_the_services() -> None:
    assert OpeningHours((FRI,), "Europe/Vienna")("de").endswith("(Mitteleuropäische Zeit)")
    assert OpeningHours((FRI,), "Europe/Bucharest")("ro").endswith("(Ora Europei de Est)")


def with_hours(tmp_path: Path, hours: str, timezone: str = "Europe/Berlin") -> Path:
    path = tmp_path / "deployment.yaml"
    text = MINIMAL_DEPLOYMENT.read_text("utf-8").replace(
        'phone: "0123 111"\nlanguages',
        f'phone: "0123 111"\n  hours:\n{hours}\ntimezone: {timezone}\nlanguages',
        1,
    )
    path.write_text(text, "utf-8")
    return path


def test_the_engine_fills_service_hours_in_the_persons_language(
    tmp_path: Path, flow_dir: Path
) -> None:
    deployment = load_deployment(
        with_hours(tmp_path, '    - {days: mon-fri, open: "09:00", close: "17:00"}')
    )
    edit_flow(flow_dir, "main.yaml", "Willkommen bei {service.name}.", '"Offen: {service.hours}"')
    engine = engine_for(flow_dir, deployment)

    for language, shown in (
        ("de", "Offen: Montag–Freitag 09:00–17:00 (Mitteleuropäische Zeit)"),
        ("ro", "Offen: luni–vineri 09:00–17:00 (Ora Europei Centrale)"),
    ):
        _, actions = engine.step(Session(language=language), Start())
        screen = next(action for action in actions if isinstance(action, Show))
        assert screen.text == shown


@pytest.mark.parametrize(
    ("hours", "timezone", "said"),
    [
        ('    - {days: mon, open: "16:00", close: "10:00"}', "Europe/Berlin", "must be after open"),
        (
            '    - {days: monday, open: "10:00", close: "16:00"}',
            "Europe/Berlin",
            "not a list of days",
        ),
        ('    - {days: mon, open: "10 Uhr", close: "16:00"}', "Europe/Berlin", "service.hours"),
        (
            '    - {days: mon, open: "10:00", close: "16:00"}',
            "Europe/Beispielstadt",
            "not a time zone",
        ),
    ],
)
def test_wrong_hours_are_refused_with_file_line_and_setting(
    tmp_path: Path, hours: str, timezone: str, said: str
) -> None:
    with pytest.raises(LoadError) as refused:
        load_deployment(with_hours(tmp_path, hours, timezone))

    assert said in str(refused.value)
    assert "deployment.yaml:" in str(refused.value)
