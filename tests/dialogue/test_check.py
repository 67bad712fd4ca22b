"""The linter behind `wegweiser flows check` (bot/dialogue/check.py): rules that need the whole
flow and the deployment. Each test breaks one thing in a copy of tests/fixtures/minimal.

Lines of the fixture that the tests point at:

    main.yaml   23 counsellor: (handover)   26 confirm: Ja, bitte
                31 phone: (contacts)        33 text: ...   34 contacts: [centre]
    topic.yaml   2 start:    6 - label: Test    7 goto: test
                 8 test:    10 text: ...       11 media: test.png
                12 emergency:                   15 keywords: [Notfall, help, ajutor]
                (15 lines: appended nodes start at line 16)
    system.yaml  2 menu:     3 counsellor:      7 back:   17 handover_unavailable:
    facts.yaml   2 hotline:  (5 lines: appended facts start at line 6)
"""

from __future__ import annotations

import datetime
import subprocess
from pathlib import Path

import pytest

from bot.config import EXAMPLE_DEPLOYMENT, PROJECT_ROOT, Deployment, check_flows_for
from bot.dialogue import CheckResult, Problem, Severity
from tests.conftest import (
    MINIMAL_DEPLOYMENT,
    MINIMAL_FLOW,
    MINIMAL_LOCALES,
    SHIPPED_FLOWS,
    add_audio,
    check,
    wegweiser,
)
from tests.conftest import edit_flow as replace

ERROR = Severity.ERROR
WARNING = Severity.WARNING


def append(directory: Path, name: str, text: str) -> None:
    """Add lines at the end of a fixture file (nodes to topic.yaml, facts to facts.yaml)."""
    path = directory / name
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def find(problems: list[Problem], fragment: str) -> Problem:
    """The one problem whose message contains `fragment`."""
    found = [problem for problem in problems if fragment in problem.message]
    assert len(found) == 1, "\n".join(str(problem) for problem in problems) or "no problems"
    return found[0]


def located(problem: Problem) -> tuple[str, int, str | None, Severity]:
    """Where a problem points a maintainer: file name, line, node id, severity."""
    location = problem.location
    return Path(location.file).name, location.line, problem.node_id, problem.severity


def only_error(result: CheckResult) -> Problem:
    """The single error of a flow broken in exactly one place."""
    assert len(result.errors) == 1, "\n".join(str(problem) for problem in result.problems)
    return result.errors[0]


def lint_on(directory: Path, deployment: Deployment, today: datetime.date) -> CheckResult:
    return check_flows_for(directory, deployment, today=today)


# -- valid flows -------------------------------------------------------------------------------


