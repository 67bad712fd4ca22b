"""The loader reads flows/*.yaml into a Flow, or reports every schema error with file:line and
the node id (bot/dialogue/loader.py, bot/dialogue/schema.py)."""

from __future__ import annotations

import datetime
import shutil
import textwrap
from pathlib import Path

import pytest

from bot.config import load_deployment
from bot.dialogue import LoadError, Problem, Severity, load_flow
from bot.dialogue.schema import GlobalAction, InfoNode
from tests.conftest import MINIMAL_DEPLOYMENT


def write(directory: Path, name: str, text: str) -> Path:
    """Write a file of the flow; the text is dedented, so its line numbers are as written."""
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_problems(directory: Path) -> list[Problem]:
    with pytest.raises(LoadError) as raised:
        load_flow(directory)
    return raised.value.problems


def find(problems: list[Problem], fragment: str) -> Problem:
    """The one problem whose message contains `fragment`."""
    found = [problem for problem in problems if fragment in problem.message]
    assert len(found) == 1, "\n".join(str(problem) for problem in problems)
    return found[0]


def located(problem: Problem) -> tuple[str, int, str | None, Severity]:
    """Where a problem points a maintainer: file name, line, node id, severity."""
    location = problem.location
    return Path(location.file).name, location.line, problem.node_id, problem.severity


# -- a valid flow ------------------------------------------------------------------------------


def test_the_minimal_flow_loads_with_node_ids_namespaced_by_file_name(flow_dir: Path) -> None:
    flow = load_flow(flow_dir)

    assert set(flow.nodes) == {
        "main.welcome",
        "main.menu",
        "main.privacy",
        "main.counsellor",
        "main.phone",
        "topic.start",
        "topic.test",
        "topic.emergency",
    }
    assert flow.system.start == "main.welcome"
    assert flow.facts["hotline"].text == "116 016"


def test_a_target_without_namespace_points_into_its_own_file(flow_dir: Path) -> None:
    flow = load_flow(flow_dir)

    assert flow.nodes["topic.start"].options[0].goto == "topic.test"
    assert flow.nodes["main.welcome"].options[0].goto == "main.menu"
    assert flow.nodes["main.counsellor"].options[0].goto == "main.phone"


def test_a_target_into_another_file_is_kept_as_written(flow_dir: Path) -> None:
    flow = load_flow(flow_dir)

    assert [option.goto for option in flow.nodes["main.menu"].options] == [
        "topic.start",
        "topic.emergency",
        None,
    ]
    assert flow.nodes["main.menu"].options[2].action is GlobalAction.COUNSELLOR


def test_each_field_keeps_the_file_and_line_it_was_written_on(flow_dir: Path) -> None:
    flow = load_flow(flow_dir)

    goto = flow.where("topic.start", "options", 0, "goto")
    assert (Path(goto.file).name, goto.line) == ("topic.yaml", 7)
    media = flow.where("topic.test", "media")
    assert (Path(media.file).name, media.line) == ("topic.yaml", 11)


# -- files that cannot be read -----------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "# nothing here yet\n"], ids=["empty", "only-a-comment"])
def test_an_empty_file_is_an_error(flow_dir: Path, text: str) -> None:
    write(flow_dir, "topic.yaml", text)

    problem = find(load_problems(flow_dir), "file is empty")

    assert located(problem) == ("topic.yaml", 1, None, Severity.ERROR)


def test_a_missing_system_file_is_an_error(flow_dir: Path) -> None:
    (flow_dir / "system.yaml").unlink()

    problems = load_problems(flow_dir)

    assert [Path(problem.location.file).name for problem in problems] == ["system.yaml"]
    assert "missing" in problems[0].message


def test_a_missing_flow_folder_is_an_error(tmp_path: Path) -> None:
    problem = find(load_problems(tmp_path / "nowhere"), "not found")

    assert problem.location.file.endswith("nowhere")


@pytest.mark.parametrize("name", ["Topic-1.yaml", "1topic.yaml", "my topic.yaml"])
def test_a_file_name_that_is_not_a_valid_namespace_is_an_error(flow_dir: Path, name: str) -> None:
    shutil.move(flow_dir / "topic.yaml", flow_dir / name)

    problem = find(load_problems(flow_dir), "file name must be lower case")

    assert located(problem) == (name, 1, None, Severity.ERROR)


