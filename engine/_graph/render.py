"""A graph (with an execution's overlay, if any) as text, DOT, Mermaid or JSON.

Every renderer takes the same inputs -- the `Graph`, an optional `Overlay` and optional
diagnostics by node id -- and colours states by `StateStatus` with one palette
(`PALETTE`), so the terminal, Graphviz, Mermaid, the SVG and the console agree.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Final

from engine._graph.model import Edge, EdgeKind, Graph, Node, Scope
from engine._graph.overlay import Overlay, StateStatus

Json = Any
Diagnostics = Mapping[str, Sequence[str]]
"""Diagnostic messages by the node id they are placed on (`Graph.place`)."""

PALETTE: Final[dict[StateStatus, tuple[str, str]]] = {
    StateStatus.NOT_STARTED: ("#ffffff", "#94a3b8"),
    StateStatus.RUNNING: ("#dbeafe", "#2563eb"),
    StateStatus.SUCCEEDED: ("#dcfce7", "#16a34a"),
    StateStatus.RETRIED: ("#ecfccb", "#65a30d"),
    StateStatus.CAUGHT: ("#ffedd5", "#ea580c"),
    StateStatus.FAILED: ("#fee2e2", "#dc2626"),
    StateStatus.ABORTED: ("#e5e7eb", "#4b5563"),
}
"""Fill and stroke colour of a state in each status."""

_SYMBOLS: Final = {
    StateStatus.NOT_STARTED: "○",
    StateStatus.RUNNING: "◐",
    StateStatus.SUCCEEDED: "✔",
    StateStatus.RETRIED: "↻",
    StateStatus.CAUGHT: "⚑",
    StateStatus.FAILED: "✘",
    StateStatus.ABORTED: "■",
}
_TERMINAL_COLOURS: Final = {
    StateStatus.RUNNING: "blue",
    StateStatus.SUCCEEDED: "green",
    StateStatus.RETRIED: "green",
    StateStatus.CAUGHT: "yellow",
    StateStatus.FAILED: "red",
    StateStatus.ABORTED: "bright_black",
}
DIAGNOSTIC_COLOUR: Final = "#b91c1c"
"""Outline of a state carrying a validation diagnostic."""


def status_of(node: Node, run: Overlay | None) -> StateStatus:
    """The node's status in ``run`` (``NOT_STARTED`` without one)."""
    return run.status(node.id) if run is not None else StateStatus.NOT_STARTED


# --- JSON ----------------------------------------------------------------------------


def to_json(
    graph: Graph, run: Overlay | None = None, diagnostics: Diagnostics | None = None
) -> dict[str, Json]:
    """The graph as JSON values: what the console draws (with elkjs) and colours."""
    diagnostics = diagnostics or {}

    def node(n: Node) -> dict[str, Json]:
        state = run.states.get(n.id) if run is not None else None
        return {
            "id": n.id,
            "name": n.name,
            "type": n.type,
            "scope": n.scope,
            "resource": n.resource,
            "comment": n.comment,
            "status": str(status_of(n, run)),
            "visits": [v.as_json() for v in state.visits] if state else [],
            "diagnostics": list(diagnostics.get(n.id, ())),
        }

    return {
        "nodes": [node(n) for n in graph.nodes.values()],
        "edges": [
            {"source": e.source, "target": e.target, "kind": str(e.kind), "label": e.label}
            for e in graph.edges
        ],
        "scopes": [
            {"id": s.id, "owner": s.owner, "label": s.label, "nodes": list(s.nodes)}
            for s in graph.scopes.values()
        ],
    }


# --- text (terminal) -------------------------------------------------------------------

Style = Callable[..., str]
"""``click.style``-like: ``style(text, fg=..., bold=...)``; the default adds nothing."""


def _plain(text: str, **_: Any) -> str:
    return text


def to_text(
    graph: Graph,
    run: Overlay | None = None,
    diagnostics: Diagnostics | None = None,
    style: Style = _plain,
) -> str:
    """The graph as an indented tree of states with their transitions, for a terminal."""
    lines = list(_scope_lines(graph, graph.root, run, diagnostics or {}, style, ""))
    return "\n".join(lines) + "\n"


