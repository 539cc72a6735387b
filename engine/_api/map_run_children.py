"""Distributed Map child executions, answered as AWS answers for executions (ADR 0034).

Children are threads of their parent, not executions scheduled on their own; the
interpreter records each start, end and redrive (`RecordChildExecution`) and this module
reads that projection for ListExecutions(mapRunArn), DescribeExecution and
GetExecutionHistory. A child still RUNNING when its Map Run no longer runs reads ABORTED.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, TypeGuard

from engine import _errors as errors
from engine._api.base import (
    STATUSES,
    ClientBase,
    aws_events,
    backend_token,
    one_of,
    with_token,
)
from engine._api.map_runs import map_run_status
from engine._interpreter.history import HistoryEvent, payload_details
from engine._interpreter.turn import iso_timestamp
from engine._records import ChildExecutionRecord, ExecutionRecord, MapRunRecord, page_in_memory

Json = Any
_ENDINGS = {
    "SUCCEEDED": "ExecutionSucceeded",
    "FAILED": "ExecutionFailed",
    "ABORTED": "ExecutionAborted",
}


def is_child_arn(arn: Any) -> TypeGuard[str]:
    """Whether ``arn`` names a Map Run's child: ``…:execution:MACHINE/LABEL:NAME``.

    Execution and machine names cannot hold ``/``, so only a child's ARN has one there.
    """
    parts = arn.split(":") if isinstance(arn, str) else []
    return len(parts) == 8 and parts[5] == "execution" and "/" in parts[6]


class ChildExecutionOperations(ClientBase):
    """What the execution operations answer for Distributed Map child executions."""

    def _list_children(
        self,
        map_run_arn: str,
        status: str | None,
        redriven: bool | None,
        limit: int,
        token: str | None,
    ) -> dict[str, Json]:
        """ListExecutions(mapRunArn): the Map Run's children, newest first."""
        self._check_arn(map_run_arn, "mapRun")
        run = self._listed_map_run(map_run_arn)
        one_of(status, "statusFilter", STATUSES)
        children = [
            child
            for child in self._as_read(run, self.backend.child_executions(run.arn))
            if (status is None or child.status == status)
            and (redriven is None or (child.redrive_count > 0) == redriven)
        ]
        children.sort(key=lambda c: (c.start_date, c.index), reverse=True)
        scope = ("ListExecutions", map_run_arn, status)
        page = page_in_memory(children, limit, backend_token(token, scope))
        items = [_list_item(child) for child in page.items]
        return with_token({"executions": items}, page.next_token, scope)

    def _describe_child(self, arn: str) -> dict[str, Json]:
        """DescribeExecution of a child execution."""
        child, parent = self._child(arn)
        response: dict[str, Json] = {
            "executionArn": child.arn,
            "stateMachineArn": _machine_arn(child),
            "name": _name(child),
            "status": child.status,
            "startDate": child.start_date,
            "input": _text(child.input),
            "inputDetails": {"included": True},
            "mapRunArn": child.map_run_arn,
            "redriveCount": child.redrive_count,
            **self._child_redrive_status(child, parent),
        }
        if child.redrive_date is not None:
            response["redriveDate"] = child.redrive_date
        if child.stop_date is not None:
            response["stopDate"] = child.stop_date
        if child.status == "SUCCEEDED":
            response["output"] = _text(child.output)
            response["outputDetails"] = {"included": True}
        if child.status == "FAILED" and child.error is not None:
            response["error"] = child.error
        if child.status == "FAILED" and child.cause is not None:
            response["cause"] = child.cause
        return response

    def _child_history(
        self, arn: str, limit: int, reverse: bool, token: str | None, with_data: bool
    ) -> dict[str, Json]:
        """GetExecutionHistory of a child: its start, redrive and end (ADR 0034)."""
        child, parent = self._child(arn)
        definition = self.backend.execution_definition(parent.arn)
        events = _history(child, definition[1] if definition is not None else "")
        scope = ("GetExecutionHistory", arn, reverse)
        page = page_in_memory(
            events[::-1] if reverse else events, limit, backend_token(token, scope)
        )
        return with_token({"events": aws_events(page.items, with_data)}, page.next_token, scope)

    # --- helpers --------------------------------------------------------------------

    def _listed_map_run(self, arn: str) -> MapRunRecord:
        run = self.backend.map_run(arn)
        if run is None:
            raise errors.ResourceNotFound(f"Resource not found: '{arn}'")
        return run

    def _child(self, arn: str) -> tuple[ChildExecutionRecord, ExecutionRecord]:
        """The child ``arn`` as readers see it, and its parent execution.

        Raises:
            ExecutionDoesNotExist: no Map Run has a child with this ARN.
        """
        found = self.backend.child_execution(arn)
        run = self.backend.map_run(found.map_run_arn) if found is not None else None
        parent = self.backend.execution(run.execution_arn) if run is not None else None
        if found is None or run is None or parent is None:
            raise errors.ExecutionDoesNotExist(f"Execution Does Not Exist: '{arn}'")
        (child,) = self._as_read(run, [found], parent)
        return child, parent

    def _as_read(
        self,
        run: MapRunRecord,
        children: list[ChildExecutionRecord],
        parent: ExecutionRecord | None = None,
    ) -> list[ChildExecutionRecord]:
        """``children`` with those still RUNNING in a Map Run that no longer runs ABORTED."""
        parent = parent or self.backend.execution(run.execution_arn)
        if parent is None:
            return children
        status, stop_date = map_run_status(run, parent.status, parent.stop_date)
        if status == "RUNNING":
            return children
        return [
            replace(child, status="ABORTED", stop_date=stop_date)
            if child.status == "RUNNING"
            else child
            for child in children
        ]

    def _child_redrive_status(
        self, child: ChildExecutionRecord, parent: ExecutionRecord
    ) -> dict[str, Json]:
        """A failed or aborted child is redriven with its Map Run (its parent's redrive)."""
        if child.status in ("FAILED", "ABORTED"):
            verdict = self._redrivability(parent)
            if verdict.reason is None:
                return {"redriveStatus": "REDRIVABLE_BY_MAP_RUN"}
            return {"redriveStatus": "NOT_REDRIVABLE", "redriveStatusReason": verdict.reason}
        return {
            "redriveStatus": "NOT_REDRIVABLE",
            "redriveStatusReason": f"Execution is {child.status} and cannot be redriven",
        }


