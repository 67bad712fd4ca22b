"""The YAML mistakes a social worker makes get the line to change and what to do there, in plain
words (bot/dialogue/syntax.py, through the loader on a real copy of the minimal flow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_deployment
from bot.dialogue import LoadError, Problem, load_flow
from tests.conftest import MINIMAL_DEPLOYMENT, edit_flow

# What a social worker should never have to read.
JARGON = ("YAML", "mapping", "token", "scalar", "indicator", "codec", "byte", "(a typo?)")


def only_problem(directory: Path) -> Problem:
    with pytest.raises(LoadError) as raised:
        load_flow(directory)
    [problem] = raised.value.problems
    assert Path(problem.location.file).name == "topic.yaml"
    for word in JARGON:
        assert word not in problem.message
    return problem


@pytest.mark.parametrize(
    ("old", "new", "line", "advice"),
    [
        (
            "    text: Beim",
            "\ttext: Beim",
            10,
            "a tab at the start of the line: indent with spaces only",
        ),
        (
            "      - label: Test\n",
            "      - label: Wichtig: Test\n",
            6,
            'put the label in quotes, as in  - label: "Wichtig: Test"',
        ),
        (
            "      - label: Test\n",
            "      - label: *Test*\n",
            6,
            'starts with a * needs quotes: put the label in quotes, as in  - label: "*Test*"',
        ),
        (
            "      - label: Test\n",
            '      - label: "Test\n',
            6,
            'the quote " that starts the text here is not closed',
        ),
        (
            "      - label: Test\n",
            '      - label: "Test" heute\n',
            6,
            'text goes on after the closing quote ": put the whole label inside the quotes, as '
            'in  - label: "Test heute"',
        ),
        (
            "        goto: test\n",
            "          goto: test\n",
            7,
            "start 'goto:' exactly below 'label:' of the line above (8 spaces from the left; "
            "this line has 10)",
        ),
        (
            "        goto: test\n",
            "      goto: test\n",
            7,
            "start 'goto:' exactly below 'label:'",
        ),
        (
            "    text: Beim Gesundheitsamt kannst du dich testen lassen.\n",
            "    text: |\n      Beim Gesundheitsamt.\n    Frag vorher: wo?\n",
            12,
            "'Frag vorher' is not a setting but looks like a line of text: if it belongs to the "
            "text above, indent it as far as the other lines of that text",
        ),
    ],
    ids=[
        "tab",
        "colon",
        "star",
        "missing-quote",
        "text-after-quote",
        "too-deep",
        "too-shallow",
        "text-too-shallow",
    ],
)
def test_a_yaml_mistake_names_the_line_and_the_fix(
    flow_dir: Path, old: str, new: str, line: int, advice: str
) -> None:
    edit_flow(flow_dir, "topic.yaml", old, new)

    problem = only_problem(flow_dir)

    assert problem.location.line == line
    assert advice in problem.message


def test_a_file_saved_as_latin_1_is_asked_to_be_saved_as_utf_8(flow_dir: Path) -> None:
    path = flow_dir / "topic.yaml"
    text = path.read_text(encoding="utf-8").replace("label: Test", "label: Verhütung")
    path.write_bytes(text.encode("cp1252"))

    problem = only_problem(flow_dir)

    assert problem.location.line == 6
    assert "'ü'" in problem.message
    assert "save it again as UTF-8" in problem.message


def test_a_wrong_deployment_value_names_the_setting_as_written_in_the_file(
    tmp_path: Path,
) -> None:
    text = MINIMAL_DEPLOYMENT.read_text(encoding="utf-8")
    path = tmp_path / "deployment.yaml"
    path.write_text(
        text.replace(
            '  phone: "0123 111"\nlanguages',
            '  phone: "0123 111"\n  hours:\n    - {days: Mo-Do, open: "10:00", close: "16:00"}\n'
            '    - {days: fri, open: "12:00", close: "10:00"}\nlanguages',
        ),
        encoding="utf-8",
    )

    with pytest.raises(LoadError) as raised:
        load_deployment(path)

    assert [str(problem) for problem in raised.value.problems] == [
        f"{path}:5: error: service.hours, entry 1, days: 'Mo-Do' is not a list of days: "
        "write e.g. mon-fri, sat or mon,wed (days: mon, tue, wed, thu, fri, sat, sun)",
        f"{path}:6: error: service.hours, entry 2: close (10:00) must be after open (12:00)",
    ]


def test_a_deployment_value_of_neither_shape_gets_one_message(tmp_path: Path) -> None:
    text = MINIMAL_DEPLOYMENT.read_text(encoding="utf-8")
    path = tmp_path / "deployment.yaml"
    path.write_text(text.replace("hours: Mo 10–12 Uhr", "hours: {days: mon}"), encoding="utf-8")

    with pytest.raises(LoadError) as raised:
        load_deployment(path)

    [problem] = raised.value.problems
    assert problem.message == "contacts.centre.hours: should be a text or a list"