def _scope_lines(
    graph: Graph,
    scope: Scope,
    run: Overlay | None,
    diagnostics: Diagnostics,
    style: Style,
    indent: str,
) -> Iterator[str]:
    for node_id in scope.nodes:
        node = graph.nodes[node_id]
        if node.type == "End":
            continue
        if node.type == "Start":
            first = next((e for e in graph.edges_from(node_id)), None)
            target = graph.nodes[first.target].name if first else "?"
            yield f"{indent}▶ Start → {target}"
            continue
        yield from _state_lines(graph, node, run, diagnostics, style, indent)


def _state_lines(
    graph: Graph,
    node: Node,
    run: Overlay | None,
    diagnostics: Diagnostics,
    style: Style,
    indent: str,
) -> Iterator[str]:
    status = status_of(node, run)
    mark = _SYMBOLS[status]
    head = f"{mark} {style(node.name, bold=True)}  {node.type}"
    if run is not None:
        head += "  " + style(_status_words(node, run), fg=_TERMINAL_COLOURS.get(status))
    yield indent + head
    for message in diagnostics.get(node.id, ()):
        yield f"{indent}    " + style(f"! {message}", fg="red")
    for inner in graph.inner_scopes(node.id):
        yield f"{indent}    ┊ {inner.label}"
        yield from _scope_lines(graph, inner, run, diagnostics, style, indent + "    ┊   ")
    edges = graph.edges_from(node.id)
    for position, edge in enumerate(edges):
        branch = "└─" if position == len(edges) - 1 else "├─"
        yield f"{indent}    {branch} {_edge_words(graph, edge)}"


def _status_words(node: Node, run: Overlay) -> str:
    state = run.states.get(node.id)
    if state is None:
        return str(StateStatus.NOT_STARTED)
    words = str(state.status)
    if len(state.visits) > 1:
        words += f" ×{len(state.visits)}"
    last = state.last
    if last is not None and last.items:
        counts: dict[str, int] = {}
        for status in last.items.values():
            counts[str(status).lower()] = counts.get(str(status).lower(), 0) + 1
        words += "  items: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    if last is not None and last.error:
        words += f"  {last.error}"
    return words


def _edge_words(graph: Graph, edge: Edge) -> str:
    target = graph.nodes[edge.target]
    name = "End" if target.type == "End" else target.name
    if edge.kind in (EdgeKind.CHOICE, EdgeKind.DEFAULT, EdgeKind.CATCH):
        return f"{edge.label} → {name}"
    return f"→ {name}"


# --- DOT (Graphviz) --------------------------------------------------------------------


def to_dot(graph: Graph, run: Overlay | None = None, diagnostics: Diagnostics | None = None) -> str:
    """The graph in Graphviz's DOT: Parallel branches and Map processors as clusters."""
    ids = _short_ids(graph)
    lines = [
        "digraph stepline {",
        '  graph [rankdir=TB, fontname="Helvetica", fontsize=11, compound=true];',
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9, color="#64748b"];',
    ]
    lines += _dot_scope(graph, graph.root, run, diagnostics or {}, ids, "  ")
    for edge in graph.edges:
        lines.append(f"  {ids[edge.source]} -> {ids[edge.target]}{_dot_edge_attributes(edge)};")
    for owner, start in _containment(graph):
        lines.append(f"  {ids[owner]} -> {ids[start]} [style=dotted, arrowhead=none];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_scope(
    graph: Graph,
    scope: Scope,
    run: Overlay | None,
    diagnostics: Diagnostics,
    ids: dict[str, str],
    indent: str,
) -> list[str]:
    lines: list[str] = []
    for node_id in scope.nodes:
        node = graph.nodes[node_id]
        lines.append(f"{indent}{ids[node_id]} [{_dot_node_attributes(node, run, diagnostics)}];")
        for position, inner in enumerate(graph.inner_scopes(node_id)):
            lines.append(f"{indent}subgraph cluster_{ids[node_id]}_{position} {{")
            label = f"{node.name}: {inner.label}"
            lines.append(
                f'{indent}  label={_quote(label)}; style="rounded,dashed"; color="#94a3b8";'
            )
            lines += _dot_scope(graph, inner, run, diagnostics, ids, indent + "  ")
            lines.append(f"{indent}}}")
    return lines


