"""`wegweiser i18n extract | update | compile | status` on real files, as a maintainer runs them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from babel.messages.extract import extract_from_dir

from bot.dialogue import load_flow
from bot.i18n.catalogs import Catalogs, catalog_path, template_path
from bot.i18n.messages import flow_messages
from bot.i18n.pipeline import extract
from tests.conftest import MINIMAL_DEPLOYMENT, MINIMAL_FLOW, wegweiser
from tests.i18n.conftest import entry


def i18n(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return wegweiser("i18n", *args)


def test_every_text_is_keyed_by_its_node_id_and_located_by_file_and_line() -> None:
    messages = {(m.context, m.text): m for m in flow_messages(load_flow(MINIMAL_FLOW))}

    welcome = messages[("main.welcome", "Willkommen bei {service.name}.")]
    assert (Path(welcome.location.file).name, welcome.location.line) == ("main.yaml", 4)
    label = messages[("topic.start", "Test")]
    assert (Path(label.location.file).name, label.location.line) == ("topic.yaml", 6)
    # keywords are one entry, so a translator can give as many words as people type
    assert ("topic.emergency.keywords", "Notfall, help, ajutor") in messages
    # each system text has its own context: where it is shown
    assert ("system.messages.choose_language", "Bitte wähl deine Sprache.") in messages
    assert ("system.profile.commands.start", "Neu anfangen") in messages  # the command menu
    assert not any(context == "system" for context, _ in messages)
    # a fact that is only a number needs no translation
    assert not any(context.startswith("fact.") for context, _ in messages)


def test_pybabel_finds_the_same_texts_through_the_registered_extractor() -> None:
    found = {
        (context, message)
        for _file, _line, message, _comments, context in extract_from_dir(
            str(MINIMAL_FLOW), method_map=[("*.yaml", "wegweiser_flow")]
        )
    }

    expected = {(m.context, m.text) for m in flow_messages(load_flow(MINIMAL_FLOW))}
    assert found == expected


def test_extract_writes_the_template_with_locations_and_does_not_churn(tmp_path: Path) -> None:
    flow = load_flow(MINIMAL_FLOW)
    path, count, changed = extract(flow, tmp_path)

    assert (path, changed) == (template_path(tmp_path), True)
    text = path.read_text("utf-8")
    keys = {(message.context, message.text) for message in flow_messages(flow)}
    assert count == len(keys) == text.count("msgctxt") == 62
    assert '#: minimal/main.yaml:4\n#, python-brace-format\nmsgctxt "main.welcome"' in (text)
    assert extract(flow, tmp_path)[2] is False  # nothing changed but the date: not rewritten


def test_update_creates_a_draft_catalog_for_an_offered_language(tmp_path: Path) -> None:
    run = i18n(
        "update", "--flows", MINIMAL_FLOW, "--config", MINIMAL_DEPLOYMENT, "--locales", tmp_path
    )

    assert run.returncode == 0, run.stderr
    romanian = catalog_path(tmp_path, "ro")
    assert f"{romanian}: created (draft)" in run.stdout
    assert "# Review: draft, awaiting review by a native speaker" in romanian.read_text("utf-8")
    assert not catalog_path(tmp_path, "de").exists()  # German is the flow itself
    row = next(line for line in run.stdout.splitlines() if line.startswith("ro "))
    assert row.split()[2:6] == ["62", "0", "0", "62"]  # texts, translated, fuzzy, missing


def test_a_changed_source_text_makes_its_translation_fuzzy_and_the_status_says_so(
    tmp_path: Path, locales: Path
) -> None:
    flows = Path(shutil.copytree(MINIMAL_FLOW, tmp_path / "flows"))
    topic = flows / "topic.yaml"
    old = "Beim Gesundheitsamt kannst du dich testen lassen."
    new = "Beim Gesundheitsamt kannst du dich kostenlos testen lassen."
    topic.write_text(topic.read_text("utf-8").replace(old, new), "utf-8")

    run = i18n("update", "--flows", flows, "--config", MINIMAL_DEPLOYMENT, "--locales", locales)

    assert run.returncode == 0, run.stderr
    changed = entry(locales, "ro", "topic.test", new)
    assert changed is not None and changed.fuzzy
    assert changed.string == "La Gesundheitsamt te poți testa."  # kept for the translator
    assert entry(locales, "ro", "topic.test", old) is None  # now obsolete
    status = i18n("status", "--flows", flows, "--config", MINIMAL_DEPLOYMENT, "--locales", locales)
    row = next(line for line in status.stdout.splitlines() if line.startswith("ro "))
    assert row.split()[2:6] == ["62", "61", "1", "0"]
    assert "ro: 0 text(s) untranslated and 1 fuzzy, shown in English or Deutsch" in status.stdout
    # the bot does not show the fuzzy translation: the new German text instead
    assert Catalogs.load(locales, ["ro"]).translate("ro", "topic.test", new) == new


def test_compile_writes_a_mo_next_to_every_catalog(locales: Path) -> None:
    run = i18n(
        "compile", "--locales", locales, "--flows", MINIMAL_FLOW, "--config", MINIMAL_DEPLOYMENT
    )

    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == [str(catalog_path(locales, "ro").with_suffix(".mo"))]


def test_a_broken_catalog_is_reported_with_file_and_line(locales: Path) -> None:
    path = catalog_path(locales, "ro")
    lines = path.read_text("utf-8").splitlines(keepends=True)
    broken = next(number for number, line in enumerate(lines) if line.startswith("msgstr")) + 5
    lines.insert(broken, "a line that is no PO keyword\n")
    path.write_text("".join(lines), "utf-8")

    compiled = i18n("compile", "--locales", locales, "--config", MINIMAL_DEPLOYMENT)
    status = i18n(
        "status", "--flows", MINIMAL_FLOW, "--config", MINIMAL_DEPLOYMENT, "--locales", locales
    )

    assert compiled.returncode == 1
    assert f"wegweiser.po:{broken + 1}:" in compiled.stderr
    assert "Traceback" not in compiled.stderr + status.stderr
    assert status.returncode == 1
    assert f"wegweiser.po:{broken + 1}: error:" in status.stdout


def test_the_authors_notes_above_a_node_and_an_option_reach_the_translators(
    tmp_path: Path,
) -> None:
    flows = Path(shutil.copytree(MINIMAL_FLOW, tmp_path / "flows"))
    topic = flows / "topic.yaml"
    topic.write_text(
        topic.read_text("utf-8")
        .replace("  start:\n", "  # The first screen of the topic:\n  # keep it short.\n  start:\n")
        .replace("      - label: Test\n", "      # a test for HIV and STIs\n      - label: Test\n")
        .replace("  test:\n", "  # not a note: a blank line follows\n\n  test:\n"),
        "utf-8",
    )
    system = flows / "system.yaml"
    system.write_text(
        system.read_text("utf-8").replace(
            "  not_understood:", "  # shown when a person types\n  not_understood:"
        ),
        "utf-8",
    )

    run = i18n("extract", "--flows", flows, "--config", MINIMAL_DEPLOYMENT, "--locales", tmp_path)

    assert run.returncode == 0, run.stderr
    text = template_path(tmp_path).read_text("utf-8")
    node_note = "#. The first screen of the topic: keep it short.\n#: flows/topic.yaml"
    assert node_note in text
    assert '#. a test for HIV and STIs\n#: flows/topic.yaml:9\nmsgctxt "topic.start"' in text
    assert "#. shown when a person types\n#: flows/system.yaml" in text
    assert "not a note" not in text
    # the same notes through babel's own extractor (pybabel extract -F babel.cfg)
    comments = {
        message: tuple(found)
        for _file, _line, message, found, _context in extract_from_dir(
            str(flows), method_map=[("*.yaml", "wegweiser_flow")]
        )
    }
    assert "a test for HIV and STIs" in comments["Test"]


def test_a_reviewers_mark_on_an_entry_survives_an_update_unless_its_german_changed(
    tmp_path: Path, locales: Path
) -> None:
    po = catalog_path(locales, "ro")
    text = po.read_text("utf-8")
    # a text editor writes the flag; Poedit's comment field writes a translator comment
    for context, mark in (("topic.test", "#, reviewed\n"), ("topic.start", "# Reviewed, Ana\n")):
        at = text.index(f'msgctxt "{context}"\n')
        text = text[:at] + mark + text[at:]
    po.write_text(text, "utf-8")
    flows = Path(shutil.copytree(MINIMAL_FLOW, tmp_path / "flows"))
    topic = flows / "topic.yaml"
    status = i18n("status", "--flows", flows, "--config", MINIMAL_DEPLOYMENT, "--locales", locales)
    row = next(line for line in status.stdout.splitlines() if line.startswith("ro "))
    assert "reviewed" in status.stdout.splitlines()[0]
    assert row.split()[2:7] == ["62", "62", "0", "0", "2"]  # ... missing, reviewed

    old = "Beim Gesundheitsamt kannst du dich testen lassen."
    new = "Beim Gesundheitsamt kannst du dich kostenlos testen lassen."
    topic.write_text(topic.read_text("utf-8").replace(old, new), "utf-8")
    run = i18n("update", "--flows", flows, "--config", MINIMAL_DEPLOYMENT, "--locales", locales)

    assert run.returncode == 0, run.stderr
    changed = entry(locales, "ro", "topic.test", new)
    assert changed is not None and changed.flags == {"fuzzy"}  # no longer reviewed
    kept = entry(locales, "ro", "topic.start", "Gesundheit.")
    assert kept is not None and kept.user_comments == ["Reviewed, Ana"]
    row = next(line for line in run.stdout.splitlines() if line.startswith("ro "))
    assert row.split()[2:7] == ["62", "61", "1", "0", "1"]