def _name(child: ChildExecutionRecord) -> str:
    return child.arn.rsplit(":", 1)[1]


def _machine_arn(child: ChildExecutionRecord) -> str:
    """``…:stateMachine:MACHINE/LABEL``: the Map Run's, as AWS names a child's machine."""
    head = child.arn.rsplit(":", 1)[0]
    return head.replace(":execution:", ":stateMachine:", 1)


def _text(value: Json) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _list_item(child: ChildExecutionRecord) -> dict[str, Json]:
    """An ``ExecutionListItem`` of a child: with ``mapRunArn`` and ``itemCount``."""
    item: dict[str, Json] = {
        "executionArn": child.arn,
        "stateMachineArn": _machine_arn(child),
        "name": _name(child),
        "status": child.status,
        "startDate": child.start_date,
        "mapRunArn": child.map_run_arn,
        "itemCount": child.item_count,
        "redriveCount": child.redrive_count,
    }
    if child.stop_date is not None:
        item["stopDate"] = child.stop_date
    if child.redrive_date is not None:
        item["redriveDate"] = child.redrive_date
    return item


def _history(child: ChildExecutionRecord, role_arn: str) -> list[HistoryEvent]:
    """The child's execution events: started, redriven (if it was), and how it ended."""
    started = {
        **payload_details("input", child.input),
        "roleArn": role_arn,
    }
    events = [HistoryEvent(1, 0, "ExecutionStarted", iso_timestamp(child.start_date), started)]
    if child.redrive_count and child.redrive_date is not None:
        details = {"redriveCount": child.redrive_count}
        events.append(
            HistoryEvent(2, 1, "ExecutionRedriven", iso_timestamp(child.redrive_date), details)
        )
    ending = _ENDINGS.get(child.status)
    if ending is not None and child.stop_date is not None:
        if child.status == "SUCCEEDED":
            ended: dict[str, Json] = payload_details("output", child.output)
        else:
            ended = {k: v for k, v in (("error", child.error), ("cause", child.cause)) if v}
        last = events[-1].id
        events.append(HistoryEvent(last + 1, last, ending, iso_timestamp(child.stop_date), ended))
    return events
