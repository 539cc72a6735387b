"""The console's JSON answers.

Read through the boto3-shaped client, and its backend's one console-only listing
(`Backend.search_executions`: every machine's executions, searched by name).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine._api import Client
from engine._graph.render import to_json
from engine._inspect import GraphView, definition_view, execution_view, machine_view
from engine._records import ExecutionQuery

Json = Any
PAGE = 50
"""Rows on one page of a console listing."""
MAP_RUN_ITEMS = 100
"""Child executions listed per Distributed Map run (the first ones, by index)."""


def machines(client: Client, token: str | None) -> dict[str, Json]:
    """A page of state machines."""
    paging = {"nextToken": token} if token else {}
    page = client.list_state_machines(maxResults=PAGE, **paging)
    return {"machines": page["stateMachines"], "nextToken": page.get("nextToken")}


def machine(client: Client, arn: str) -> dict[str, Json]:
    """A state machine: its description, versions, aliases and its graph with diagnostics."""
    described = client.describe_state_machine(stateMachineArn=arn)
    name_or_version = arn.rsplit(":", 1)[-1]
    base = arn.rsplit(":", 1)[0] if name_or_version.isdigit() else arn  # a version's machine
    versions = client.list_state_machine_versions(stateMachineArn=base, maxResults=PAGE)
    aliases = client.list_state_machine_aliases(stateMachineArn=base, maxResults=PAGE)
    view = machine_view(client, arn)
    return {
        "machine": described,
        "versions": versions["stateMachineVersions"],
        "aliases": aliases["stateMachineAliases"],
        **_graph(view),
    }


def executions(client: Client, query: ExecutionQuery, token: str | None) -> dict[str, Json]:
    """A page of executions of every machine (or one), newest first, filtered."""
    page = client.backend.search_executions(query, limit=PAGE, token=token)
    items = [
        {
            "executionArn": r.arn,
            "stateMachineArn": r.machine_arn,
            "machineName": r.machine_arn.rsplit(":", 1)[-1],
            "name": r.name,
            "status": r.status,
            "startDate": r.start_date,
            "stopDate": r.stop_date,
            "redriveCount": r.redrive_count,
        }
        for r in page.items
    ]
    return {"executions": items, "nextToken": page.next_token}


def execution(client: Client, arn: str) -> dict[str, Json]:
    """An execution: its description, its coloured graph, its visits and its Map runs."""
    view = execution_view(client, arn)
    return {
        "execution": view.execution,
        "events": len(view.history),
        "mapRuns": map_runs(client, arn),
        **_graph(view),
    }


def validation(client: Client, text: str, machine_type: str) -> dict[str, Json]:
    """The graph of a definition typed into the console, with its diagnostics."""
    return _graph(definition_view(client, text, machine_type))


def map_runs(client: Client, arn: str) -> list[dict[str, Json]]:
    """The execution's Distributed Map runs, each with its counts and its items' status."""
    runs = []
    for listed in client.list_map_runs(executionArn=arn)["mapRuns"]:
        run = client.describe_map_run(mapRunArn=listed["mapRunArn"])
        children = client.list_executions(mapRunArn=listed["mapRunArn"], maxResults=MAP_RUN_ITEMS)
        run["items"] = [
            {"executionArn": c["executionArn"], "name": c["name"], "status": c["status"]}
            for c in children["executions"]
        ]
        runs.append(run)
    return runs


def _graph(view: GraphView) -> dict[str, Json]:
    return {
        "graph": to_json(view.graph, view.run, view.diagnostics),
        "diagnostics": view.problems,
    }


def json_default(value: Any) -> Any:
    """Dates as ISO 8601 text (the client answers with datetimes, as boto3 does)."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
