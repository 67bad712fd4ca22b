"""The catalogs as the engine's translator: compiled .mo files, fallbacks, fuzzy entries."""

from __future__ import annotations

import gettext
import logging
import os
import shutil
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT, Deployment
from bot.dialogue import Session, Show, Start, TextTyped
from bot.i18n.catalogs import (
    Catalogs,
    Review,
    catalog_path,
    fallback_chain,
    review_of,
)
from bot.i18n.pipeline import compile_catalogs, new_catalog, po_text
from tests.conftest import MINIMAL_FLOW, engine_for
from tests.i18n.conftest import entry, translate

WELCOME = ("main.welcome", "Willkommen bei {service.name}.")


def test_every_language_falls_back_to_english_then_german() -> None:
    assert fallback_chain("ro") == ("ro", "en", "de")
    assert fallback_chain("en") == ("en", "de")
    assert fallback_chain("de") == ("de",)


def test_leichte_sprache_falls_back_to_german_not_english() -> None:
    assert fallback_chain("de@easy") == ("de@easy", "de")


def test_compiled_mo_files_are_real_gettext_catalogs(locales: Path) -> None:
    written = compile_catalogs(locales)

    assert written == [catalog_path(locales, "ro").with_suffix(".mo")]
    with written[0].open("rb") as file:
        translation = gettext.GNUTranslations(file)
    assert translation.pgettext(*WELCOME) == "Bun venit la {service.name}."


def test_a_fresh_mo_file_is_used_and_a_stale_one_is_compiled_again(locales: Path) -> None:
    po = catalog_path(locales, "ro")
    compile_catalogs(locales)
    translate(locales, "ro", *WELCOME, "Salut la {service.name}.")
    mo = po.with_suffix(".mo")
    newer = po.stat().st_mtime + 10
    os.utime(mo, (newer, newer))
    # the .mo is newer than the .po: it is what the bot reads
    assert (
        Catalogs.load(locales, ["ro"]).translate("ro", *WELCOME) == "Bun venit la {service.name}."
    )

    os.utime(po, (newer + 10, newer + 10))
    # the .po changed after the .mo was compiled: the .po is compiled in memory
    assert Catalogs.load(locales, ["ro"]).translate("ro", *WELCOME) == "Salut la {service.name}."


def test_a_text_missing_in_romanian_is_shown_in_english_then_in_german(locales: Path) -> None:
    english = new_catalog("en")
    english.add("Sprache", "Language", context="main.welcome")
    path = catalog_path(locales, "en")
    path.parent.mkdir(parents=True)
    path.write_text(po_text(english), "utf-8")
    translate(locales, "ro", "main.welcome", "Sprache", "")
    catalogs = Catalogs.load(locales, ["ro"])

    assert catalogs.translate("ro", "main.welcome", "Sprache") == "Language"
    assert catalogs.lookup("ro", "main.welcome", "Sprache") is None
    # neither Romanian nor English has it: the German source text
    translate(locales, "ro", "main.menu", "Notfall", "")
    assert catalogs.translate("ro", "main.menu", "Notfall") == "Urgență"  # loaded before
    assert Catalogs.load(locales, ["ro"]).translate("ro", "main.menu", "Notfall") == "Notfall"


def test_a_fuzzy_translation_is_not_shown(locales: Path) -> None:
    path = catalog_path(locales, "ro")
    text = path.read_text("utf-8").replace(
        'msgctxt "main.menu"\nmsgid "Notfall"', '#, fuzzy\nmsgctxt "main.menu"\nmsgid "Notfall"'
    )
    path.write_text(text, "utf-8")
    assert entry(locales, "ro", "main.menu", "Notfall").fuzzy

    assert Catalogs.load(locales, ["ro"]).translate("ro", "main.menu", "Notfall") == "Notfall"


def test_the_engine_speaks_the_chosen_language_from_the_catalogs(
    locales: Path, minimal_deployment: Deployment
) -> None:
    engine = engine_for(MINIMAL_FLOW, minimal_deployment, translator=Catalogs.load(locales, ["ro"]))

    _, actions = engine.step(Session(language="ro"), Start())
    screen = next(action for action in actions if isinstance(action, Show))

    assert screen.text == "Bun venit la Beratungsstelle Teststadt."
    labels = [button.label for row in screen.buttons for button in row]
    assert labels == ["La meniu", "Limba", "Meniul principal"]


def test_typed_keywords_work_in_the_translated_words(
    locales: Path, minimal_deployment: Deployment
) -> None:
    engine = engine_for(MINIMAL_FLOW, minimal_deployment, translator=Catalogs.load(locales, ["ro"]))

    session, _ = engine.step(Session(language="ro", node="main.menu"), TextTyped("Urgenta!"))

    assert session.node == "topic.emergency"


def test_the_review_line_says_draft_until_a_reviewer_changes_it() -> None:
    draft = new_catalog("ro").header_comment
    assert review_of(draft)[0] is Review.DRAFT
    assert "awaiting review by a native speaker" in review_of(draft)[1]
    reviewed = draft.replace(
        "Review: draft, awaiting review by a native speaker",
        "Review: reviewed 2027-01-15 by the Romanian team",
    )
    assert review_of(reviewed) == (Review.REVIEWED, "reviewed 2027-01-15 by the Romanian team")
    assert review_of("# no such line")[0] is Review.DRAFT
    twice = "# Review: reviewed 2027-01-15\n# Review: draft"
    assert review_of(twice) == (Review.DRAFT, "more than one 'Review:' line in the header")


def test_catalogs_read_from_po_files_are_logged_in_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The shipped catalogs as a fresh systemd install has them: .po files, no .mo files."""
    locales = Path(shutil.copytree(PROJECT_ROOT / "locales", tmp_path / "locales"))
    for compiled_file in locales.glob("*/LC_MESSAGES/*.mo"):
        compiled_file.unlink()

    with caplog.at_level(logging.INFO, logger="bot.i18n.catalogs"):
        catalogs = Catalogs.load(locales, ["de", "ro", "bg", "en"])

    assert sorted(catalogs.translations) == ["bg", "en", "ro"]
    [record] = caplog.records
    assert record.getMessage().startswith("translations read from their .po files")
    assert record.__dict__["languages"] == "bg,en,ro"
