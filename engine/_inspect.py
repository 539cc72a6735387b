"""What the console and ``stepline graph`` show of a definition, a machine or an execution.

Read through the boto3-shaped client only (so the same views work on the durable and the
local backend): the definition and its diagnostics, the execution and its whole history,
turned into the pure graph and overlay of `engine._graph`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from engine._api.operations import Operations
from engine._asl.load import load_definition_text
from engine._errors import DefinitionSyntaxError, InvalidDefinition
from engine._graph import Graph, Overlay, build_graph, overlay

Json = Any
HISTORY_PAGE = 1000


@dataclass(frozen=True)
class GraphView:
    """A graph, the diagnostics placed on its nodes and, for an execution, its overlay.

    Attributes:
        graph: the definition's graph (empty when the text is not JSON/YAML at all).
        diagnostics: ``SEVERITY CODE at /pointer: message`` lines by node id.
        problems: every diagnostic as the API returns it (with ``location``).
        run: the execution's overlay, or None for a definition or a machine.
        history: the execution's events, oldest first (empty for a definition).
        execution: DescribeExecution's answer (empty for a definition).
    """

    graph: Graph
    diagnostics: dict[str, list[str]] = field(default_factory=dict)
    problems: list[dict[str, Json]] = field(default_factory=list)
    run: Overlay | None = None
    history: list[dict[str, Json]] = field(default_factory=list)
    execution: dict[str, Json] = field(default_factory=dict)


def definition_view(client: Operations, text: str, machine_type: str = "STANDARD") -> GraphView:
    """The graph of ``text`` with the validator's errors and warnings on its nodes.

    Remembered for the last `VIEWS_KEPT` definitions: an execution's page asks again every
    second while it runs, and a stored definition never changes.
    """
    return _definition_view(client, text, machine_type)


VIEWS_KEPT = 64


@functools.lru_cache(maxsize=VIEWS_KEPT)
def _definition_view(client: Operations, text: str, machine_type: str) -> GraphView:
    try:
        raw = load_definition_text(text)
    except (DefinitionSyntaxError, InvalidDefinition) as error:
        problem = {
            "severity": "ERROR",
            "code": "SCHEMA_VALIDATION_FAILED",
            "location": "",
            "message": str(error),
        }
        graph = build_graph({})
        return GraphView(graph, {graph.root.start: [_line(problem)]}, [problem])
    graph = build_graph(raw)
    found = client.validate_state_machine_definition(
        definition=text, type=machine_type, severity="WARNING", maxResults=100
    )["diagnostics"]
    placed: dict[str, list[str]] = {}
    for problem in found:
        placed.setdefault(graph.place(problem.get("location") or ""), []).append(_line(problem))
    return GraphView(graph, placed, list(found))


def machine_view(client: Operations, arn: str) -> GraphView:
    """A state machine's (or version's) definition as a graph, with its diagnostics."""
    described = client.describe_state_machine(stateMachineArn=arn)
    return definition_view(client, described["definition"], described.get("type", "STANDARD"))


def execution_view(client: Operations, arn: str) -> GraphView:
    """An execution: its machine's graph coloured by its history, state by state."""
    execution = client.describe_execution(executionArn=arn)
    machine = client.describe_state_machine_for_execution(executionArn=arn)
    events = full_history(client, arn)
    base = definition_view(client, machine["definition"])
    run = overlay(base.graph, events, execution["status"])
    return GraphView(base.graph, base.diagnostics, base.problems, run, events, execution)


def full_history(client: Operations, arn: str) -> list[dict[str, Json]]:
    """Every event of the execution ``arn``, oldest first."""
    events: list[dict[str, Json]] = []
    token: str | None = None
    while True:
        paging: dict[str, Any] = {"nextToken": token} if token else {}
        page = client.get_execution_history(executionArn=arn, maxResults=HISTORY_PAGE, **paging)
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events


def _line(problem: dict[str, Json]) -> str:
    where = problem.get("location") or "/"
    return f"{problem.get('severity', 'ERROR')} {problem.get('code', '')} at {where}: " + str(
        problem.get("message", "")
    )