def _dot_node_attributes(node: Node, run: Overlay | None, diagnostics: Diagnostics) -> str:
    if node.type == "Start":
        return 'shape=circle, label="", width=0.2, style=filled, fillcolor="#334155"'
    if node.type == "End":
        return 'shape=doublecircle, label="", width=0.15, style=filled, fillcolor="#334155"'
    fill, stroke = PALETTE[status_of(node, run)]
    if node.id in diagnostics:
        stroke = DIAGNOSTIC_COLOUR
    label = f"{node.name}\\n{node.type}"
    shape = "diamond" if node.type == "Choice" else "box"
    return (
        f'shape={shape}, style="rounded,filled", fillcolor="{fill}", color="{stroke}", '
        f'label="{_dot_escape(label)}"'
    )


def _dot_edge_attributes(edge: Edge) -> str:
    parts = []
    if edge.label:
        parts.append(f"label={_quote(edge.label)}")
    if edge.kind is EdgeKind.CATCH:
        parts.append('style=dashed, color="#ea580c", fontcolor="#ea580c"')
    elif edge.kind is EdgeKind.DEFAULT:
        parts.append("style=dotted")
    return f" [{', '.join(parts)}]" if parts else ""


def _dot_escape(text: str) -> str:
    return text.replace('"', '\\"')


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- Mermaid ---------------------------------------------------------------------------


def to_mermaid(
    graph: Graph, run: Overlay | None = None, diagnostics: Diagnostics | None = None
) -> str:
    """The graph as a Mermaid flowchart: nested subgraphs, states classed by status."""
    ids = _short_ids(graph)
    lines = ["flowchart TD"]
    for status, (fill, stroke) in PALETTE.items():
        lines.append(f"  classDef {status.lower()} fill:{fill},stroke:{stroke},color:#0f172a")
    lines.append(f"  classDef diagnostic stroke:{DIAGNOSTIC_COLOUR},stroke-width:3px")
    lines += _mermaid_scope(graph, graph.root, run, diagnostics or {}, ids, "  ")
    for edge in graph.edges:
        arrow = "-.->" if edge.kind is EdgeKind.CATCH else "-->"
        label = f"|{_mermaid_text(edge.label)}|" if edge.label else ""
        lines.append(f"  {ids[edge.source]} {arrow}{label} {ids[edge.target]}")
    for owner, start in _containment(graph):
        lines.append(f"  {ids[owner]} -.- {ids[start]}")
    return "\n".join(lines) + "\n"


def _mermaid_scope(
    graph: Graph,
    scope: Scope,
    run: Overlay | None,
    diagnostics: Diagnostics,
    ids: dict[str, str],
    indent: str,
) -> list[str]:
    lines: list[str] = []
    for node_id in scope.nodes:
        node = graph.nodes[node_id]
        lines.append(indent + _mermaid_node(node, ids[node_id], run, diagnostics))
        for position, inner in enumerate(graph.inner_scopes(node_id)):
            title = _mermaid_text(f"{node.name}: {inner.label}")
            lines.append(f'{indent}subgraph {ids[node_id]}_{position}["{title}"]')
            lines += _mermaid_scope(graph, inner, run, diagnostics, ids, indent + "  ")
            lines.append(f"{indent}end")
    return lines


def _mermaid_node(node: Node, short: str, run: Overlay | None, diagnostics: Diagnostics) -> str:
    if node.type == "Start":
        return f"{short}(( ))"
    if node.type == "End":
        return f"{short}((( )))"
    text = _mermaid_text(f"{node.name}<br/><small>{node.type}</small>")
    shape = f'{{"{text}"}}' if node.type == "Choice" else f'("{text}")'
    classes = str(status_of(node, run)).lower()
    if node.id in diagnostics:
        classes += ",diagnostic"
    return f"{short}{shape}:::{classes}"


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("|", "#124;")


def _containment(graph: Graph) -> list[tuple[str, str]]:
    """(Parallel or Map node, start of its branch or processor): drawn as dotted links."""
    return [(s.owner, s.start) for s in graph.scopes.values() if s.owner is not None]


def _short_ids(graph: Graph) -> dict[str, str]:
    """``n0``, ``n1``... for node ids (JSON pointers are not DOT or Mermaid identifiers)."""
    return {node_id: f"n{index}" for index, node_id in enumerate(graph.nodes)}


def dumps(value: Json) -> str:
    """JSON text of ``value``, indented for people."""
    return json.dumps(value, indent=2, ensure_ascii=False)
