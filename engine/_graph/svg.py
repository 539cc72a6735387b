"""A graph as a standalone SVG picture, laid out in pure Python with grandalf.

grandalf (PyPI, pure Python) does the layered (Sugiyama) layout of one scope at a time:
a Parallel or Map state is laid out first from the inside -- its branches or item
processor side by side -- and then takes part in its own scope's layout as one big box.
Nothing is fetched or run outside the process: no Graphviz, no browser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any

from grandalf.graphs import Edge as GrandalfEdge
from grandalf.graphs import Graph as GrandalfGraph
from grandalf.graphs import Vertex
from grandalf.layouts import SugiyamaLayout
from grandalf.routing import EdgeViewer, route_with_lines

from engine._graph.model import Edge, EdgeKind, Graph, Node, Scope
from engine._graph.overlay import Overlay
from engine._graph.render import DIAGNOSTIC_COLOUR, PALETTE, Diagnostics, status_of

_PSEUDO = 16.0  # diameter of a start or end dot
_NODE_HEIGHT = 42.0
_CHAR = 7.2  # width of one character of the 12px node font
_HEADER = 34.0  # a container's title above its branches
_PAD = 14.0
_X_SPACE, _Y_SPACE = 36.0, 46.0
Point = tuple[float, float]


@dataclass
class _Box:
    x: float
    y: float
    w: float
    h: float

    def moved(self, dx: float, dy: float) -> _Box:
        return _Box(self.x + dx, self.y + dy, self.w, self.h)


@dataclass
class _Laid:
    """One scope laid out, its origin at (0, 0)."""

    w: float
    h: float
    boxes: dict[str, _Box] = field(default_factory=dict)
    routes: list[tuple[Edge, list[Point]]] = field(default_factory=list)
    frames: list[tuple[str, _Box]] = field(default_factory=list)

    def shifted(self, dx: float, dy: float) -> _Laid:
        return _Laid(
            self.w,
            self.h,
            {key: box.moved(dx, dy) for key, box in self.boxes.items()},
            [(edge, [(x + dx, y + dy) for x, y in points]) for edge, points in self.routes],
            [(label, box.moved(dx, dy)) for label, box in self.frames],
        )

    def absorb(self, other: _Laid) -> None:
        self.boxes.update(other.boxes)
        self.routes += other.routes
        self.frames += other.frames


def to_svg(graph: Graph, run: Overlay | None = None, diagnostics: Diagnostics | None = None) -> str:
    """The graph as SVG text, states filled by their status in ``run``."""
    laid = _layout(graph, graph.root).shifted(_PAD, _PAD)
    width, height = laid.w + 2 * _PAD, laid.h + 2 * _PAD
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif">',
        "<defs><marker id='arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='7' "
        "markerHeight='7' orient='auto-start-reverse'><path d='M0,0 L10,5 L0,10 z' "
        "fill='#64748b'/></marker></defs>",
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
    ]
    containers = {n for n, box in laid.boxes.items() if box.h > _NODE_HEIGHT + 1}
    for node_id in sorted(containers, key=len):  # outer containers first, inner on top
        parts.append(_node(graph.nodes[node_id], laid.boxes[node_id], run, diagnostics or {}))
    for label, box in laid.frames:
        parts.append(_frame(label, box))
    for node_id, box in laid.boxes.items():
        if node_id not in containers:
            parts.append(_node(graph.nodes[node_id], box, run, diagnostics or {}))
    for edge, points in laid.routes:
        parts.append(_edge(edge, points))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


# --- layout ----------------------------------------------------------------------------


def _layout(graph: Graph, scope: Scope) -> _Laid:
    inner = {node_id: _container(graph, node_id) for node_id in scope.nodes}
    sizes = {
        node_id: (laid.w, laid.h) if laid is not None else _size(graph.nodes[node_id])
        for node_id, laid in inner.items()
    }
    edges = [e for e in graph.edges if e.source in sizes and e.target in sizes]
    result = _sugiyama(sizes, edges, scope.start)
    for node_id, laid in inner.items():
        if laid is not None:
            box = result.boxes[node_id]
            result.absorb(laid.shifted(box.x, box.y))
    return result


def _container(graph: Graph, node_id: str) -> _Laid | None:
    """A Parallel or Map state laid out around its branches (None for other states)."""
    scopes = graph.inner_scopes(node_id)
    if not scopes:
        return None
    result = _Laid(0.0, 0.0)
    x, tallest = _PAD, 0.0
    for scope in scopes:
        laid = _layout(graph, scope)
        frame = _Box(x, _HEADER, laid.w + 2 * _PAD, laid.h + 2 * _PAD + 10)
        result.frames.append((scope.label, frame))
        result.absorb(laid.shifted(x + _PAD, _HEADER + _PAD + 10))
        x += frame.w + _PAD
        tallest = max(tallest, frame.h)
    name_width = len(graph.nodes[node_id].name) * _CHAR + 90
    result.w, result.h = max(x, name_width), _HEADER + tallest + _PAD
    return result


def _size(node: Node) -> tuple[float, float]:
    if node.is_pseudo:
        return _PSEUDO, _PSEUDO
    return max(120.0, len(node.name) * _CHAR + 36), _NODE_HEIGHT


def _sugiyama(sizes: dict[str, tuple[float, float]], edges: list[Edge], start: str) -> _Laid:
    """Layered layout of one scope's boxes, components side by side."""
    vertices = {node_id: Vertex(node_id) for node_id in sizes}
    for node_id, vertex in vertices.items():
        vertex.view = _View(*sizes[node_id])
    pairs: dict[tuple[str, str], list[Edge]] = {}
    for edge in edges:
        pairs.setdefault((edge.source, edge.target), []).append(edge)
    links = {}
    for source, target in pairs:
        if source != target:
            link = GrandalfEdge(vertices[source], vertices[target])
            link.view = EdgeViewer()
            links[(source, target)] = link
    layout_graph = GrandalfGraph(list(vertices.values()), list(links.values()))
    result, offset = _Laid(0.0, 0.0), 0.0
    for component in layout_graph.C:
        part = _component(component, vertices.get(start))
        result.absorb(part.shifted(offset, 0.0))
        offset += part.w + _X_SPACE
        result.h = max(result.h, part.h)
    result.w = max(offset - _X_SPACE, 0.0)
    for (source, target), group in pairs.items():
        points = _route(links.get((source, target)), result.boxes[source], result.boxes[target])
        for edge in group:
            result.routes.append((edge, points))
    return result


