"""The dialogue tree as a picture to open in a browser: Graphviz's `dot` lays out the DOT text of
graph.py as SVG; the HTML page puts a legend around it.

`dot` is a program, not a Python package: on Debian and Ubuntu `apt-get install graphviz`.
"""

from __future__ import annotations

import re
import shutil
import subprocess

from bot.pages import page

DOT = "dot"
INSTALL_HINT = (
    "Graphviz draws the picture, and its program `dot` is not installed: on Debian or Ubuntu "
    "`sudo apt-get install graphviz` (macOS: `brew install graphviz`). Without it, "
    "`--format mermaid` or `--format dot` give the tree as text."
)
_SVG_START = re.compile(r"<svg\b")

_STYLE = """
body { max-width: none; }
figure { margin: 1rem 0; overflow: auto; border: 1px solid #cbd5e1; }
figure svg { display: block; height: auto; }
ul.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; }
ul.legend span { display: inline-block; width: 1rem; height: .8rem; border: 1px solid #64748b;
                 vertical-align: middle; margin-right: .35rem; }
@media print { figure { border: 0; overflow: visible; } figure svg { width: 100%; } }
"""
_LEGEND = (
    ("#dbeafe", "menu: a screen with buttons"),
    ("#f1f5f9", "info: a text"),
    ("#dcfce7", "contacts: addresses and numbers"),
    ("#fde68a", "handover: to a counsellor"),
)


class PictureError(Exception):
    """The picture cannot be drawn; the message says what to install or what went wrong."""


def render_svg(dot_text: str) -> str:
    """The SVG that `dot` lays out for `dot_text`."""
    program = shutil.which(DOT)
    if program is None:
        raise PictureError(INSTALL_HINT)
    done = subprocess.run(
        [program, "-Tsvg"],
        input=dot_text.encode("utf-8"),
        capture_output=True,
        timeout=120,
        check=False,
    )
    svg = done.stdout.decode("utf-8", errors="replace")
    if done.returncode != 0 or not _SVG_START.search(svg):
        said = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise PictureError(f"Graphviz could not draw the tree: {said[-1] if said else 'no SVG'}")
    return svg


def flow_page(svg: str, *, language: str, nodes: int) -> str:
    """The SVG on a page of its own, with a legend; it prints to PDF on one landscape page."""
    legend = "".join(
        f'<li><span style="background:{colour}"></span>{text}</li>' for colour, text in _LEGEND
    )
    start = _SVG_START.search(svg)
    inline = svg[start.start() :] if start else svg  # without the XML prolog and doctype
    body = (
        f'<ul class="legend">{legend}<li>an arrow: a button to another screen, with its label'
        "</li><li>buttons: (in a box) buttons that work from every screen, such as /counsellor"
        "</li><li>typed: words a person can type to get there</li></ul>\n"
        f"<figure>{inline}</figure>"
    )
    meta = f"{nodes} screens, titles in language {language}"
    return page(
        "Wegweiser: the dialogue tree",
        meta,
        body,
        _STYLE + "@page { size: A3 landscape; }\n",
    )