# -- schema errors -----------------------------------------------------------------------------


def test_a_node_id_written_twice_is_an_error_at_the_second_naming_the_first(
    flow_dir: Path,
) -> None:
    write(
        flow_dir,
        "topic.yaml",
        """\
        nodes:
          start:
            kind: info
            text: Erste Fassung.
          start:
            kind: info
            text: Zweite Fassung.
        """,
    )

    problem = find(load_problems(flow_dir), "written twice")

    assert located(problem) == ("topic.yaml", 5, "topic.start", Severity.ERROR)
    assert "'start'" in problem.message
    assert "line 2" in problem.message


def test_a_key_written_twice_inside_a_node_is_an_error(flow_dir: Path) -> None:
    write(
        flow_dir,
        "topic.yaml",
        """\
        nodes:
          start:
            kind: info
            text: Erste Fassung.
            text: Zweite Fassung.
        """,
    )

    problem = find(load_problems(flow_dir), "'text' is written twice (first at line 4)")

    assert (Path(problem.location.file).name, problem.location.line) == ("topic.yaml", 5)


# Each case is a topic.yaml with exactly one mistake: (yaml, line, node id, message fragment).
SCHEMA_ERRORS = {
    "unknown-key": (
        """\
        nodes:
          start:
            kind: info
            text: Gesundheit.
            optins:
              - label: Test
                action: menu
        """,
        5,
        "topic.start",
        "unknown key 'optins'",
    ),
    "missing-text": (
        """\
        nodes:
          start:
            kind: info
            keywords: [Test]
        """,
        2,
        "topic.start",
        "'text' is missing",
    ),
    "blank-text": (
        """\
        nodes:
          start:
            kind: info
            text: "   "
        """,
        4,
        "topic.start",
        "text",
    ),
    "missing-kind": (
        """\
        nodes:
          start:
            text: Gesundheit.
        """,
        2,
        "topic.start",
        "'kind' is missing",
    ),
    "unknown-kind": (
        """\
        nodes:
          start:
            kind: page
            text: Gesundheit.
        """,
        2,
        "topic.start",
        "is unknown: use one of menu, info, contacts, handover",
    ),
    "menu-without-options": (
        """\
        nodes:
          start:
            kind: menu
            text: Gesundheit.
        """,
        2,
        "topic.start",
        "'options' is missing",
    ),
    "menu-with-empty-options": (
        """\
        nodes:
          start:
            kind: menu
            text: Gesundheit.
            options: []
        """,
        5,
        "topic.start",
        "options",
    ),
    "option-with-goto-and-action": (
        """\
        nodes:
          start:
            kind: menu
            text: Gesundheit.
            options:
              - label: Test
                goto: test
              - label: Menü
                goto: start
                action: menu
        """,
        8,
        "topic.start",
        "exactly one of 'goto' or 'action'",
    ),
    "option-without-destination": (
        """\
        nodes:
          start:
            kind: menu
            text: Gesundheit.
            options:
              - label: Menü
                action: menu
              - label: Test
        """,
        8,
        "topic.start",
        "exactly one of 'goto' or 'action'",
    ),
    "option-without-label": (
        """\
        nodes:
          start:
            kind: menu
            text: Gesundheit.
            options:
              - label: Menü
                action: menu
              - goto: start
        """,
        8,
        "topic.start",
        "'label' is missing",
    ),
    "unknown-global-action": (
        """\
        nodes:
          start:
            kind: menu
            text: Gesundheit.
            options:
              - label: Menü
                action: menu
              - label: Start
                action: home
        """,
        9,
        "topic.start",
        "'home' is unknown",
    ),
    "target-that-is-no-node-id": (
        """\
        nodes:
          start:
            kind: menu
            text: Gesundheit.
            options:
              - label: Menü
                action: menu
              - label: Test
                goto: Test-Seite
        """,
        9,
        "topic.start",
        "'Test-Seite' is not a node id",
    ),
    "invalid-node-id": (
        """\
        nodes:
          start:
            kind: info
            text: Gesundheit.
          Bad-Id:
            kind: info
            text: Test.
        """,
        5,
        "topic.Bad-Id",
        "id 'Bad-Id' must be lower case",
    ),
    "media-of-unsupported-kind": (
        """\
        nodes:
          start:
            kind: info
            text: Gesundheit.
            media: test.gif
        """,
        2,
        "topic.start",
        "media file must end in one of",
    ),
    "two-options-with-one-label": (
        """\
        nodes:
          start:
            kind: menu
            text: Gesundheit.
            options:
              - label: Test
                goto: start
              - label: Test
                action: menu
        """,
        2,
        "topic.start",
        "two options have the same label: Test",
    ),
    "handover-without-confirm": (
        """\
        nodes:
          start:
            kind: handover
            text: Möchtest du mit einer Beraterin sprechen?
        """,
        2,
        "topic.start",
        "'confirm' is missing",
    ),
    "contacts-without-contacts": (
        """\
        nodes:
          start:
            kind: contacts
            text: So erreichst du uns.
        """,
        2,
        "topic.start",
        "'contacts' is missing",
    ),
    "navigation-that-is-no-bool": (
        """\
        nodes:
          start:
            kind: info
            text: Gesundheit.
            navigation: sometimes
        """,
        5,
        "topic.start",
        "navigation",
    ),
}


