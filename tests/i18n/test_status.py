"""What the translation check refuses: whatever would mislead a person who reads a translation."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Deployment, translation_report
from bot.dialogue import Location, Problem, Severity, load_flow
from bot.i18n.catalogs import catalog_path
from bot.i18n.messages import FlowMessage, Kind
from bot.i18n.status import translation_problems
from tests.conftest import MINIMAL_DEPLOYMENT, MINIMAL_FLOW
from tests.dialogue.test_check import flows_check
from tests.i18n.conftest import entry, translate

ERROR, WARNING = Severity.ERROR, Severity.WARNING


def problems(locales: Path, deployment: Deployment) -> list[Problem]:
    return translation_report(load_flow(MINIMAL_FLOW), deployment, locales).problems


def only(found: list[Problem], severity: Severity = ERROR) -> Problem:
    matching = [problem for problem in found if problem.severity is severity]
    assert len(matching) == 1, [str(problem) for problem in found]
    return matching[0]


def test_the_reviewed_fixture_has_no_problem(locales: Path, minimal_deployment: Deployment) -> None:
    assert problems(locales, minimal_deployment) == []


@pytest.mark.parametrize(
    ("context", "msgid", "msgstr", "said"),
    [
        (
            "main.welcome",
            "Willkommen bei {service.name}.",
            "Bun venit la noi.",
            "translation drops the placeholder {service.name}",
        ),
        (
            "main.welcome",
            "Willkommen bei {service.name}.",
            "Bun venit la {service.name}, {service.phone}.",
            "translation adds the placeholder {service.phone}, which the source lacks",
        ),
        (
            "main.welcome",
            "Willkommen bei {service.name}.",
            "Bun venit la {serviciu.nume}.",
            "translation drops the placeholder {service.name}",
        ),
        (
            "topic.emergency",
            "Notruf 110. Hilfetelefon {fact.hotline}.",
            "Urgențe 112. Hilfetelefon {fact.hotline}.",
            "translation changes or drops the number '110': keep it as written",
        ),
        (
            "system.messages.not_understood",
            "Ich verstehe nur die Knöpfe.",
            "Înțeleg doar <b>butoanele</b>.",
            "translation has markup '<b>': messages are plain text",
        ),
        (
            "main.welcome",
            "Zum Menü",
            "La meniul cel mare și frumos al acestui chat, unde găsești toate temele noastre",
            "translation is 79 characters (at most 64)",
        ),
        (
            "system.profile.short_description",
            "Anonyme Beratung.",
            "Consiliere anonimă " + "și gratuită " * 10,
            "translation is 139 characters (at most 120)",
        ),
    ],
)
def test_a_translation_that_misleads_is_an_error_at_its_file_and_line(
    locales: Path,
    minimal_deployment: Deployment,
    context: str,
    msgid: str,
    msgstr: str,
    said: str,
) -> None:
    translate(locales, "ro", context, msgid, msgstr)

    found = problems(locales, minimal_deployment)

    assert all(problem.severity is ERROR for problem in found)
    problem = next(problem for problem in found if said in problem.message)
    written = entry(locales, "ro", context, msgid)
    assert written is not None
    assert problem.location.line == written.lineno
    assert problem.location.file.endswith("ro/LC_MESSAGES/wegweiser.po")


SAFETY_TEXT = FlowMessage(
    "emergency.start",
    "Ruf an: 0800 111 0 111. Mit /exit löschst du den Chat. Mehr: https://www.hilfetelefon.de",
    Location("flows/emergency.yaml", 3),
    "screen",
    Kind.SCREEN,
)


@pytest.mark.parametrize(
    ("translated", "said"),
    [
        (
            "Sună: 0800 1110111. Cu /exit ștergi chatul. Mai mult: https://www.hilfetelefon.de",
            "the number '0800 111 0 111'",
        ),
        (
            "Sună: 0800 111 0 111. Cu /iesire ștergi chatul. Mai mult: https://www.hilfetelefon.de",
            "the command '/exit'",
        ),
        (
            "Sună: 0800 111 0 111. Cu /exit ștergi chatul. Mai mult: https://www.hilfetelefon.ro",
            "the link or address 'https://www.hilfetelefon.de'",
        ),
    ],
)
def test_numbers_commands_and_links_stay_as_written(translated: str, said: str) -> None:
    found = [text for text, severity in translation_problems(SAFETY_TEXT, translated)]

    assert found == [f"translation changes or drops {said}: keep it as written"]


PLAIN_DOMAIN = FlowMessage(
    "violence.hotline",
    "Chat und E-Mail: hilfetelefon.de. Freie Plätze: frauenhaus-suche.de",
    Location("flows/violence.yaml", 3),
    "screen",
    Kind.SCREEN,
)


def test_a_plain_web_address_is_checked_like_a_number() -> None:
    changed = "Chat și e-mail: hilfetelefon.ro. Locuri libere: frauenhaus-suche.de"
    kept = "Chat și e-mail: hilfetelefon.de. Locuri libere: frauenhaus-suche.de."

    found = [text for text, _ in translation_problems(PLAIN_DOMAIN, changed)]

    assert found == [
        "translation changes or drops the link or address 'hilfetelefon.de': keep it as written"
    ]
    assert list(translation_problems(PLAIN_DOMAIN, kept)) == []


def test_a_faithful_translation_passes() -> None:
    translated = (
        "Sună: 0800 111 0 111. Cu /exit ștergi chatul. Mai mult: https://www.hilfetelefon.de."
    )
    assert list(translation_problems(SAFETY_TEXT, translated)) == []


def test_a_long_label_is_a_warning(locales: Path, minimal_deployment: Deployment) -> None:
    translate(locales, "ro", "main.welcome", "Zum Menü", "La meniul cu toate temele acestui chat")
    translate(
        locales, "ro", "main.welcome", "Zum Menü", "La meniul cu toate temele acestui chat!!!"
    )

    problem = only(problems(locales, minimal_deployment), WARNING)

    assert "label is 41 characters; phones may cut it after about 40" in problem.message


def test_an_offered_language_without_a_catalog_is_an_error(
    tmp_path: Path, minimal_deployment: Deployment
) -> None:
    problem = only(problems(tmp_path, minimal_deployment))

    assert problem.location.file.endswith("ro/LC_MESSAGES/wegweiser.po")
    assert "language 'ro' is offered in the deployment file but has no catalog" in problem.message


def test_a_draft_is_shown_as_a_draft(locales: Path, minimal_deployment: Deployment) -> None:
    path = catalog_path(locales, "ro")
    path.write_text(
        path.read_text("utf-8").replace(
            "Review: reviewed 2026-12-01 (test fixture)",
            "Review: draft, awaiting review by a native speaker",
        ),
        "utf-8",
    )

    problem = only(problems(locales, minimal_deployment), WARNING)

    assert problem.message == "ro: the translation is a draft, awaiting review by a native speaker"


def test_flows_check_fails_on_a_dropped_placeholder_and_names_the_catalog_line(
    locales: Path,
) -> None:
    translate(
        locales,
        "ro",
        "system.messages.handover_unavailable",
        "Ruf uns an: {service.phone}",
        "Sună-ne.",
    )
    written = entry(
        locales, "ro", "system.messages.handover_unavailable", "Ruf uns an: {service.phone}"
    )
    assert written is not None

    run = flows_check(MINIMAL_FLOW, MINIMAL_DEPLOYMENT, locales)

    assert run.returncode == 1
    said = "error: translation drops the placeholder {service.phone}"
    assert f"wegweiser.po:{written.lineno}: {said}" in run.stdout


def test_a_translated_keyword_that_another_screen_has_is_a_warning(
    locales: Path, flow_dir: Path, minimal_deployment: Deployment
) -> None:
    topic = flow_dir / "topic.yaml"
    topic.write_text(
        topic.read_text("utf-8").replace(
            "    media: test.png", "    media: test.png\n    keywords: [Test]"
        ),
        "utf-8",
    )
    translate(locales, "ro", "topic.emergency.keywords", "Notfall, help, ajutor", "urgență, test")

    report = translation_report(load_flow(flow_dir), minimal_deployment, locales)

    (collision,) = [problem for problem in report.problems if "keyword" in problem.message]
    assert collision.severity is WARNING
    assert collision.node_id == "topic.emergency"
    assert collision.message == (
        "ro: keyword 'test' also leads to 'topic.test'; a typed word can lead to one screen only"
    )
