"""The terminal chat, driven as a newcomer would use it: a real process, typed lines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import EXAMPLE_DEPLOYMENT, PROJECT_ROOT, load_deployment
from bot.dialogue import load_flow
from bot.i18n.catalogs import Catalogs
from tests.conftest import (
    MINIMAL_DEPLOYMENT,
    MINIMAL_FLOW,
    MINIMAL_LOCALES,
    SHIPPED_FLOWS,
    wegweiser,
)

RULE = "─" * 40


def chat(
    *lines: str, flows: Path = MINIMAL_FLOW, args: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    config = (
        ("--config", MINIMAL_DEPLOYMENT, "--locales", MINIMAL_LOCALES)
        if flows == MINIMAL_FLOW
        else ()
    )
    script = "".join(f"{line}\n" for line in lines)
    return wegweiser("chat", "--flows", flows, *config, *args, stdin=script)


def screens(output: str) -> list[str]:
    """The text of each screen shown, without its buttons."""
    return [block.strip().split("\n\n")[0] for block in output.split(RULE)[1:]]


def test_a_scripted_conversation_walks_the_tree() -> None:
    result = chat("1", "1", "1", "1", "/back", "Notfall", "hallo", "/menu")
    assert result.returncode == 0, result.stderr
    assert screens(result.stdout) == [
        "Bitte wähl deine Sprache.",
        "Willkommen bei Beratungsstelle Teststadt.",
        "Worum geht es?",
        "Gesundheit.",
        "Beim Gesundheitsamt kannst du dich testen lassen.",
        "Gesundheit.",
        "Notruf 110. Hilfetelefon 116 016.",
        "Ich verstehe nur die Knöpfe.",
        "Worum geht es?",
    ]
    assert "🖼" in result.stdout and "media/test.png" in result.stdout
    assert result.stderr == ""


def test_buttons_are_numbered_and_navigation_shares_a_line() -> None:
    result = chat("1", "1", "1")
    health = result.stdout.split(RULE)[-1]
    assert " 1) Test\n 2) Zurück    3) Hauptmenü" in health


def test_a_number_without_a_button_is_treated_as_text() -> None:
    result = chat("1", "9")
    assert screens(result.stdout)[-1] == "Ich verstehe nur die Knöpfe."


def test_exit_ends_the_chat_and_shows_nothing_more() -> None:
    result = chat("1", "/exit", "1", "1")
    assert result.returncode == 0
    assert screens(result.stdout) == [
        "Bitte wähl deine Sprache.",
        "Willkommen bei Beratungsstelle Teststadt.",
    ]


def test_end_of_input_ends_the_chat_quietly() -> None:
    result = chat()
    assert result.returncode == 0
    assert result.stderr == ""


def test_lang_skips_the_language_question() -> None:
    result = chat("/exit", args=("--lang", "ro"))
    assert screens(result.stdout) == ["Bun venit la Beratungsstelle Teststadt."]


def test_a_language_that_is_not_offered_is_refused_with_the_choices() -> None:
    result = chat(args=("--lang", "xx"))
    assert result.returncode == 2
    assert "de, ro" in result.stderr


def test_a_broken_flow_is_refused_with_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "flows"
    broken.mkdir()
    for source in MINIMAL_FLOW.iterdir():
        if source.is_file():
            (broken / source.name).write_text(source.read_text(encoding="utf-8"))
    text = (broken / "topic.yaml").read_text(encoding="utf-8")
    (broken / "topic.yaml").write_text(text.replace("goto: test", "goto: tset"))
    result = chat(flows=broken, args=("--config", str(MINIMAL_DEPLOYMENT)))
    assert result.returncode == 1
    assert "topic.yaml:7" in result.stderr and "did you mean 'topic.test'" in result.stderr
    assert result.stdout == ""


def test_the_shipped_flows_answer_an_emergency_keyword() -> None:
    result = chat("Notfall", "/exit", flows=SHIPPED_FLOWS)
    assert result.returncode == 0, result.stderr
    emergency = result.stdout.split(RULE)[-1]
    assert "110" in emergency and "112" in emergency and "116 016" in emergency
    assert "numbers.png" in result.stdout


def test_a_closed_output_ends_the_chat_without_a_traceback() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat", "--flows", SHIPPED_FLOWS],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stdin is not None
    process.stdout.read(10)
    process.stdout.close()  # like `wegweiser chat | head -1`
    _, stderr = process.communicate(b"1\n" * 200, timeout=30)
    assert b"Traceback" not in stderr
    assert process.returncode == 0


@pytest.mark.parametrize("language", load_deployment(EXAMPLE_DEPLOYMENT).languages)
def test_the_chat_speaks_every_offered_language_with_lang(language: str) -> None:
    """A maintainer reads each translation in context: `wegweiser chat --lang ro`."""
    flow = load_flow(SHIPPED_FLOWS)
    welcome, first_option = flow.nodes["main.welcome"].text, flow.nodes["main.welcome"].options[0]
    catalogs = Catalogs.load(PROJECT_ROOT / "locales", [language])

    result = chat("1", flows=SHIPPED_FLOWS, args=("--lang", language))

    assert result.returncode == 0, result.stderr
    shown = screens(result.stdout)
    expected = catalogs.translate(language, "main.welcome", welcome).strip()
    assert shown[0].startswith(expected.split("\n\n")[0])
    menu_text = flow.nodes["main.menu"].text
    assert shown[1] == catalogs.translate(language, "main.menu", menu_text).strip()
    label = catalogs.translate(language, "main.welcome", first_option.label)
    assert f" 1) {label}" in result.stdout