@pytest.mark.parametrize(
    ("yaml_text", "line", "node_id", "fragment"),
    list(SCHEMA_ERRORS.values()),
    ids=list(SCHEMA_ERRORS),
)
def test_a_schema_error_is_reported_with_file_line_and_node_id(
    flow_dir: Path, yaml_text: str, line: int, node_id: str | None, fragment: str
) -> None:
    write(flow_dir, "topic.yaml", yaml_text)

    problems = load_problems(flow_dir)
    problem = find(problems, fragment)

    assert located(problem) == ("topic.yaml", line, node_id, Severity.ERROR)
    # The one mistake is reported once, not as a cascade of follow-up errors.
    assert len(problems) == 1, [str(p) for p in problems]


def test_an_unknown_kind_is_named_in_the_message(flow_dir: Path) -> None:
    write(
        flow_dir,
        "topic.yaml",
        """\
        nodes:
          start:
            kind: page
            text: Gesundheit.
        """,
    )

    [problem] = load_problems(flow_dir)

    assert problem.message == "kind 'page' is unknown: use one of menu, info, contacts, handover"


def test_a_menu_whose_only_option_is_wrong_gets_one_error_not_two(flow_dir: Path) -> None:
    write(
        flow_dir,
        "topic.yaml",
        """\
        nodes:
          start:
            kind: menu
            text: Gesundheit.
            options:
              - label: Test
        """,
    )

    problems = load_problems(flow_dir)

    assert [located(problem) for problem in problems] == [
        ("topic.yaml", 6, "topic.start", Severity.ERROR)
    ]
    assert "exactly one of 'goto' or 'action'" in problems[0].message


def test_a_schema_error_in_system_yaml_names_the_setting(flow_dir: Path) -> None:
    text = (flow_dir / "system.yaml").read_text(encoding="utf-8")
    write(flow_dir, "system.yaml", text.replace("privacy: main.privacy", "privacy: Datenschutz"))

    problem = find(load_problems(flow_dir), "'Datenschutz' is not a node id")

    assert located(problem) == ("system.yaml", 4, None, Severity.ERROR)


def test_a_fact_with_an_invalid_date_is_an_error_at_its_line(flow_dir: Path) -> None:
    write(
        flow_dir,
        "facts.yaml",
        """\
        facts:
          hotline:
            text: "116 016"
            source: https://www.hilfetelefon.de/
            checked: letzte Woche
        """,
    )

    problem = find(load_problems(flow_dir), "checked")

    assert located(problem) == ("facts.yaml", 5, None, Severity.ERROR)


