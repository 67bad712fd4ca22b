"""Self-contained HTML pages: the picture of the dialogue tree and the funders' figures.

A page opens from a file in any browser without internet and prints well (File, Print, Save as
PDF): no script, no font, no image from anywhere, and a Content-Security-Policy that forbids the
browser to fetch anything at all.
"""

from __future__ import annotations

import html

# Nothing may be loaded: styles are inline, pictures are inline SVG.
_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_STYLE = """
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, "Segoe UI", Helvetica, Arial, sans-serif; color: #0f172a;
       margin: 2rem auto; max-width: 60rem; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; }
p.meta, p.note { color: #475569; font-size: .9rem; }
@page { size: A4; margin: 15mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 11pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  section, table, figure { break-inside: avoid; }
}
"""


def page(title: str, meta: str, body: str, style: str = "") -> str:
    """A whole HTML page: `title` as its heading, `meta` (plain text) below it, then `body`
    (HTML the caller escaped)."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        f"<style>{_STYLE}{style}</style>\n</head>\n<body>\n"
        f'<h1>{html.escape(title)}</h1>\n<p class="meta">{html.escape(meta)}</p>\n'
        f"{body}\n</body>\n</html>\n"
    )
