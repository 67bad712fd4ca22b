"""Texts worded for one channel (`channels: web: text:`): the engine shows a session the wording
of its channel, `flows check` holds each wording to its channel, and the catalogs get each
wording as an entry of its own. Each test edits a copy of tests/fixtures/minimal.

Lines of the edited fixture that the tests point at:

    main.yaml    20 privacy:   22 text: ...   23 channels:   24 web:   25 text: ...
    system.yaml  15 not_understood:   57 channels:   58 web:   59 messages:
                 60 not_understood:
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Deployment
from bot.dialogue import Command, Engine, Problem, Session, Show, TextTyped, load_flow
from bot.dialogue.loader import LoadError
from bot.i18n.messages import flow_messages
from tests.conftest import check, engine_for
from tests.conftest import edit_flow as replace
from tests.dialogue.test_check import ERROR, WARNING, find, located, only_error

PRIVACY = "    text: Wir speichern nichts über dich.\n"
WEB_PRIVACY = "Wir speichern nichts. „Schnell weg“ löscht alles."
WEB_NOT_UNDERSTOOD = "Ich verstehe nur die Knöpfe. Tipp auf „Beraterin“."


def word_for_the_web(
    directory: Path,
    *,
    default: str = "Wir speichern nichts über dich.",
    web: str = WEB_PRIVACY,
    channel: str = "web",
) -> None:
    """The privacy screen of the copy gets a wording for `channel`, and system.yaml one of the
    'not understood' message for the web."""
    replace(
        directory,
        "main.yaml",
        PRIVACY,
        f"    text: {default}\n    channels:\n      {channel}:\n        text: {web}\n",
    )
    system = directory / "system.yaml"
    system.write_text(
        system.read_text(encoding="utf-8")
        + f"channels:\n  web:\n    messages:\n      not_understood: {WEB_NOT_UNDERSTOOD}\n",
        encoding="utf-8",
    )


@pytest.fixture
def worded(flow_dir: Path, minimal_deployment: Deployment) -> Engine:
    word_for_the_web(flow_dir)
    return engine_for(flow_dir, minimal_deployment)


def screen(engine: Engine, session: Session, command: str) -> Show:
    _, actions = engine.step(session, Command(command))
    (shown,) = [action for action in actions if isinstance(action, Show)]
    return shown


# -- the engine ----------------------------------------------------------------------------------


def test_a_web_session_gets_the_web_wording_of_a_screen(worded: Engine) -> None:
    web = Session(node="main.menu", language="de", channel="web")

    assert screen(worded, web, "privacy").text == WEB_PRIVACY


@pytest.mark.parametrize("channel", ["telegram", "console", None])
def test_other_sessions_get_the_default_text(worded: Engine, channel: str | None) -> None:
    session = Session(node="main.menu", language="de", channel=channel)

    assert screen(worded, session, "privacy").text == "Wir speichern nichts über dich."
    assert screen(worded, session, "nonsense").text == "Ich verstehe nur die Knöpfe."


def test_a_web_session_gets_the_web_wording_of_a_system_text(worded: Engine) -> None:
    web = Session(node="main.menu", language="de", channel="web")

    assert screen(worded, web, "nonsense").text == WEB_NOT_UNDERSTOOD
    _, actions = worded.step(web, TextTyped("xyzzy"))
    assert [a.text for a in actions if isinstance(a, Show)] == [WEB_NOT_UNDERSTOOD]


def test_the_channel_stays_with_the_session_from_step_to_step(worded: Engine) -> None:
    web = Session(node="main.menu", language="de", channel="web")

    moved, _ = worded.step(web, Command("privacy"))
    back, _ = worded.step(moved, Command("back"))

    assert (moved.channel, back.channel) == ("web", "web")


def test_a_telegram_wording_replaces_the_default_on_telegram_only(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    word_for_the_web(flow_dir, web="Auf Telegram speichern wir nichts.", channel="telegram")
    engine = engine_for(flow_dir, minimal_deployment)

    def privacy(channel: str) -> str:
        return screen(
            engine, Session(node="main.menu", language="de", channel=channel), "privacy"
        ).text

    assert privacy("telegram") == "Auf Telegram speichern wir nichts."
    assert privacy("web") == privacy("console") == "Wir speichern nichts über dich."


# -- flows check ---------------------------------------------------------------------------------


def test_wordings_for_the_web_that_keep_to_the_rules_are_no_problem(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    word_for_the_web(flow_dir)

    assert check(flow_dir, minimal_deployment).problems == []


def test_an_unknown_channel_is_an_error_at_its_line(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    word_for_the_web(flow_dir, channel="wbe")

    with pytest.raises(LoadError) as refused:
        load_flow(flow_dir)
    result = check(flow_dir, minimal_deployment)

    assert not result.ok
    problem = only_error(result)
    assert located(problem) == ("main.yaml", 24, "main.privacy", ERROR)
    assert "'wbe'" in problem.message
    assert "'telegram', 'web' or 'console'" in problem.message
    assert str(problem) in str(refused.value)


def test_an_unknown_channel_in_system_yaml_is_an_error_at_its_line(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    word_for_the_web(flow_dir)
    replace(flow_dir, "system.yaml", "channels:\n  web:\n", "channels:\n  whatsapp:\n")

    problem = only_error(check(flow_dir, minimal_deployment))

    assert located(problem) == ("system.yaml", 59, None, ERROR)
    assert "'whatsapp'" in problem.message


def test_a_system_text_that_does_not_exist_cannot_be_worded_for_a_channel(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    word_for_the_web(flow_dir)
    replace(flow_dir, "system.yaml", "      not_understood: Ich", "      not_understod: Ich")

    problem = only_error(check(flow_dir, minimal_deployment))

    assert located(problem) == ("system.yaml", 60, None, ERROR)
    assert "messages has no text 'not_understod'" in problem.message
    assert "not_understood" in problem.message.split("its texts are")[1]


def test_a_web_wording_with_other_placeholders_than_its_default_is_a_warning(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    word_for_the_web(
        flow_dir,
        default="Fragen? {service.phone}",
        web="Fragen? {service.name}, Notruf {fact.hotline}",
    )

    result = check(flow_dir, minimal_deployment)

    assert result.errors == []
    problem = find(result.problems, "of the default text")
    assert located(problem) == ("main.yaml", 25, "main.privacy", WARNING)
    assert "lacks {service.phone}" in problem.message
    assert "adds {fact.hotline}, {service.name}" in problem.message


def test_an_unknown_placeholder_in_a_web_wording_is_an_error_at_its_line(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    word_for_the_web(flow_dir, default="Fax {service.fax}", web="Fax {service.fax}")

    result = check(flow_dir, minimal_deployment)

    lines = sorted(located(problem)[1] for problem in result.errors)
    assert lines == [22, 25]  # the default's and the web wording's
    assert all("service.fax" in problem.message for problem in result.errors)


def test_a_web_wording_longer_than_a_message_is_an_error(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    word_for_the_web(flow_dir, web="Lang. " * 700)

    problem = only_error(check(flow_dir, minimal_deployment))

    assert located(problem) == ("main.yaml", 25, "main.privacy", ERROR)
    assert problem.message == "web text is 4199 characters; at most 4096"


def test_a_web_wording_longer_than_a_phone_screen_is_a_warning(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    word_for_the_web(flow_dir, web="Lang. " * 130)

    problem = find(check(flow_dir, minimal_deployment).problems, "more than a phone screen")

    assert located(problem) == ("main.yaml", 25, "main.privacy", WARNING)


def test_a_long_web_wording_of_a_system_text_is_an_error(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    word_for_the_web(flow_dir)
    replace(
        flow_dir,
        "system.yaml",
        f"not_understood: {WEB_NOT_UNDERSTOOD}",
        "not_understood: " + "x" * 4097,
    )

    problem = only_error(check(flow_dir, minimal_deployment))

    assert located(problem) == ("system.yaml", 61, None, ERROR)
    assert problem.message == (
        "channels.web.messages.not_understood: 4097 characters (at most 4096)"
    )


@pytest.mark.parametrize("named", ["/exit", "/counsellor", "/Menu", "Telegram"])
def test_a_screen_that_names_telegram_things_without_a_web_wording_is_a_warning(
    flow_dir: Path, minimal_deployment: Deployment, named: str
) -> None:
    replace(flow_dir, "main.yaml", PRIVACY, f"    text: Mit {named} geht es weiter.\n")

    problem = only_error_or_warning(check(flow_dir, minimal_deployment).problems)

    assert located(problem) == ("main.yaml", 22, "main.privacy", WARNING)
    assert f"names '{named}', a Telegram thing" in problem.message
    assert "channels: web: text:" in problem.message


def test_a_screen_that_names_telegram_things_with_a_web_wording_is_no_problem(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    word_for_the_web(flow_dir, default="Mit /exit löschst du alles, auch in Telegram.")

    assert check(flow_dir, minimal_deployment).problems == []


def test_a_path_or_an_address_is_no_command(flow_dir: Path, minimal_deployment: Deployment) -> None:
    replace(flow_dir, "main.yaml", PRIVACY, "    text: Siehe beispiel.de/exit und 24/7.\n")

    assert check(flow_dir, minimal_deployment).problems == []


def test_a_system_text_that_names_a_command_needs_a_web_wording_unless_only_telegram_shows_it(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    replace(
        flow_dir,
        "system.yaml",
        "  not_understood: Ich verstehe nur die Knöpfe.",
        "  not_understood: Ich verstehe nur /menu.",
    )
    replace(
        flow_dir,
        "system.yaml",
        "  description: Anonyme Beratung in Teststadt.",
        "  description: Anonyme Beratung. /exit löscht den Chat.",
    )

    problem = only_error_or_warning(check(flow_dir, minimal_deployment).problems)

    # the profile is Telegram's own: only the message warns
    assert located(problem) == ("system.yaml", 15, None, WARNING)
    assert problem.message.startswith("messages.not_understood names '/menu', a Telegram thing")
    assert "channels: web: messages: not_understood:" in problem.message

    word_for_the_web(flow_dir)
    replace(flow_dir, "system.yaml", WEB_NOT_UNDERSTOOD, "Ich verstehe nur die Knöpfe.")
    assert check(flow_dir, minimal_deployment).problems == []


def only_error_or_warning(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, "\n".join(str(problem) for problem in problems)
    return problems[0]


# -- the catalogs --------------------------------------------------------------------------------


def test_each_wording_is_an_entry_of_its_own_that_tells_translators_where_it_is_shown(
    flow_dir: Path,
) -> None:
    word_for_the_web(flow_dir)
    (flow_dir / "main.yaml").write_text(
        (flow_dir / "main.yaml")
        .read_text(encoding="utf-8")
        .replace("      web:\n", "      # Our page has a quick exit button.\n      web:\n"),
        encoding="utf-8",
    )

    messages = {m.context: m for m in flow_messages(load_flow(flow_dir))}

    screen = messages["main.privacy@web"]
    assert screen.text == WEB_PRIVACY
    assert (Path(screen.location.file).name, screen.location.line) == ("main.yaml", 26)
    assert (
        "web chat's wording" in screen.note and "Our page has a quick exit button." in screen.note
    )
    assert messages["main.privacy"].text == "Wir speichern nichts über dich."
    system = messages["system.messages.not_understood@web"]
    assert system.text == WEB_NOT_UNDERSTOOD
    assert system.limit == 4096
    assert "web chat's wording" in system.note
