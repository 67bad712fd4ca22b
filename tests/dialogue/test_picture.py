"""`wegweiser flows graph --format svg | html`: the shipped tree drawn by Graphviz, as a picture
that opens in a browser without internet (bot/dialogue/picture.py)."""

from __future__ import annotations

import html
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from bot.config import PROJECT_ROOT
from bot.dialogue import load_flow
from bot.dialogue.graph import WRAP_AT
from bot.dialogue.picture import INSTALL_HINT
from bot.i18n.catalogs import Catalogs
from tests.conftest import SHIPPED_FLOWS, wegweiser


def test_the_shipped_tree_is_drawn_with_every_screen_titled_in_the_language(
    tmp_path: Path,
) -> None:
    output = tmp_path / "flow.svg"

    run = wegweiser("flows", "graph", "--format", "svg", "--lang", "ro", "-o", output)

    assert run.returncode == 0, run.stderr
    svg = output.read_text(encoding="utf-8")
    assert "<svg" in svg and svg.rstrip().endswith("</svg>")
    flow = load_flow(SHIPPED_FLOWS)
    catalogs = Catalogs.load(PROJECT_ROOT / "locales", ["ro"])
    drawn = {html.unescape(text) for text in re.findall(r">([^<]*)</text>", svg)}
    assert len(flow.nodes) >= 55
    for node_id, node in flow.nodes.items():
        title = catalogs.translate("ro", node_id, node.text).strip().splitlines()[0]
        assert f"{node_id} · {node.kind}" in drawn
        assert textwrap.wrap(title, WRAP_AT)[0] in drawn, node_id
    assert "Bună!" in svg  # main.welcome, in Romanian
    # Readable: text is drawn at 9 pt or more, and the tree is not squeezed into a long strip.
    sizes = {float(size) for size in re.findall(r'font-size="([\d.]+)"', svg)}
    assert min(sizes) >= 9
    size = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    assert size is not None
    width, height = float(size[1]), float(size[2])
    assert max(width, height) / min(width, height) < 3


def test_the_html_page_holds_the_picture_and_loads_nothing(tmp_path: Path) -> None:
    output = tmp_path / "flow.html"

    run = wegweiser("flows", "graph", "--format", "html", "-o", output)

    assert run.returncode == 0, run.stderr
    page = output.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "Content-Security-Policy\" content=\"default-src 'none'" in page
    assert "<figure><svg" in page and "<?xml" not in page
    assert "@media print" in page
    for fetching in ("<script", "src=", "<link", "@import", "url("):
        assert fetching not in page
    assert "titles in language de" in page


def test_without_graphviz_the_command_says_what_to_install(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    run = subprocess.run(
        [sys.executable, "-m", "bot", "flows", "graph", "--format", "svg"],
        cwd=PROJECT_ROOT,
        env={"PATH": str(empty)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr == INSTALL_HINT + "\n"


def test_a_language_not_offered_is_refused(tmp_path: Path) -> None:
    run = wegweiser("flows", "graph", "--format", "svg", "--lang", "fr")

    assert run.returncode == 2
    assert run.stderr.startswith("Language 'fr' is not offered; choose one of: de, ")