def test_errors_in_several_files_are_all_reported_at_once(flow_dir: Path) -> None:
    text = (flow_dir / "system.yaml").read_text(encoding="utf-8")
    write(flow_dir, "system.yaml", text.replace("navigation:", "navigaton:"))
    text = (flow_dir / "main.yaml").read_text(encoding="utf-8")
    write(flow_dir, "main.yaml", text.replace("kind: handover", "kind: handoff"))
    text = (flow_dir / "topic.yaml").read_text(encoding="utf-8")
    write(flow_dir, "topic.yaml", text.replace("media: test.png", "media: test.gif"))

    problems = load_problems(flow_dir)

    assert sorted(located(problem) for problem in problems) == [
        ("main.yaml", 23, "main.counsellor", Severity.ERROR),
        ("system.yaml", 5, None, Severity.ERROR),
        ("topic.yaml", 8, "topic.test", Severity.ERROR),
    ]


# -- YAML's implicit typing --------------------------------------------------------------------


@pytest.mark.parametrize("label", ["no", "Yes", "on", "OFF", "Nein", "110", "3.0", "2026-01-01"])
def test_a_label_is_read_as_written_not_as_a_bool_number_or_date(
    flow_dir: Path, label: str
) -> None:
    write(
        flow_dir,
        "topic.yaml",
        f"""\
        nodes:
          start:
            kind: menu
            text: Möchtest du weiterlesen?
            options:
              - label: {label}
                goto: start
        """,
    )

    option = load_flow(flow_dir).nodes["topic.start"].options[0]

    assert option.label == label
    assert isinstance(option.label, str)


@pytest.mark.parametrize(("written", "expected"), [("false", False), ("true", True)])
def test_navigation_is_read_as_a_bool(flow_dir: Path, written: str, expected: bool) -> None:
    write(
        flow_dir,
        "topic.yaml",
        f"""\
        nodes:
          start:
            kind: info
            text: Gesundheit.
            navigation: {written}
        """,
    )

    node = load_flow(flow_dir).nodes["topic.start"]

    assert isinstance(node, InfoNode)
    assert node.navigation is expected


def test_a_fact_date_is_read_as_a_date(flow_dir: Path) -> None:
    assert load_flow(flow_dir).facts["hotline"].checked == datetime.date(2026, 11, 1)


# -- the deployment file -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "line", "fragment"),
    [
        ("languages: [de, ro]", "languages: [de, xx-nope]", 4, "'xx-nope' is not a language"),
        ("languages: [de, ro]", "languages: [de, de]", 4, "listed twice"),
        ('  phone: "0123 111"\n', '  telefon: "0123 111"\n', 3, "unknown key 'telefon'"),
        ("    hours: Mo", "    opening: Mo", 9, "unknown key 'opening'"),
        ("  name: Beratungsstelle Teststadt\n  phone", "  phone", 1, "'name' is missing"),
    ],
    ids=[
        "unknown-language",
        "language-twice",
        "unknown-service-key",
        "unknown-contact-key",
        "service-without-name",
    ],
)
def test_a_wrong_deployment_setting_is_reported_with_file_line_and_name(
    tmp_path: Path, old: str, new: str, line: int, fragment: str
) -> None:
    text = MINIMAL_DEPLOYMENT.read_text(encoding="utf-8")
    assert old in text
    path = write(tmp_path, "deployment.yaml", text.replace(old, new, 1))

    with pytest.raises(LoadError) as raised:
        load_deployment(path)

    problem = find(raised.value.problems, fragment)
    assert located(problem) == ("deployment.yaml", line, None, Severity.ERROR)
    assert f"deployment.yaml:{line}" in str(raised.value)


def test_a_missing_deployment_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LoadError) as raised:
        load_deployment(tmp_path / "deployment.yaml")

    problem = find(raised.value.problems, "file not found")
    assert Path(problem.location.file).name == "deployment.yaml"


def test_a_yml_file_is_refused_instead_of_skipped(flow_dir: Path) -> None:
    (flow_dir / "extra.yml").write_text("nodes: {}\n", encoding="utf-8")

    with pytest.raises(LoadError) as raised:
        load_flow(flow_dir)

    [problem] = raised.value.problems
    assert problem.location.file.endswith("extra.yml")
    assert "must end in .yaml" in problem.message
