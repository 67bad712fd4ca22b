"""The dialogue tree as a picture: Mermaid (renders in any Markdown viewer) or Graphviz DOT
(bot/dialogue/picture.py turns it into SVG)."""

from __future__ import annotations

import html
import textwrap
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from bot.dialogue.flow import Flow, namespace_of
from bot.dialogue.render import keyword_context
from bot.dialogue.schema import GlobalAction

TITLE_LENGTH = 40
START = "start"

# A text in the language the picture is drawn in: (context, source text) -> text. The context is
# the node id, as in the catalogs.
Translate = Callable[[str, str], str]


def _as_written(context: str, text: str) -> str:
    return text


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    label: str
    dotted: bool = False  # global actions and keywords, as opposed to a node's own options


def edges(flow: Flow) -> list[Edge]:
    """Every way from one node to another: options, global actions, keywords, the start."""
    found = [Edge(START, flow.system.start, "/start", dotted=True)]
    for node_id, node in flow.nodes.items():
        for option in node.options:
            if option.goto is not None:
                found.append(Edge(node_id, option.goto, option.label))
            elif option.action is not None:
                target = flow.global_target(option.action) or option.action.value
                found.append(Edge(node_id, target, option.label, dotted=True))
        if node.keywords:
            found.append(Edge(f"keywords:{node_id}", node_id, ", ".join(node.keywords), True))
    return found


def _first_line(flow: Flow, node_id: str, translate: Translate) -> str:
    return translate(node_id, flow.nodes[node_id].text).strip().splitlines()[0]


def _title(flow: Flow, node_id: str, translate: Translate) -> str:
    node = flow.nodes[node_id]
    first_line = _first_line(flow, node_id, translate)
    if len(first_line) > TITLE_LENGTH:
        first_line = first_line[: TITLE_LENGTH - 1] + "…"
    return f"{node_id} ({node.kind})\n{first_line}"


def _by_file(flow: Flow) -> dict[str, list[str]]:
    by_file: dict[str, list[str]] = defaultdict(list)
    for node_id in flow.nodes:
        by_file[namespace_of(node_id)].append(node_id)
    return by_file


def _special_nodes(flow: Flow, all_edges: list[Edge]) -> set[str]:
    ends = {edge.source for edge in all_edges} | {edge.target for edge in all_edges}
    return ends - flow.nodes.keys()


# ---------------------------------------------------------------------------------------- Mermaid

_MERMAID_SHAPES = {
    "menu": ('["', '"]'),
    "info": ('("', '")'),
    "contacts": ('[["', '"]]'),
    "handover": ('{{"', '"}}'),
}


def _mermaid_id(name: str) -> str:
    return "n_" + "".join(char if char.isalnum() else "_" for char in name)


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("\n", "<br/>")


def to_mermaid(flow: Flow, translate: Translate | None = None) -> str:
    """The tree as Mermaid text; screen titles through `translate` (default: as written)."""
    translate = translate or _as_written
    all_edges = edges(flow)
    lines = ["flowchart TD"]
    for namespace, node_ids in _by_file(flow).items():
        lines.append(f'  subgraph {_mermaid_id(namespace)}_file["{namespace}.yaml"]')
        for node_id in node_ids:
            opening, closing = _MERMAID_SHAPES[flow.nodes[node_id].kind]
            title = _mermaid_text(_title(flow, node_id, translate))
            lines.append(f"    {_mermaid_id(node_id)}{opening}{title}{closing}")
        lines.append("  end")
    for name in sorted(_special_nodes(flow, all_edges)):
        lines.append(f'  {_mermaid_id(name)}(["{_mermaid_text(_special_label(name))}"])')
    for edge in all_edges:
        arrow = "-.->" if edge.dotted else "-->"
        label = _mermaid_text(edge.label)
        lines.append(f'  {_mermaid_id(edge.source)} {arrow}|"{label}"| {_mermaid_id(edge.target)}')
    return "\n".join(lines) + "\n"


def _special_label(name: str) -> str:
    if name.startswith("keywords:"):
        return "typed keyword"
    if name == START:
        return "start"
    return f"/{name}" if name in GlobalAction.__members__.values() else name


