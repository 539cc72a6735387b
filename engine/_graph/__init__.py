"""The graph of a state machine, and an execution's history laid over it (pure: no I/O).

Used by the web console (`engine._console`) and by ``stepline graph``.
"""

from engine._graph.model import ROOT, Edge, EdgeKind, Graph, Node, Scope, build_graph
from engine._graph.overlay import Overlay, StateRun, StateStatus, Visit, overlay

__all__ = [
    "ROOT",
    "Edge",
    "EdgeKind",
    "Graph",
    "Node",
    "Overlay",
    "Scope",
    "StateRun",
    "StateStatus",
    "Visit",
    "build_graph",
    "overlay",
]
