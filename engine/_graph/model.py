"""The graph of a state machine definition: states as nodes, transitions as edges.

Built from the raw definition (plain JSON values), not from the validated model, so that
an invalid definition still has a graph on which its diagnostics can be placed. Every
node and scope is identified by its JSON pointer into the definition
(``/States/Fulfil/Branches/0/States/Reserve``), the same pointers the validator's
diagnostics carry.

A *scope* is a list of ``States`` with its ``StartAt``: the root machine, each Parallel
branch and each Map's ``ItemProcessor`` (or ``Iterator``). Each scope has a start and an
end pseudo-node; nested scopes belong to the Parallel or Map state that owns them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from engine._graph.rules import rule_label

Json = Any
"""A JSON value: dict, list, str, int, float, bool or None."""

ROOT = ""
"""The pointer (and scope id) of the whole definition."""


class EdgeKind(StrEnum):
    """Why control goes from one node to another."""

    START = "start"
    NEXT = "next"
    CHOICE = "choice"
    DEFAULT = "default"
    CATCH = "catch"
    END = "end"


@dataclass(frozen=True)
class Node:
    """A state, or a scope's start or end pseudo-node.

    Attributes:
        id: the state's JSON pointer; ``<scope>/StartAt`` and ``<scope>#end`` for the
            pseudo-nodes.
        name: the state's name (``Start`` / ``End`` for pseudo-nodes).
        type: the ASL ``Type`` (``Task``, ``Map`` ...), ``Start`` or ``End``; ``?`` when the
            definition gives none.
        scope: the id of the scope the node belongs to.
        comment: the state's ``Comment``.
        resource: a Task's ``Resource``.
    """

    id: str
    name: str
    type: str
    scope: str
    comment: str | None = None
    resource: str | None = None

    @property
    def is_pseudo(self) -> bool:
        """True for a scope's start or end node."""
        return self.type in ("Start", "End")


@dataclass(frozen=True)
class Edge:
    """A transition from ``source`` to ``target`` (node ids), labelled for Choice and Catch."""

    source: str
    target: str
    kind: EdgeKind
    label: str = ""


@dataclass(frozen=True)
class Scope:
    """One ``States`` list: the root machine, a Parallel branch or a Map's item processor.

    Attributes:
        id: the JSON pointer of the object holding ``StartAt`` and ``States``.
        owner: the Parallel or Map node owning the scope (None for the root).
        label: ``Branch 1``, ``Item processor`` (empty for the root).
        nodes: the ids of its nodes, start first, then states in definition order, end last.
    """

    id: str
    owner: str | None
    label: str
    nodes: tuple[str, ...]

    @property
    def start(self) -> str:
        """The id of the scope's start pseudo-node."""
        return f"{self.id}/StartAt"

    @property
    def end(self) -> str:
        """The id of the scope's end pseudo-node."""
        return f"{self.id}#end"


@dataclass(frozen=True)
class Graph:
    """A definition's nodes, edges and nested scopes."""

    nodes: dict[str, Node]
    edges: tuple[Edge, ...]
    scopes: dict[str, Scope]

    @property
    def root(self) -> Scope:
        """The scope of the whole machine."""
        return self.scopes[ROOT]

    def inner_scopes(self, node_id: str) -> tuple[Scope, ...]:
        """The branches (Parallel) or the item processor (Map) owned by ``node_id``."""
        return tuple(scope for scope in self.scopes.values() if scope.owner == node_id)

    def edges_from(self, node_id: str) -> tuple[Edge, ...]:
        """The edges leaving ``node_id``, in definition order."""
        return tuple(edge for edge in self.edges if edge.source == node_id)

    def states_named(self, name: str) -> tuple[Node, ...]:
        """The state nodes called ``name`` (one in a valid definition)."""
        return tuple(n for n in self.nodes.values() if n.name == name and not n.is_pseudo)

    def place(self, pointer: str) -> str:
        """The node a diagnostic at ``pointer`` belongs to: the deepest state containing it.

        A pointer inside no state (``/StartAt``, ``/TimeoutSeconds``) belongs to the root
        scope's start node; ``<scope>/StartAt`` to that scope's start node.
        """
        best = self.root.start
        for node_id, node in self.nodes.items():
            if node.is_pseudo:
                continue
            if (pointer == node_id or pointer.startswith(node_id + "/")) and len(node_id) > len(
                best
            ):
                best = node_id
        for scope in self.scopes.values():
            if pointer == scope.start and len(scope.start) >= len(best):
                best = scope.start
        return best