# -------------------------------------------------------------------------------------------- DOT

_DOT_SHAPES = {"menu": "box", "info": "note", "contacts": "folder", "handover": "hexagon"}
_DOT_COLOURS = {"menu": "#dbeafe", "info": "#f1f5f9", "contacts": "#dcfce7", "handover": "#fde68a"}
WRAP_AT = 30  # characters a line in a box or on an arrow


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _html(text: str) -> str:
    return html.escape(text, quote=True)


def _wrapped(text: str, lines: int = 3) -> str:
    """One line of text as at most `lines` HTML lines of about WRAP_AT characters."""
    wrapped = textwrap.wrap(text, WRAP_AT) or [""]
    if len(wrapped) > lines:
        wrapped = [*wrapped[: lines - 1], wrapped[lines - 1][: WRAP_AT - 1] + "…"]
    return "".join(f'{_html(line)}<br align="left"/>' for line in wrapped)


def _box(flow: Flow, node_id: str, translate: Translate) -> str:
    """A screen as a box: its id, the first line of its text, and what else leads on from it."""
    node = flow.nodes[node_id]
    title = _first_line(flow, node_id, translate)
    rows = [
        f'<tr><td align="left"><font point-size="9" color="#475569">{_html(node_id)} '
        f"· {node.kind}</font></td></tr>",
        f'<tr><td align="left"><b>{_wrapped(title)}</b></td></tr>',
    ]
    actions = [f"/{option.action.value}" for option in node.options if option.action is not None]
    if actions:
        rows.append(
            f'<tr><td align="left"><font point-size="9">buttons: {_html(", ".join(actions))}'
            "</font></td></tr>"
        )
    if node.keywords:
        typed = translate(keyword_context(node_id), ", ".join(node.keywords))
        rows.append(
            f'<tr><td align="left"><font point-size="9">typed: {_wrapped(typed, 2)}'
            "</font></td></tr>"
        )
    return '<<table border="0" cellspacing="0" cellpadding="2">' + "".join(rows) + "</table>>"


def to_dot(flow: Flow, translate: Translate | None = None) -> str:
    """The tree for Graphviz, laid out to be read: one box per screen, grouped by flow file, an
    arrow per button that leads to another screen, labelled with the button. Buttons with a
    global action (/counsellor, /menu, ...) and typed keywords are written inside the box
    instead of as arrows: drawn, they would cross the whole picture from every screen."""
    translate = translate or _as_written
    lines = [
        "digraph flow {",
        # newrank: without it, Graphviz 2.43 (Debian 12) loses edges between clusters
        "  rankdir=LR; newrank=true; ranksep=0.6; nodesep=0.25;",
        '  graph [fontname="Helvetica,Arial,sans-serif", fontsize=14];',
        '  node [fontname="Helvetica,Arial,sans-serif", fontsize=11, style=filled];',
        '  edge [fontname="Helvetica,Arial,sans-serif", fontsize=9, color="#64748b"];',
        f"  {_dot_text(START)} [shape=oval, label={_dot_text('/start')}];",
        f"  {_dot_text(START)} -> {_dot_text(flow.system.start)};",
    ]
    for namespace, node_ids in _by_file(flow).items():
        lines.append(f"  subgraph {_dot_text('cluster_' + namespace)} {{")
        lines.append(f"    label={_dot_text(namespace + '.yaml')}; style=rounded;")
        for node_id in node_ids:
            kind = flow.nodes[node_id].kind
            lines.append(
                f"    {_dot_text(node_id)} [shape={_DOT_SHAPES[kind]}, "
                f'fillcolor="{_DOT_COLOURS[kind]}", label={_box(flow, node_id, translate)}];'
            )
        lines.append("  }")
    for node_id, node in flow.nodes.items():
        for option in node.options:
            if option.goto is not None:
                label = _wrapped(translate(node_id, option.label), 2)
                lines.append(
                    f"  {_dot_text(node_id)} -> {_dot_text(option.goto)} [label=<{label}>];"
                )
    lines.append("}")
    return "\n".join(lines) + "\n"