def test_the_minimal_flow_has_no_errors_and_no_warnings(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    result = check(flow_dir, minimal_deployment)

    assert result.problems == []
    assert result.ok
    assert result.flow is not None


def test_the_shipped_flows_have_no_errors(example_deployment: Deployment) -> None:
    result = check(SHIPPED_FLOWS, example_deployment)

    assert result.errors == [], "\n".join(str(problem) for problem in result.errors)
    assert result.ok


def test_a_flow_that_does_not_load_is_not_ok_and_reports_the_load_error(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    replace(flow_dir, "topic.yaml", "    media: test.png\n", "    meda: test.png\n")

    result = check(flow_dir, minimal_deployment)

    assert not result.ok
    assert result.flow is None
    assert located(only_error(result)) == ("topic.yaml", 11, "topic.test", ERROR)


# -- targets -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("goto", "message"),
    [
        ("tset", "unknown target 'topic.tset' (did you mean 'topic.test'?)"),
        ("main.menue", "unknown target 'main.menue' (did you mean 'main.menu'?)"),
        ("nowhere.at_all", "unknown target 'nowhere.at_all'"),
    ],
)
def test_an_unknown_target_is_an_error_at_the_goto_with_a_suggestion_for_a_near_miss(
    flow_dir: Path, minimal_deployment: Deployment, goto: str, message: str
) -> None:
    replace(flow_dir, "topic.yaml", "goto: test", f"goto: {goto}")

    problem = only_error(check(flow_dir, minimal_deployment))

    assert located(problem) == ("topic.yaml", 7, "topic.start", ERROR)
    assert problem.message == message


def test_an_unknown_target_in_system_yaml_is_located_there(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    replace(flow_dir, "system.yaml", "menu: main.menu", "menu: main.menue")

    problem = only_error(check(flow_dir, minimal_deployment))

    assert located(problem) == ("system.yaml", 2, None, ERROR)
    assert problem.message == "menu: unknown target 'main.menue' (did you mean 'main.menu'?)"


def test_the_counsellor_setting_must_name_a_handover_node(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    replace(flow_dir, "system.yaml", "counsellor: main.counsellor", "counsellor: main.privacy")

    problem = only_error(check(flow_dir, minimal_deployment))

    assert located(problem) == ("system.yaml", 3, None, ERROR)
    assert "'main.privacy' must be a node of kind handover" in problem.message


# -- reachability and dead ends ----------------------------------------------------------------


def test_an_unreachable_node_is_a_warning_at_its_line(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    append(
        flow_dir,
        "topic.yaml",
        """\
  orphan:
    kind: info
    text: Hierher führt nichts.
""",
    )

    result = check(flow_dir, minimal_deployment)

    assert result.ok
    problem = find(result.warnings, "unreachable")
    assert located(problem) == ("topic.yaml", 16, "topic.orphan", WARNING)


def test_a_node_reached_only_from_an_unreachable_node_is_unreachable_too(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    append(
        flow_dir,
        "topic.yaml",
        """\
  orphan:
    kind: menu
    text: Hierher führt nichts.
    options:
      - label: Weiter
        goto: orphan_child
  orphan_child:
    kind: info
    text: Hierher auch nicht.
""",
    )

    result = check(flow_dir, minimal_deployment)

    assert sorted(located(problem) for problem in result.warnings) == [
        ("topic.yaml", 16, "topic.orphan", WARNING),
        ("topic.yaml", 22, "topic.orphan_child", WARNING),
    ]


def test_a_node_reachable_only_by_keyword_is_not_unreachable(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    append(
        flow_dir,
        "topic.yaml",
        """\
  shelter:
    kind: info
    text: Notunterkunft.
    keywords: [Unterkunft]
""",
    )

    assert check(flow_dir, minimal_deployment).problems == []


DEAD_END = "dead end"


@pytest.mark.parametrize(
    ("options", "dead_ends"),
    [
        ("", ["topic.test"]),
        ("    options:\n      - label: Nochmal\n        goto: test\n", ["topic.test"]),
        ("    options:\n      - label: Zum Menü\n        action: menu\n", []),
        ("    options:\n      - label: Zurück\n        action: back\n", []),
        ("    options:\n      - label: Gesundheit\n        goto: start\n", []),
        ("    options:\n      - label: Beraterin\n        action: counsellor\n", []),
        ("    options:\n      - label: Sprache\n        action: language\n", ["topic.test"]),
    ],
    ids=[
        "no-options",
        "only-itself",
        "menu-action",
        "back-action",
        "goto-node-with-navigation",
        "counsellor-action",
        "language-action",
    ],
)
def test_a_node_without_navigation_needs_an_option_back_to_the_menu(
    flow_dir: Path, minimal_deployment: Deployment, options: str, dead_ends: list[str]
) -> None:
    replace(
        flow_dir,
        "topic.yaml",
        "    media: test.png\n",
        f"    media: test.png\n    navigation: false\n{options}",
    )

    result = check(flow_dir, minimal_deployment)

    found = [problem for problem in result.problems if DEAD_END in problem.message]
    assert [located(problem) for problem in found] == [
        ("topic.yaml", 8, node_id, ERROR) for node_id in dead_ends
    ]
    assert result.ok == (not dead_ends)


def test_a_chain_of_nodes_without_navigation_and_without_a_way_back_are_all_dead_ends(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    replace(
        flow_dir,
        "topic.yaml",
        "    media: test.png\n",
        "    media: test.png\n"
        "    navigation: false\n"
        "    options:\n"
        "      - label: Weiter\n"
        "        goto: trap\n",
    )
    append(
        flow_dir,
        "topic.yaml",
        """\
  trap:
    kind: info
    text: Sackgasse.
    navigation: false
""",
    )

    result = check(flow_dir, minimal_deployment)

    assert sorted(located(problem) for problem in result.errors) == [
        ("topic.yaml", 8, "topic.test", ERROR),
        ("topic.yaml", 20, "topic.trap", ERROR),
    ]


# -- Telegram's limits -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "severity", "fragment"),
    [
        (700, None, ""),
        (701, WARNING, "text is 701 characters, more than a phone screen"),
        (4096, WARNING, "text is 4096 characters, more than a phone screen"),
        (4097, ERROR, "text is 4097 characters; Telegram allows 4096"),
    ],
)
def test_a_long_text_is_a_warning_above_a_phone_screen_and_an_error_above_telegrams_limit(
    flow_dir: Path,
    minimal_deployment: Deployment,
    length: int,
    severity: Severity | None,
    fragment: str,
) -> None:
    replace(
        flow_dir,
        "topic.yaml",
        "text: Beim Gesundheitsamt kannst du dich testen lassen.",
        "text: " + "x" * length,
    )

    result = check(flow_dir, minimal_deployment)

    if severity is None:
        assert result.problems == []
    else:
        [problem] = result.problems
        assert located(problem) == ("topic.yaml", 10, "topic.test", severity)
        assert fragment in problem.message


def test_the_length_of_a_text_counts_placeholders_as_filled_in(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    # 676 characters and "{service.name}": 690 as written, 701 as shown (the name has 25).
    replace(
        flow_dir,
        "topic.yaml",
        "text: Beim Gesundheitsamt kannst du dich testen lassen.",
        "text: " + "x" * 676 + "{service.name}",
    )

    result = check(flow_dir, minimal_deployment)

    problem = find(result.problems, "more than a phone screen")
    assert located(problem) == ("topic.yaml", 10, "topic.test", WARNING)
    shown = 676 + len(minimal_deployment.service.name)
    assert problem.message.startswith(f"text is {shown} characters")


def test_the_length_of_a_contacts_node_counts_its_contact_entries(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    replace(flow_dir, "main.yaml", "text: So erreichst du uns.", "text: " + "x" * 690)

    result = check(flow_dir, minimal_deployment)

    problem = find(result.problems, "more than a phone screen")
    assert located(problem) == ("main.yaml", 33, "main.phone", WARNING)
    # As the engine shows it: the text, a blank line, the entry.
    entry = "\n".join(minimal_deployment.contact_entries()["centre"].lines("de"))
    assert problem.message.startswith(f"text is {690 + 2 + len(entry)} characters")


@pytest.mark.parametrize(
    ("length", "severity", "fragment"),
    [
        (40, None, ""),
        (41, WARNING, "label is 41 characters; phones may cut it"),
        (64, WARNING, "label is 64 characters; phones may cut it"),
        (65, ERROR, "label is 65 characters (at most 64)"),
    ],
)
def test_a_long_label_is_a_warning_above_40_characters_and_an_error_above_64(
    flow_dir: Path,
    minimal_deployment: Deployment,
    length: int,
    severity: Severity | None,
    fragment: str,
) -> None:
    replace(flow_dir, "topic.yaml", "- label: Test", "- label: " + "L" * length)

    result = check(flow_dir, minimal_deployment)

    if severity is None:
        assert result.problems == []
    else:
        [problem] = result.problems
        assert located(problem) == ("topic.yaml", 6, "topic.start", severity)
        assert fragment in problem.message


def test_a_long_confirm_button_is_checked_like_a_label(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    replace(flow_dir, "main.yaml", "confirm: Ja, bitte", "confirm: " + "J" * 65)

    problem = only_error(check(flow_dir, minimal_deployment))

    assert located(problem) == ("main.yaml", 26, "main.counsellor", ERROR)
    assert "label is 65 characters (at most 64)" in problem.message


def test_a_long_navigation_label_in_system_yaml_is_an_error(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    replace(flow_dir, "system.yaml", "back: Zurück", "back: " + "Z" * 65)

    problem = only_error(check(flow_dir, minimal_deployment))

    assert located(problem) == ("system.yaml", 7, None, ERROR)
    assert "back: 65 characters (at most 64)" in problem.message


@pytest.mark.parametrize(
    ("key", "limit", "line"),
    [("short_description", 120, 24), ("description", 512, 23), ("help", 256, 32)],
)
def test_a_profile_text_over_telegrams_limit_is_an_error(
    flow_dir: Path, minimal_deployment: Deployment, key: str, limit: int, line: int
) -> None:
    system = (flow_dir / "system.yaml").read_text(encoding="utf-8")
    old = next(row for row in system.splitlines() if row.strip().startswith(f"{key}:"))
    replace(flow_dir, "system.yaml", old, old.split(":")[0] + ": " + "x" * (limit + 1))

    problem = only_error(check(flow_dir, minimal_deployment))

    assert located(problem) == ("system.yaml", line, None, ERROR)
    assert f"{limit + 1} characters (at most {limit})" in problem.message


def test_a_profile_text_at_telegrams_limit_is_accepted(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    replace(
        flow_dir,
        "system.yaml",
        "short_description: Anonyme Beratung.",
        "short_description: " + "x" * 120,
    )

    assert check(flow_dir, minimal_deployment).ok


# "topic." + id + "|confirm" is the longest button data of a node: 14 bytes besides the id.
@pytest.mark.parametrize(("id_length", "too_long"), [(50, False), (51, True)])
def test_a_node_id_so_long_that_its_button_data_exceeds_64_bytes_is_an_error(
    flow_dir: Path, minimal_deployment: Deployment, id_length: int, too_long: bool
) -> None:
    long_id = "t" * id_length
    replace(flow_dir, "topic.yaml", "goto: test", f"goto: {long_id}")
    replace(flow_dir, "topic.yaml", "  test:\n", f"  {long_id}:\n")

    result = check(flow_dir, minimal_deployment)

    if not too_long:
        assert result.problems == []
    else:
        problem = only_error(result)
        assert located(problem) == ("topic.yaml", 8, f"topic.{long_id}", ERROR)
        assert "node id too long" in problem.message
        assert "64 bytes" in problem.message


# -- placeholders ------------------------------------------------------------------------------

TOPIC_TEST_TEXT = "text: Beim Gesundheitsamt kannst du dich testen lassen."


@pytest.mark.parametrize(
    ("name", "old", "new", "line", "node_id", "message"),
    [
        (
            "topic.yaml",
            TOPIC_TEST_TEXT,
            "text: Ruf an unter {service.nope}.",
            10,
            "topic.test",
            "'{service.nope}': the deployment configuration does not set service.nope",
        ),
        (
            "topic.yaml",
            TOPIC_TEST_TEXT,
            "text: Schreib an {service.email}.",
            10,
            "topic.test",
            "'{service.email}': the deployment configuration does not set service.email",
        ),
        (
            "topic.yaml",
            TOPIC_TEST_TEXT,
            "text: Ruf an unter {fact.nope}.",
            10,
            "topic.test",
            "'{fact.nope}': no fact 'nope' in facts.yaml",
        ),
        (
            "topic.yaml",
            TOPIC_TEST_TEXT,
            "text: Siehe {other.x}.",
            10,
            "topic.test",
            "'{other.x}': unknown placeholder (use service.*, keep.* or fact.*)",
        ),
        (
            "topic.yaml",
            TOPIC_TEST_TEXT,
            "text: Ruf an unter {service phone}.",
            10,
            "topic.test",
            "'{service phone}' is not a placeholder: use {service.NAME} or {fact.NAME}",
        ),
        (
            "topic.yaml",
            TOPIC_TEST_TEXT,
            "text: Ruf an unter {Service.Phone}.",
            10,
            "topic.test",
            "'{Service.Phone}' is not a placeholder: use {service.NAME} or {fact.NAME}",
        ),
        (
            "topic.yaml",
            "- label: Test",
            "- label: Test {fact.nope}",
            6,
            "topic.start",
            "'{fact.nope}': no fact 'nope' in facts.yaml",
        ),
        (
            "main.yaml",
            "confirm: Ja, bitte",
            "confirm: Ja, {service.nope}",
            26,
            "main.counsellor",
            "'{service.nope}': the deployment configuration does not set service.nope",
        ),
        (
            "system.yaml",
            '"Ruf uns an: {service.phone}"',
            '"Schreib uns: {service.email}"',
            18,
            None,
            "handover_unavailable: '{service.email}': the deployment configuration does not "
            "set service.email",
        ),
        (
            "system.yaml",
            "back: Zurück",
            "back: Zurück {fact.nope}",
            7,
            None,
            "back: '{fact.nope}': no fact 'nope' in facts.yaml",
        ),
    ],
    ids=[
        "unknown-service-name",
        "service-value-the-deployment-does-not-set",
        "unknown-fact",
        "unknown-group",
        "malformed",
        "upper-case",
        "in-a-label",
        "in-a-confirm-button",
        "in-a-system-message",
        "in-a-system-label",
    ],
)
def test_a_placeholder_neither_the_deployment_nor_the_facts_define_is_an_error(
    flow_dir: Path,
    minimal_deployment: Deployment,
    name: str,
    old: str,
    new: str,
    line: int,
    node_id: str | None,
    message: str,
) -> None:
    replace(flow_dir, name, old, new)

    problem = only_error(check(flow_dir, minimal_deployment))

    assert located(problem) == (name, line, node_id, ERROR)
    assert problem.message == message


@pytest.mark.parametrize("text", ["Ruf an: {service.phone", "Ruf an: service.phone}"])
def test_a_placeholder_with_a_missing_brace_is_an_error(
    flow_dir: Path, minimal_deployment: Deployment, text: str
) -> None:
    replace(flow_dir, "topic.yaml", TOPIC_TEST_TEXT, f'text: "{text}"')

    problem = only_error(check(flow_dir, minimal_deployment))

    assert located(problem) == ("topic.yaml", 10, "topic.test", ERROR)
    assert "without its partner" in problem.message


# -- facts -------------------------------------------------------------------------------------


def test_a_fact_that_contains_a_placeholder_is_an_error(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    replace(flow_dir, "facts.yaml", 'text: "116 016"', 'text: "{service.phone}"')

    problem = only_error(check(flow_dir, minimal_deployment))

    assert located(problem) == ("facts.yaml", 2, None, ERROR)
    assert "fact 'hotline' contains a placeholder" in problem.message


UNUSED_FACT = """\
  police:
    text: "110"
    source: https://www.polizei.de/
    checked: 2026-10-01
"""


def test_an_unused_fact_is_a_warning(flow_dir: Path, minimal_deployment: Deployment) -> None:
    append(flow_dir, "facts.yaml", UNUSED_FACT)

    result = check(flow_dir, minimal_deployment)

    assert result.ok
    [problem] = result.problems
    assert located(problem) == ("facts.yaml", 6, None, WARNING)
    assert "fact 'police' is not used by any text" in problem.message


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("topic.yaml", TOPIC_TEST_TEXT, "text: Polizei {fact.police}."),
        ("topic.yaml", "- label: Test", "- label: Polizei {fact.police}"),
        ("main.yaml", "confirm: Ja, bitte", "confirm: Ja {fact.police}"),
        ("system.yaml", '"Ruf uns an: {service.phone}"', '"Ruf {fact.police} an"'),
    ],
    ids=["text", "label", "confirm", "system-message"],
)
def test_a_fact_used_anywhere_is_not_unused(
    flow_dir: Path, minimal_deployment: Deployment, name: str, old: str, new: str
) -> None:
    append(flow_dir, "facts.yaml", UNUSED_FACT)
    replace(flow_dir, name, old, new)

    assert check(flow_dir, minimal_deployment).problems == []


@pytest.mark.parametrize(
    ("time_sensitive", "today", "stale"),
    [
        ("true", datetime.date(2027, 6, 1), True),
        ("true", datetime.date(2027, 1, 15), False),
        ("false", datetime.date(2030, 1, 1), False),
    ],
    ids=["time-sensitive-checked-7-months-ago", "time-sensitive-checked-recently", "timeless"],
)
def test_a_time_sensitive_fact_checked_more_than_six_months_ago_is_a_warning(
    flow_dir: Path,
    minimal_deployment: Deployment,
    time_sensitive: str,
    today: datetime.date,
    stale: bool,
) -> None:
    # The fixture's fact was checked on 2026-11-01.
    append(flow_dir, "facts.yaml", f"    time_sensitive: {time_sensitive}\n")

    result = lint_on(flow_dir, minimal_deployment, today)

    if not stale:
        assert result.problems == []
    else:
        [problem] = result.problems
        assert located(problem) == ("facts.yaml", 2, None, WARNING)
        assert "fact 'hotline' is time-sensitive and was last checked on 2026-11-01" in (
            problem.message
        )
        assert "https://www.hilfetelefon.de/" in problem.message


# -- media -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("media", "fragment"),
    [
        ("nope.png", "media file not found"),
        ("sub/test.png", "media file not found"),
        ("../../etc/passwd.png", "must stay inside flows/media/"),
        ("/etc/passwd.png", "must stay inside flows/media/"),
        ("../topic.png", "must stay inside flows/media/"),
    ],
)
def test_a_missing_or_escaping_media_file_is_an_error_at_the_media_line(
    flow_dir: Path, minimal_deployment: Deployment, media: str, fragment: str
) -> None:
    replace(flow_dir, "topic.yaml", "media: test.png", f"media: {media}")

    problem = only_error(check(flow_dir, minimal_deployment))

    assert located(problem) == ("topic.yaml", 11, "topic.test", ERROR)
    assert fragment in problem.message


def test_a_media_file_that_links_out_of_the_media_folder_is_an_error(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    (flow_dir / "media" / "link.png").symlink_to(flow_dir / "facts.yaml")
    replace(flow_dir, "topic.yaml", "media: test.png", "media: link.png")

    problem = only_error(check(flow_dir, minimal_deployment))

    assert located(problem) == ("topic.yaml", 11, "topic.test", ERROR)
    assert "must stay inside flows/media/" in problem.message


MB = 1024 * 1024


@pytest.mark.parametrize(
    ("file_name", "size", "fragment"),
    [
        ("test.png", 10 * MB, None),
        ("test.png", 10 * MB + 1, "larger than Telegram's 10 MB for image"),
        ("voice.mp3", 20 * MB, None),
        ("voice.mp3", 50 * MB + 1, "larger than Telegram's 50 MB for audio"),
    ],
    ids=["image-at-limit", "image-too-large", "audio-larger-than-an-image", "audio-too-large"],
)
def test_a_media_file_larger_than_telegram_accepts_is_an_error(
    flow_dir: Path,
    minimal_deployment: Deployment,
    file_name: str,
    size: int,
    fragment: str | None,
) -> None:
    with (flow_dir / "media" / file_name).open("ab") as media:
        media.truncate(size)  # sparse: takes no space on disk
    replace(flow_dir, "topic.yaml", "media: test.png", f"media: {file_name}")

    result = check(flow_dir, minimal_deployment)

    if fragment is None:
        assert result.problems == []
    else:
        problem = only_error(result)
        assert located(problem) == ("topic.yaml", 11, "topic.test", ERROR)
        assert fragment in problem.message


# -- contacts and keywords ---------------------------------------------------------------------


def test_a_contact_the_deployment_does_not_define_is_an_error(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    replace(flow_dir, "main.yaml", "contacts: [centre]", "contacts: [centre, nowhere]")

    problem = only_error(check(flow_dir, minimal_deployment))

    assert located(problem) == ("main.yaml", 34, "main.phone", ERROR)
    assert "contact 'nowhere' is not in the deployment configuration" in problem.message


@pytest.mark.parametrize("keyword", ["notfall", "NOTFALL", "Help!", "Ajutór", "'notfall '"])
def test_a_keyword_of_two_nodes_is_an_error_regardless_of_case_and_accents(
    flow_dir: Path, minimal_deployment: Deployment, keyword: str
) -> None:
    append(
        flow_dir,
        "topic.yaml",
        f"""\
  hotline:
    kind: info
    text: Das Hilfetelefon hilft.
    keywords: [{keyword}]
""",
    )

    problem = only_error(check(flow_dir, minimal_deployment))

    assert located(problem) == ("topic.yaml", 19, "topic.hotline", ERROR)
    assert "also leads to 'topic.emergency'" in problem.message


def test_a_keyword_without_letters_or_digits_is_an_error(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    replace(flow_dir, "topic.yaml", "[Notfall, help, ajutor]", "[Notfall, '?!', ajutor]")

    problem = only_error(check(flow_dir, minimal_deployment))

    assert located(problem) == ("topic.yaml", 15, "topic.emergency", ERROR)
    assert "keyword '?!' has no letters or digits" in problem.message


# -- the command line --------------------------------------------------------------------------


def flows_check(
    flows: Path, config: Path, locales: Path = MINIMAL_LOCALES
) -> subprocess.CompletedProcess[str]:
    """`wegweiser flows check` as a maintainer runs it, in a process of its own."""
    return wegweiser("flows", "check", "--flows", flows, "--config", config, "--locales", locales)


def test_flows_check_sums_up_per_language_which_screens_have_audio(flow_dir: Path) -> None:
    add_audio(flow_dir, de="de/test.mp3")

    run = flows_check(flow_dir, MINIMAL_DEPLOYMENT)

    assert run.returncode == 0, run.stdout
    said = run.stdout.splitlines()
    summary = [line for line in said if line.startswith("audio ")]
    assert summary[0].startswith("audio de: 1 of 8 screens; without: main.welcome, ")
    assert summary[1:] == ["audio ro: 0 of 8 screens"]  # one line per language, not per screen
    assert not any("audio" in line for line in said if line not in summary)


def test_a_missing_audio_file_is_an_error_and_audio_nobody_is_offered_a_warning(
    flow_dir: Path, minimal_deployment: Deployment
) -> None:
    add_audio(flow_dir, de="de/test.mp3", pl="pl/test.mp3")
    (flow_dir / "media" / "de" / "test.mp3").unlink()

    result = check(flow_dir, minimal_deployment)

    missing = find(result.errors, "media file not found")
    assert located(missing) == ("topic.yaml", 13, "topic.test", ERROR)
    assert missing.message.endswith("media/de/test.mp3")
    unheard = find(result.warnings, "'pl'")
    assert unheard.message == "audio for 'pl', which the deployment does not offer"
    assert located(unheard) == ("topic.yaml", 14, "topic.test", WARNING)


def test_audio_must_be_an_audio_file(flow_dir: Path, minimal_deployment: Deployment) -> None:
    add_audio(flow_dir, de="de/test.png")

    problem = only_error(check(flow_dir, minimal_deployment))

    assert "audio for de: the file must end in one of .m4a, .mp3, .ogg" in problem.message


def test_the_cli_check_exits_0_on_a_valid_flow() -> None:
    run = flows_check(MINIMAL_FLOW, MINIMAL_DEPLOYMENT)

    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 error(s), 0 warning(s) in 8 nodes" in run.stdout


def test_the_cli_check_fails_with_file_and_line_of_a_wrong_target(flow_dir: Path) -> None:
    replace(flow_dir, "topic.yaml", "goto: test", "goto: tset")

    run = flows_check(flow_dir, MINIMAL_DEPLOYMENT)

    assert run.returncode != 0
    assert "topic.yaml:7: error [topic.start]: unknown target 'topic.tset'" in run.stdout
    assert "1 error(s)" in run.stdout


def test_the_cli_check_of_the_shipped_flows_passes() -> None:
    run = flows_check(SHIPPED_FLOWS, EXAMPLE_DEPLOYMENT, PROJECT_ROOT / "locales")

    assert run.returncode == 0, run.stdout + run.stderr