def _component(component: Any, start: Vertex | None) -> _Laid:
    sugiyama = SugiyamaLayout(component)
    sugiyama.xspace, sugiyama.yspace = _X_SPACE, _Y_SPACE
    sugiyama.route_edge = route_with_lines
    roots = [start] if start is not None and start in component.sV else None
    sugiyama.init_all(roots=roots)
    sugiyama.draw()
    boxes = {}
    for vertex in component.sV:
        (cx, cy), view = vertex.view.xy, vertex.view
        boxes[vertex.data] = _Box(cx - view.w / 2, cy - view.h / 2, view.w, view.h)
    left = min(b.x for b in boxes.values())
    top = min(b.y for b in boxes.values())
    moved = {key: box.moved(-left, -top) for key, box in boxes.items()}
    for edge in component.sE:
        edge.view.offset = (-left, -top)
    width = max(b.x + b.w for b in moved.values())
    height = max(b.y + b.h for b in moved.values())
    return _Laid(width, height, moved)


def _route(link: Any, source: _Box, target: _Box) -> list[Point]:
    """The polyline of an edge: grandalf's when it routed one, else a straight line."""
    if source is target:  # a state going back to itself: a loop on its right side
        x, y = source.x + source.w, source.y + source.h / 2
        return [(x, y - 8), (x + 26, y - 8), (x + 26, y + 8), (x, y + 8)]
    points = getattr(getattr(link, "view", None), "_pts", None)
    if not points:
        return [_bottom(source), _top(target)]
    dx, dy = link.view.offset
    absolute = [(x + dx, y + dy) for x, y in points]
    start = _centre(source)
    if _distance(absolute[0], start) > _distance(absolute[-1], start):
        absolute.reverse()  # grandalf routed a back edge (a loop) the other way round
    return absolute


