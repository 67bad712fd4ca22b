"""`wegweiser i18n extract | update | compile`: the flow texts into gettext catalogs and back.

extract  flows/ -> locales/wegweiser.pot, every text with its node id as context and file:line
update   the template into every catalog (and a new draft catalog for an offered language that
         has none). As with gettext's msgmerge, a changed German text keeps its old translation
         marked fuzzy, which the bot does not use until a translator has checked it; it loses
         its reviewer's mark (`#, reviewed`), every other entry keeps its mark.
compile  every catalog to its .mo, without fuzzy entries
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

from bot.dialogue.flow import Flow
from bot.i18n.catalogs import (
    DOMAIN,
    SOURCE_LANGUAGE,
    catalog_languages,
    catalog_path,
    read_catalog,
    template_path,
    unreviewed,
)
from bot.i18n.messages import flow_messages, relative_location

PROJECT = "Wegweiser"
VERSION = "1"
# PO lines wrapped as babel does by default; PO editors show them unwrapped.
WIDTH = 76
# Header lines that change on every run; a file that differs only in them is not rewritten.
_DATE_LINES = re.compile(r'^"(POT-Creation-Date|PO-Revision-Date): .*\n', re.MULTILINE)

# The header comment of a new catalog (babel wraps comment lines after WIDTH characters).
DRAFT_HEADER = """\
Wegweiser: the dialogue in {name} ({code}),
translated from the German texts in flows/.
Review: draft, awaiting review by a native speaker

This catalog is a draft until a native speaker has read and corrected
every entry. The bot uses it; `wegweiser i18n status` and
`wegweiser flows check` show it as a draft. The reviewer then changes
the Review line above to say "reviewed", the date and who, for example
"Review: reviewed 2027-01-15 by (name or team)" on a line of its own.
How to translate: locales/README.md"""


def template(flow: Flow) -> Catalog:
    """The template of every translatable text, located relative to the folder above flows/."""
    root = flow.directory.resolve().parent
    catalog = Catalog(project=PROJECT, version=VERSION, domain=DOMAIN, fuzzy=False)
    for message in flow_messages(flow):
        catalog.add(
            message.text,
            locations=[relative_location(message.location, root)],
            auto_comments=message.comments,
            context=message.context,
        )
    return catalog


def new_catalog(language: str) -> Catalog:
    """An empty catalog for `language` whose header says it is a draft."""
    locale = Locale.parse(language)
    header = DRAFT_HEADER.format(
        name=locale.get_display_name(language),
        code=language,
    )
    return Catalog(
        locale=locale,
        project=PROJECT,
        version=VERSION,
        language_team=f"{locale.get_display_name('en')} (Wegweiser)",
        domain=DOMAIN,
        header_comment="\n".join(f"# {line}".rstrip() for line in header.splitlines()),
        fuzzy=False,
    )


def po_text(catalog: Catalog, *, template: bool = False) -> str:
    buffer = io.BytesIO()
    # The template keeps the flow's order, so translators read the texts as a person meets them.
    write_po(buffer, catalog, width=WIDTH, sort_output=False, ignore_obsolete=template)
    return buffer.getvalue().decode("utf-8")


def write_if_changed(path: Path, text: str) -> bool:
    """Write `text` unless the file says the same but for its dates; True if written."""
    if path.is_file() and _DATE_LINES.sub("", path.read_text("utf-8")) == _DATE_LINES.sub("", text):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return True


def extract(flow: Flow, locales: Path) -> tuple[Path, int, bool]:
    """Write locales/wegweiser.pot; returns its path, the number of texts, and whether it
    changed."""
    catalog = template(flow)
    path = template_path(locales)
    return path, len(catalog), write_if_changed(path, po_text(catalog, template=True))


@dataclass(frozen=True, slots=True)
class Updated:
    language: str
    path: Path
    created: bool
    changed: bool


def update(flow: Flow, locales: Path, offered: Iterable[str]) -> list[Updated]:
    """Merge the current template into every catalog, and create one for each offered language
    without a catalog (not for the source language, whose texts are the flow itself)."""
    source = template(flow)
    write_if_changed(template_path(locales), po_text(source, template=True))
    languages = sorted({*catalog_languages(locales), *offered} - {SOURCE_LANGUAGE})
    results = []
    for language in languages:
        path = catalog_path(locales, language)
        created = not path.is_file()
        catalog = new_catalog(language) if created else read_catalog(path)
        catalog.update(source, update_header_comment=False)
        for message in catalog:
            if message.fuzzy:  # babel keeps every flag of a changed text: not its review
                unreviewed(message)
        changed = write_if_changed(path, po_text(catalog))
        results.append(Updated(language, path, created, changed))
    return results


def compile_catalogs(locales: Path) -> list[Path]:
    """Every catalog as a .mo next to its .po; fuzzy entries are left out, as the bot ignores
    them."""
    written = []
    for language in catalog_languages(locales):
        po = catalog_path(locales, language)
        mo = po.with_suffix(".mo")
        with mo.open("wb") as file:
            write_mo(file, read_catalog(po), use_fuzzy=False)
        written.append(mo)
    return written