def build_graph(definition: Json) -> Graph:
    """The graph of ``definition`` (plain JSON values), however malformed it is.

    Missing or mistyped fields leave their edges out rather than raising: the validator
    reports them, and `Graph.place` puts its diagnostics on the nodes.
    """
    builder = _Builder()
    builder.scope(definition if isinstance(definition, dict) else {}, ROOT, None, "")
    return Graph(builder.nodes, tuple(builder.edges), builder.scopes)


class _Builder:
    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        self.scopes: dict[str, Scope] = {}

    def scope(self, body: dict[str, Json], pointer: str, owner: str | None, label: str) -> None:
        states = body.get("States")
        states = states if isinstance(states, dict) else {}
        start = Node(f"{pointer}/StartAt", "Start", "Start", pointer)
        end = Node(f"{pointer}#end", "End", "End", pointer)
        ids = {name: f"{pointer}/States/{_escape(name)}" for name in states}
        self.nodes[start.id] = start
        start_at = body.get("StartAt")
        if isinstance(start_at, str) and start_at in ids:
            self.edges.append(Edge(start.id, ids[start_at], EdgeKind.START))
        for name, state in states.items():
            self.state(name, state if isinstance(state, dict) else {}, ids, pointer, end.id)
        self.nodes[end.id] = end
        self.scopes[pointer] = Scope(pointer, owner, label, (start.id, *ids.values(), end.id))

    def state(
        self, name: str, state: dict[str, Json], ids: dict[str, str], scope: str, end: str
    ) -> None:
        node_id = ids[name]
        kind = state.get("Type") if isinstance(state.get("Type"), str) else "?"
        resource = state.get("Resource") if isinstance(state.get("Resource"), str) else None
        comment = state.get("Comment") if isinstance(state.get("Comment"), str) else None
        self.nodes[node_id] = Node(node_id, name, str(kind), scope, comment, resource)
        self.nested(node_id, kind, state)
        for edge in _transitions(node_id, kind, state, ids, end):
            self.edges.append(edge)

    def nested(self, node_id: str, kind: Json, state: dict[str, Json]) -> None:
        if kind == "Parallel" and isinstance(state.get("Branches"), list):
            for index, branch in enumerate(state["Branches"]):
                if isinstance(branch, dict):
                    pointer = f"{node_id}/Branches/{index}"
                    self.scope(branch, pointer, node_id, f"Branch {index + 1}")
        if kind == "Map":
            for field in ("ItemProcessor", "Iterator"):
                if isinstance(state.get(field), dict):
                    self.scope(state[field], f"{node_id}/{field}", node_id, "Item processor")
                    break


def _transitions(
    node_id: str, kind: Json, state: dict[str, Json], ids: dict[str, str], end: str
) -> list[Edge]:
    """The edges leaving one state: Choice rules and Default, Next or End, then Catch."""
    edges: list[Edge] = []

    def to(target: Json, edge_kind: EdgeKind, label: str = "") -> None:
        if isinstance(target, str) and target in ids:
            edges.append(Edge(node_id, ids[target], edge_kind, label))

    if kind == "Choice":
        choices = state.get("Choices")
        for rule in choices if isinstance(choices, list) else []:
            if isinstance(rule, dict):
                to(rule.get("Next"), EdgeKind.CHOICE, rule_label(rule))
        to(state.get("Default"), EdgeKind.DEFAULT, "Default")
    to(state.get("Next"), EdgeKind.NEXT)
    if state.get("End") is True or kind in ("Succeed", "Fail"):
        edges.append(Edge(node_id, end, EdgeKind.END))
    catchers = state.get("Catch")
    for catcher in catchers if isinstance(catchers, list) else []:
        if isinstance(catcher, dict):
            errors = catcher.get("ErrorEquals")
            names = (
                ", ".join(e for e in errors if isinstance(e, str))
                if isinstance(errors, list)
                else ""
            )
            to(catcher.get("Next"), EdgeKind.CATCH, f"Catch {names}".strip())
    return edges


def _escape(name: str) -> str:
    """``name`` as one JSON pointer token (RFC 6901)."""
    return name.replace("~", "~0").replace("/", "~1")