def _centre(box: _Box) -> Point:
    return box.x + box.w / 2, box.y + box.h / 2


def _bottom(box: _Box) -> Point:
    return box.x + box.w / 2, box.y + box.h


def _top(box: _Box) -> Point:
    return box.x + box.w / 2, box.y


def _distance(a: Point, b: Point) -> float:
    return float(((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5)


class _View:
    """What grandalf reads (w, h) and writes (xy) for a vertex."""

    def __init__(self, w: float, h: float) -> None:
        self.w, self.h = w, h
        self.xy: Point = (0.0, 0.0)


# --- drawing ---------------------------------------------------------------------------


def _frame(label: str, box: _Box) -> str:
    return (
        f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" height="{box.h:.1f}" '
        'rx="8" fill="#f8fafc" stroke="#94a3b8" stroke-dasharray="5 4"/>'
        f'<text x="{box.x + 8:.1f}" y="{box.y + 15:.1f}" font-size="10" fill="#64748b">'
        f"{escape(label)}</text>"
    )


def _node(node: Node, box: _Box, run: Overlay | None, diagnostics: Diagnostics) -> str:
    if node.is_pseudo:
        cx, cy = _centre(box)
        ring = '<circle cx="{:.1f}" cy="{:.1f}" r="{:.1f}" fill="none" stroke="#334155"/>'
        outer = ring.format(cx, cy, _PSEUDO / 2 + 3) if node.type == "End" else ""
        return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{_PSEUDO / 2:.1f}" fill="#334155"/>{outer}'
    fill, stroke = PALETTE[status_of(node, run)]
    width = 3 if node.id in diagnostics else 1.5
    stroke = DIAGNOSTIC_COLOUR if node.id in diagnostics else stroke
    container = box.h > _NODE_HEIGHT + 1
    title_y = box.y + (18 if container else box.h / 2 - 2)
    tip = escape("\n".join([node.id, *diagnostics.get(node.id, ())]))
    return (
        f'<g><title>{tip}</title><rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" '
        f'height="{box.h:.1f}" rx="8" fill="{fill}" stroke="{stroke}" stroke-width="{width}"/>'
        f'<text x="{box.x + box.w / 2:.1f}" y="{title_y:.1f}" text-anchor="middle" '
        f'font-size="12" font-weight="600" fill="#0f172a">{escape(node.name)}</text>'
        f'<text x="{box.x + box.w / 2:.1f}" y="{title_y + 14:.1f}" text-anchor="middle" '
        f'font-size="10" fill="#475569">{escape(node.type)}</text></g>'
    )


def _edge(edge: Edge, points: list[Point]) -> str:
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    colour = "#ea580c" if edge.kind is EdgeKind.CATCH else "#64748b"
    dash = ' stroke-dasharray="5 4"' if edge.kind in (EdgeKind.CATCH, EdgeKind.DEFAULT) else ""
    line = (
        f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.3"{dash} '
        'marker-end="url(#arrow)"/>'
    )
    if not edge.label:
        return line
    (x1, y1), (x2, y2) = points[len(points) // 2 - 1], points[len(points) // 2]
    x, y = (x1 + x2) / 2, (y1 + y2) / 2
    return (
        f'{line}<text x="{x + 4:.1f}" y="{y:.1f}" font-size="10" fill="{colour}" '
        f'paint-order="stroke" stroke="#ffffff" stroke-width="3">{escape(edge.label)}</text>'
    )
