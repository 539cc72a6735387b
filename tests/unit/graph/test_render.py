"""Text, DOT, Mermaid, SVG and JSON renderings of a graph and its overlay."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree

from engine._graph import StateStatus, build_graph, overlay
from engine._graph.render import PALETTE, to_dot, to_json, to_mermaid, to_text
from engine._graph.svg import to_svg
from tests.unit.graph.support import ORDER, run, task

CAUGHT = {
    "StartAt": "T",
    "States": {
        "T": task("broken", Catch=[{"ErrorEquals": ["Broken"], "Next": "H"}], Next="D"),
        "H": {"Type": "Pass", "End": True},
        "D": {"Type": "Succeed"},
    },
}


def caught_run():
    described, events = run(CAUGHT)
    graph = build_graph(CAUGHT)
    return graph, overlay(graph, events, described["status"])


def test_text_lists_states_with_status_error_and_transitions():
    # Given a run where T's error was caught
    graph, result = caught_run()

    # When drawn as text
    text = to_text(graph, result)

    # Then each state shows its status, T its error, and the Catch edge its errors
    assert "⚑ T  Task  CAUGHT  Broken" in text
    assert "✔ H  Pass  SUCCEEDED" in text
    assert "○ D  Succeed  NOT_STARTED" in text
    assert "└─ Catch Broken → H" in text


def test_dot_has_clusters_coloured_nodes_and_dashed_catch_edges():
    # Given the order example and a caught run
    order = build_graph(json.loads(ORDER.read_text()))
    graph, result = caught_run()

    # When drawn as DOT
    order_dot, run_dot = to_dot(order), to_dot(graph, result)

    # Then branches are clusters and a Catch edge is dashed and labelled
    assert order_dot.count("subgraph cluster_") == 3
    assert 'label="Catch States.ALL", style=dashed' in order_dot
    # And the caught state is filled with the CAUGHT colour
    fill, stroke = PALETTE[StateStatus.CAUGHT]
    assert f'fillcolor="{fill}", color="{stroke}", label="T\\nTask"' in run_dot


def test_mermaid_nests_subgraphs_and_classes_states_by_status():
    # Given the caught run and the order example
    graph, result = caught_run()
    order = build_graph(json.loads(ORDER.read_text()))

    # When drawn as Mermaid
    text, order_text = to_mermaid(graph, result), to_mermaid(order)

    # Then states carry their status class and the Catch is a dotted labelled edge
    assert text.startswith("flowchart TD\n")
    assert '("T<br/><small>Task</small>"):::caught' in text
    assert "-.->|Catch Broken|" in text
    assert order_text.count("subgraph ") == 3
    assert order_text.count("\n  end") + order_text.count("\n    end") >= 3


def test_svg_is_well_formed_and_fills_states_by_status():
    # Given the order example (nested scopes) and the caught run
    graph, result = caught_run()

    # When drawn as SVG
    svg = to_svg(graph, result)
    order_svg = to_svg(build_graph(json.loads(ORDER.read_text())))

    # Then it parses as XML, with a box per state filled by its status
    for text in (svg, order_svg):
        ElementTree.fromstring(text)
    assert f'fill="{PALETTE[StateStatus.CAUGHT][0]}"' in svg
    assert order_svg.count(">Branch ") == 2
    assert ">Item processor<" in order_svg


def test_json_carries_status_visits_and_placed_diagnostics():
    # Given the caught run and a diagnostic placed on D
    graph, result = caught_run()

    # When rendered as JSON for the console
    data = to_json(graph, result, {"/States/D": ["WARNING something"]})

    # Then each node has its status, visits and diagnostics
    nodes = {n["id"]: n for n in data["nodes"]}
    assert nodes["/States/T"]["status"] == "CAUGHT"
    assert nodes["/States/T"]["visits"][0]["error"] == "Broken"
    assert nodes["/States/D"]["diagnostics"] == ["WARNING something"]
    assert {"source": "/StartAt", "target": "/States/T", "kind": "start", "label": ""} in (
        data["edges"]
    )
