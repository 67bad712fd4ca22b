"""The dialogue tree as a picture: Mermaid (renders in any Markdown viewer) or Graphviz DOT."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from bot.dialogue.flow import Flow, namespace_of
from bot.dialogue.schema import GlobalAction

TITLE_LENGTH = 40
START = "start"


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


def _title(flow: Flow, node_id: str) -> str:
    node = flow.nodes[node_id]
    first_line = node.text.strip().splitlines()[0]
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


def to_mermaid(flow: Flow) -> str:
    all_edges = edges(flow)
    lines = ["flowchart TD"]
    for namespace, node_ids in _by_file(flow).items():
        lines.append(f'  subgraph {_mermaid_id(namespace)}_file["{namespace}.yaml"]')
        for node_id in node_ids:
            opening, closing = _MERMAID_SHAPES[flow.nodes[node_id].kind]
            title = _mermaid_text(_title(flow, node_id))
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


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(flow: Flow) -> str:
    all_edges = edges(flow)
    lines = ["digraph flow {", "  rankdir=LR;", "  node [fontname=sans];"]
    for namespace, node_ids in _by_file(flow).items():
        lines.append(f"  subgraph {_dot_text('cluster_' + namespace)} {{")
        lines.append(f"    label={_dot_text(namespace + '.yaml')};")
        for node_id in node_ids:
            shape = _DOT_SHAPES[flow.nodes[node_id].kind]
            label = _dot_text(_title(flow, node_id))
            lines.append(f"    {_dot_text(node_id)} [shape={shape}, label={label}];")
        lines.append("  }")
    for name in sorted(_special_nodes(flow, all_edges)):
        lines.append(f"  {_dot_text(name)} [shape=oval, label={_dot_text(_special_label(name))}];")
    for edge in all_edges:
        style = ", style=dashed" if edge.dotted else ""
        lines.append(
            f"  {_dot_text(edge.source)} -> {_dot_text(edge.target)} "
            f"[label={_dot_text(edge.label)}{style}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"
