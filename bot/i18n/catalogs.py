"""The gettext catalogs in locales/ and the translator the engine looks texts up with.

Layout, as gettext and every PO editor expect it:

    locales/wegweiser.pot                       the template, made by `wegweiser i18n extract`
    locales/<lang>/LC_MESSAGES/wegweiser.po     one catalog per language, edited by translators
    locales/<lang>/LC_MESSAGES/wegweiser.mo     compiled by `wegweiser i18n compile` (not in git)

At start the compiled .mo files are used where they are newer than their .po; any other catalog
is compiled in memory, so a fresh clone or a read-only container works without a build step.
Fuzzy entries are never compiled: a text whose German source changed falls back until a
translator has looked at it again.
"""

from __future__ import annotations

import functools
import gettext
import io
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po

from bot.dialogue.loader import shown_path

log = logging.getLogger(__name__)

DOMAIN = "wegweiser"
SOURCE_LANGUAGE = "de"
# Where a language lacks a text: its base language (de@easy -> de), then English, then the source.
FALLBACK_LANGUAGE = "en"

# The line of a catalog's header comment that says whether a native speaker has reviewed it.
REVIEW_LINE = re.compile(r"^#\s*Review:\s*(?P<status>.*?)\s*$", re.MULTILINE)


class Review(StrEnum):
    DRAFT = "draft"
    REVIEWED = "reviewed"


def catalog_path(locales: Path, language: str) -> Path:
    return locales / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def template_path(locales: Path) -> Path:
    return locales / f"{DOMAIN}.pot"


def catalog_languages(locales: Path) -> list[str]:
    """The languages that have a catalog, sorted."""
    return sorted(path.parent.parent.name for path in locales.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def review_of(header_comment: str) -> tuple[Review, str]:
    """Draft or reviewed, and what the header says: `# Review: reviewed 2027-01-10 by the
    Romanian team of ...`. Anything but a line starting with "reviewed" is a draft."""
    lines = REVIEW_LINE.findall(header_comment)
    if len(lines) > 1:
        return Review.DRAFT, "more than one 'Review:' line in the header"
    said = lines[0] if lines else ""
    if said.casefold().startswith(Review.REVIEWED):
        return Review.REVIEWED, said
    return Review.DRAFT, said or "no 'Review:' line in the header"


# A reviewer's mark on one entry: the flag `#, reviewed` (written in a text editor) or a
# translator comment that starts with "reviewed" (Poedit's comment field: "reviewed, Ana").
REVIEWED = "reviewed"


def is_reviewed(message: Message) -> bool:
    """Whether a native speaker checked this translation; a fuzzy or empty one never counts."""
    if message.fuzzy or not message.string:
        return False
    return REVIEWED in message.flags or any(_says_reviewed(c) for c in message.user_comments)


def unreviewed(message: Message) -> None:
    """Takes the reviewer's mark off an entry whose German changed since the review."""
    message.flags.discard(REVIEWED)
    message.user_comments = [c for c in message.user_comments if not _says_reviewed(c)]


def _says_reviewed(comment: str) -> bool:
    return comment.strip().casefold().startswith(REVIEWED)


class CatalogError(Exception):
    """A catalog file cannot be read; the message names file:line."""


def read_catalog(path: Path) -> Catalog:
    try:
        with path.open("rb") as file:
            return read_po(file, abort_invalid=True)
    except PoFileError as error:
        # babel counts lines from 0 and appends " on <line>" to its message
        said = str(error).rsplit(" on ", 1)[0]
        raise CatalogError(f"{shown_path(path)}:{error.lineno + 1}: {said}") from error
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise CatalogError(f"{shown_path(path)}:0: cannot read the catalog: {error}") from error


def catalog_review(locales: Path, language: str) -> Review | None:
    """Whether the catalog of `language` is reviewed or a draft (one that cannot be read counts
    as a draft); None for the source language and for a language without a catalog."""
    path = catalog_path(locales, language)
    if language == SOURCE_LANGUAGE or not path.is_file():
        return None
    try:
        return review_of(read_catalog(path).header_comment)[0]
    except CatalogError:
        return Review.DRAFT


def base_language(language: str) -> str:
    """de@easy -> de, pt_BR -> pt."""
    return re.split(r"[@_-]", language, maxsplit=1)[0]


@functools.cache
def fallback_chain(language: str) -> tuple[str, ...]:
    """The languages a text is looked up in, in order; the source language ends every chain
    (a person who reads Leichte Sprache is shown German, not English)."""
    chain: list[str] = []
    for candidate in (language, base_language(language), FALLBACK_LANGUAGE, SOURCE_LANGUAGE):
        if candidate not in chain:
            chain.append(candidate)
        if candidate == SOURCE_LANGUAGE:
            break
    return tuple(chain)


class _NotFound(gettext.NullTranslations):
    """The last fallback of every catalog: tells a missing entry from one translated as itself."""

    def pgettext(self, context: str, message: str) -> str:
        return MISSING


MISSING = "\x00missing"


def compiled(catalog: Catalog) -> gettext.GNUTranslations:
    """A babel catalog as gettext reads it from a .mo file (fuzzy entries left out)."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@dataclass(frozen=True)
class Catalogs:
    """Compiled catalogs by language. As the engine's translator, it falls back along
    `fallback_chain` and finally to the source text itself."""

    translations: Mapping[str, gettext.NullTranslations]

    @classmethod
    def load(cls, locales: Path, languages: Iterable[str]) -> Catalogs:
        """The catalogs of `languages` (and of their fallbacks). A language without a catalog is
        simply left out: `flows check` reports an offered language that has none."""
        wanted = {language for name in languages for language in fallback_chain(name)}
        wanted.discard(SOURCE_LANGUAGE)
        translations: dict[str, gettext.NullTranslations] = {}
        compiled_now: list[str] = []
        for language in sorted(wanted):
            po = catalog_path(locales, language)
            if not po.is_file():
                continue
            mo = po.with_suffix(".mo")
            if mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime:
                with mo.open("rb") as file:
                    translation: gettext.NullTranslations = gettext.GNUTranslations(file)
            else:
                translation = compiled(read_catalog(po))
                compiled_now.append(language)
            translation.add_fallback(_NotFound())
            translations[language] = translation
        if compiled_now:
            log.info(
                "translations read from their .po files (nothing to do; `wegweiser i18n "
                "compile` makes .mo files that start faster)",
                extra={"languages": ",".join(compiled_now)},
            )
        return cls(translations)

    def lookup(self, language: str, context: str, text: str) -> str | None:
        """The translation in exactly this language, or None."""
        translation = self.translations.get(language)
        if translation is None:
            return None
        found = translation.pgettext(context, text)
        return None if found is MISSING else found

    def translate(self, language: str, context: str, text: str) -> str:
        for candidate in fallback_chain(language):
            if candidate == SOURCE_LANGUAGE:
                break
            found = self.lookup(candidate, context, text)
            if found:
                return found
        return text
