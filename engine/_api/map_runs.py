"""Map Run operations of the boto3-shaped client (Distributed Map)."""

from __future__ import annotations

from typing import Any

from engine import _errors as errors
from engine._api.base import ClientBase, backend_token, require, with_token
from engine._interpreter.events import MapRunUpdated
from engine._interpreter.snapshot import ExecutionStatus
from engine._records import MapRunRecord, page_in_memory

Json = Any


class MapRunOperations(ClientBase):
    """ListMapRuns, DescribeMapRun and UpdateMapRun."""

    def list_map_runs(
        self,
        *,
        executionArn: str | None = None,
        maxResults: int = 100,
        nextToken: str | None = None,
        **_: Any,
    ) -> dict[str, Json]:
        """ListMapRuns: the Map Runs an execution started, newest first."""
        record = self._execution(require(executionArn, "executionArn"))
        runs = self.backend.map_runs(record.arn)
        scope = ("ListMapRuns", record.arn)
        page = page_in_memory(runs, maxResults, backend_token(nextToken, scope))
        items = [_list_item(run, record.status) for run in page.items]
        return with_token({"mapRuns": items}, page.next_token, scope)

    def update_map_run(
        self,
        *,
        mapRunArn: str | None = None,
        maxConcurrency: int | None = None,
        toleratedFailurePercentage: float | None = None,
        toleratedFailureCount: int | None = None,
        **_: Any,
    ) -> dict[str, Json]:
        """UpdateMapRun: a running Map Run takes new limits (an ended one keeps its own)."""
        arn = require(mapRunArn, "mapRunArn")
        self._check_arn(arn, "mapRun")
        _checked(maxConcurrency, "maxConcurrency", 0, None)
        _checked(toleratedFailureCount, "toleratedFailureCount", 0, None)
        _checked(toleratedFailurePercentage, "toleratedFailurePercentage", 0, 100)
        run = self._map_run(arn)
        if run.status != "RUNNING":
            return {}
        update = MapRunUpdated(
            run.thread_id,
            arn,
            max_concurrency=_maybe(int, maxConcurrency),
            tolerated_failure_count=_maybe(int, toleratedFailureCount),
            tolerated_failure_percentage=_maybe(float, toleratedFailurePercentage),
        )
        self.backend.update_map_run(run, update)
        return {}

    def _map_run(self, arn: str) -> MapRunRecord:
        run = self.backend.map_run(arn)
        if run is None:
            raise errors.ResourceNotFound(f"Resource not found: '{arn}'")
        return run

    def describe_map_run(self, *, mapRunArn: str | None = None, **_: Any) -> dict[str, Json]:
        """DescribeMapRun: status, limits and counts of one Map Run."""
        arn = require(mapRunArn, "mapRunArn")
        self._check_arn(arn, "mapRun")
        run = self._map_run(arn)
        execution = self._execution(run.execution_arn)
        status, stop_date = map_run_status(run, execution.status, execution.stop_date)
        response: dict[str, Json] = {
            "mapRunArn": run.arn,
            "executionArn": run.execution_arn,
            "status": status,
            "startDate": run.start_date,
            "maxConcurrency": run.max_concurrency,
            "toleratedFailurePercentage": run.tolerated_failure_percentage,
            "toleratedFailureCount": run.tolerated_failure_count,
            "itemCounts": _aborted_if(status, run.item_counts),
            "executionCounts": _aborted_if(status, run.execution_counts),
            "redriveCount": 0,
        }
        if stop_date is not None:
            response["stopDate"] = stop_date
        return response


def _maybe(kind: Any, value: Any) -> Any:
    return None if value is None else kind(value)


def _checked(value: Any, name: str, low: float, high: float | None) -> None:
    """``value`` (when given) is a number within AWS's bounds for ``name``."""
    if value is None:
        return
    within = (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and low <= value
        and (high is None or value <= high)
    )
    if not within:
        bounds = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise errors.ValidationException(
            f"1 validation error detected: Value '{value}' at '{name}' failed to satisfy "
            f"constraint: Member must be {bounds}"
        )


def map_run_status(
    run: MapRunRecord, execution_status: str, execution_stop: Any
) -> tuple[str, Any]:
    """A Map Run still RUNNING when its execution ended was aborted with it."""
    if run.status == "RUNNING" and execution_status != ExecutionStatus.RUNNING:
        return "ABORTED", execution_stop
    return run.status, run.stop_date


def _aborted_if(status: str, counts: dict[str, int]) -> dict[str, int]:
    """Counts of an aborted Map Run: what was pending or running was aborted."""
    if status != "ABORTED":
        return dict(counts)
    stopped = counts["pending"] + counts["running"]
    return {**counts, "pending": 0, "running": 0, "aborted": counts["aborted"] + stopped}


def _list_item(run: MapRunRecord, execution_status: str) -> dict[str, Json]:
    """A ``MapRunListItem``; ``stateMachineArn`` names the Map Run's MACHINE/LABEL."""
    head, _, _ = run.arn.rpartition(":")
    item: dict[str, Json] = {
        "executionArn": run.execution_arn,
        "mapRunArn": run.arn,
        "stateMachineArn": head.replace(":mapRun:", ":stateMachine:", 1),
        "startDate": run.start_date,
    }
    _, stop_date = map_run_status(run, execution_status, None)
    if stop_date is not None:
        item["stopDate"] = stop_date
    return item
