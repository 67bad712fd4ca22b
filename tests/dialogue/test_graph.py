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


def test_dot_is_a_digraph_with_clusters_and_dashed_global_edges(flow: Flow) -> None:
    text = to_dot(flow)
    assert text.startswith("digraph flow {") and text.rstrip().endswith("}")
    assert text.count("{") == text.count("}")
    assert 'subgraph "cluster_topic" {' in text
    assert '"main.counsellor" [shape=hexagon' in text
    assert '"main.menu" -> "main.counsellor" [label="Beraterin", style=dashed];' in text
    assert '"main.menu" -> "topic.start" [label="Gesundheit"];' in text


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
