"""Fixtures for the translation tests: private copies of the minimal flow and its reviewed
Romanian catalog, and a way to edit one entry of a catalog as a translator would."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.pofile import read_po, write_po

from bot.i18n.catalogs import catalog_path
from tests.conftest import MINIMAL_LOCALES


@pytest.fixture
def locales(tmp_path: Path) -> Path:
    """A private copy of tests/fixtures/locales (Romanian, complete, reviewed)."""
    return Path(shutil.copytree(MINIMAL_LOCALES, tmp_path / "locales"))


def translate(locales: Path, language: str, context: str, msgid: str, msgstr: str) -> None:
    """Set one translation, as a PO editor would save it."""
    path = catalog_path(locales, language)
    with path.open("rb") as file:
        catalog = read_po(file)
    message = catalog.get(msgid, context)
    assert message is not None, (context, msgid)
    message.string = msgstr
    with path.open("wb") as file:
        write_po(file, catalog, width=76, sort_output=False)


def entry(locales: Path, language: str, context: str, msgid: str) -> Message | None:
    with catalog_path(locales, language).open("rb") as file:
        return read_po(file).get(msgid, context)
