"""The dialogue tree as Mermaid and DOT text, for maintainers to see in any Markdown viewer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.dialogue import Flow, load_flow
from bot.dialogue.graph import edges, to_dot, to_mermaid
from tests.conftest import MINIMAL_DEPLOYMENT, MINIMAL_FLOW, SHIPPED_FLOWS, wegweiser


@pytest.fixture(scope="module")
def flow() -> Flow:
    return load_flow(MINIMAL_FLOW)


def test_edges_follow_options_global_actions_keywords_and_start(flow: Flow) -> None:
    found = {(edge.source, edge.target, edge.label, edge.dotted) for edge in edges(flow)}
    assert ("start", "main.welcome", "/start", True) in found
    assert ("main.menu", "topic.start", "Gesundheit", False) in found
    assert ("main.menu", "main.counsellor", "Beraterin", True) in found  # action: counsellor
    assert ("main.welcome", "language", "Sprache", True) in found  # action without a node
    assert ("keywords:topic.emergency", "topic.emergency", "Notfall, help, ajutor", True) in found
    option_count = sum(len(node.options) for node in flow.nodes.values())
    keyword_nodes = sum(1 for node in flow.nodes.values() if node.keywords)
    assert len(found) == option_count + keyword_nodes + 1


def test_mermaid_declares_every_node_in_its_file_and_every_edge(flow: Flow) -> None:
    text = to_mermaid(flow)
    assert text.startswith("flowchart TD\n")
    assert 'subgraph n_main_file["main.yaml"]' in text
    assert 'n_topic_test("topic.test (info)<br/>Beim Gesundheitsamt kannst du dich test…")' in text
    assert 'n_main_counsellor{{"main.counsellor (handover)' in text
    assert 'n_main_menu -->|"Gesundheit"| n_topic_start' in text
    assert 'n_main_menu -.->|"Beraterin"| n_main_counsellor' in text
    declared = set(re.findall(r"^\s+(n_\w+)[\[\(\{]", text, re.MULTILINE))
    used = set(re.findall(r"(n_\w+) -", text)) | set(re.findall(r"\| (n_\w+)$", text, re.M))
    assert used <= declared
    assert text.count("subgraph") == text.count("  end") == 2


def test_mermaid_escapes_quotes_in_labels(flow_dir: Path) -> None:
    path = flow_dir / "topic.yaml"
    path.write_text(path.read_text().replace("label: Test", 'label: Der "Test"'))
    text = to_mermaid(load_flow(flow_dir))
    assert '-->|"Der #quot;Test#quot;"|' in text


def test_dot_is_a_digraph_with_a_box_per_screen_in_clusters_and_an_arrow_per_button(
    flow: Flow,
) -> None:
    text = to_dot(flow)
    assert text.startswith("digraph flow {") and text.rstrip().endswith("}")
    assert 'subgraph "cluster_topic" {' in text
    assert '"main.counsellor" [shape=hexagon' in text
    assert '"main.menu" -> "topic.start" [label=<Gesundheit<br align="left"/>>];' in text
    goto_options = sum(option.goto is not None for n in flow.nodes.values() for option in n.options)
    assert text.count(" -> ") == goto_options + 1  # and the arrow from /start


def test_dot_writes_global_buttons_and_keywords_into_the_box_instead_of_arrows(
    flow: Flow,
) -> None:
    """Drawn as arrows, /counsellor and /menu from every screen would cross the whole picture."""
    text = to_dot(flow)
    assert '"main.menu" -> "main.counsellor"' not in text
    assert "style=dashed" not in text
    menu = next(line for line in text.splitlines() if line.startswith('    "main.menu" ['))
    assert "buttons: /counsellor" in menu
    emergency = next(line for line in text.splitlines() if '"topic.emergency" [' in line)
    assert "typed: Notfall, help, ajutor" in emergency


def test_dot_shows_titles_and_labels_in_the_language_asked_for(flow: Flow) -> None:
    def shouting(context: str, text: str) -> str:
        return text.upper()

    text = to_dot(flow, shouting)
    assert "<b>WORUM GEHT ES?<br" in text
    assert '[label=<GESUNDHEIT<br align="left"/>>]' in text
    assert "main.menu · menu" in text  # ids stay as written


def test_dot_escapes_markup_in_texts(flow_dir: Path) -> None:
    path = flow_dir / "topic.yaml"
    path.write_text(path.read_text().replace("label: Test", 'label: "<Test> & \\"mehr\\""'))
    text = to_dot(load_flow(flow_dir))
    assert "&lt;Test&gt; &amp; &quot;mehr&quot;" in text


def test_graph_command_writes_the_shipped_tree_to_a_file(tmp_path: Path) -> None:
    output = tmp_path / "flow.mmd"
    result = wegweiser("flows", "graph", "-o", output)
    assert result.returncode == 0, result.stderr
    text = output.read_text(encoding="utf-8")
    for node_id in load_flow(SHIPPED_FLOWS).nodes:
        assert f"{node_id} (" in text


def test_graph_command_prints_dot(tmp_path: Path) -> None:
    result = wegweiser(
        "flows", "graph", "--format", "dot", "--flows", MINIMAL_FLOW, "--config", MINIMAL_DEPLOYMENT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("digraph flow {")
