"""A Distributed Map's ItemReader and ResultWriter, as requests the shell carries out.

Reading items from S3 and writing results to it are I/O, so the core never does them: it
resolves what to read or write (the reader's Parameters, MaxItems; the result entries) and
decides a `RunTask` for one of two internal resources, `READ_ITEMS` and `WRITE_RESULTS`.
The shell runs them like any integration and answers with ``TaskSucceeded`` (the items; the
written manifest's location) or ``TaskFailed``. Both are pure functions of the checkpoint.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from engine._asl.model import MapState
from engine._dataflow import jsonata, paths, payload
from engine._errors import ErrorName, StatesRuntimeError
from engine._interpreter import flow
from engine._interpreter.snapshot import Thread
from engine._interpreter.turn import Turn

Json = Any
READ_ITEMS = "arn:aws:states:::stepline-map:readItems"
"""The internal resource that reads a Distributed Map's items (ItemReader)."""
WRITE_RESULTS = "arn:aws:states:::stepline-map:writeResults"
"""The internal resource that writes a Map Run's results (ResultWriter with a Resource)."""
TRANSFORMATIONS = ("NONE", "COMPACT", "FLATTEN")
OUTPUT_TYPES = ("JSON", "JSONL")


def reader_request(turn: Turn, thread: Thread, state: MapState) -> dict[str, Json]:
    """What `READ_ITEMS` gets: the S3 resource, its resolved Parameters, the ReaderConfig.

    ``MaxItemsPath`` is resolved here (it reads the state input), so the reader only sees
    ``MaxItems``.
    """
    reader = state.item_reader
    assert isinstance(reader, dict)
    config = dict(reader.get("ReaderConfig") or {})
    max_items = _max_items(turn, thread, config)
    config.pop("MaxItemsPath", None)
    if max_items is not None:
        config["MaxItems"] = max_items
    return {
        "Resource": reader["Resource"],
        "Parameters": _arguments(turn, thread, state, reader, "ItemReader"),
        "ReaderConfig": config,
    }


def max_items(turn: Turn, thread: Thread, state: MapState) -> int | None:
    """The reader's ``MaxItems`` / ``MaxItemsPath`` (None: every item)."""
    reader = state.item_reader
    config = reader.get("ReaderConfig") if isinstance(reader, dict) else None
    return _max_items(turn, thread, config or {})


def read_items(state: MapState, output: Json, max_items: int | None) -> list[Json]:
    """The items the reader returned (at most ``MaxItems``), or ``States.ItemReaderFailed``."""
    if not isinstance(output, list):
        raise StatesRuntimeError(
            ErrorName.ITEM_READER_FAILED,
            f"Map state '{state.name}': the ItemReader returned "
            f"{type(output).__name__}, expected an array of items",
        )
    return output if not max_items else output[:max_items]


def reader_cause(error: str, cause: str | None) -> str:
    """A reader's failure as ``States.ItemReaderFailed``'s cause (naming the S3 error)."""
    return _failure_cause(error, cause, ErrorName.ITEM_READER_FAILED)


def writer_cause(error: str, cause: str | None) -> str:
    """A writer's failure as ``States.ResultWriterFailed``'s cause (naming the S3 error)."""
    return _failure_cause(error, cause, ErrorName.RESULT_WRITER_FAILED)


def _failure_cause(error: str, cause: str | None, own: str) -> str:
    if error == own:
        return cause or ""
    return f"{error}: {cause}" if cause else error


def _arguments(
    turn: Turn, thread: Thread, state: MapState, config: dict[str, Json], field: str
) -> Json:
    """``Parameters`` (JSONPath, over the effective input) or ``Arguments`` (JSONata)."""
    if flow.is_jsonata(state):
        template = config.get("Arguments", {})
        return flow.evaluate_jsonata(template, flow.jsonata_scope(turn, thread), field)
    template = config.get("Parameters", {})
    scope = turn.scope(thread, thread.effective)
    return payload.evaluate_payload(template, scope, field=f"{field}.Parameters")


def _max_items(turn: Turn, thread: Thread, config: dict[str, Json]) -> int | None:
    path = config.get("MaxItemsPath")
    if path is not None:
        value = paths.read_path(path, turn.scope(thread, thread.effective), field="MaxItemsPath")
        field = "MaxItemsPath"
    else:
        value = config.get("MaxItems")
        if jsonata.is_expression(value):
            value = flow.evaluate_jsonata(value, flow.jsonata_scope(turn, thread), "MaxItems")
        field = "MaxItems"
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise StatesRuntimeError(
            ErrorName.RUNTIME,
            f"ItemReader {field} must be a non-negative integer, but was: "
            f"{flow.compact_json(value)}",
        )
    return value or None  # AWS: 0 means no limit


# --- ResultWriter ------------------------------------------------------------------------


@dataclass(frozen=True)
class WriterConfig:
    """A ResultWriter as the core runs it.

    Attributes:
        writes: True when a Resource (s3:putObject) exports the results to S3.
        transformation: NONE (each child's metadata, input and output), COMPACT (outputs
            only) or FLATTEN (outputs, arrays flattened); AWS's defaults: NONE with a
            Resource, COMPACT without.
        output_type: JSON (an array) or JSONL (one entry a line) for the files written.
    """

    writes: bool
    transformation: str
    output_type: str


def writer_config(state: MapState) -> WriterConfig | None:
    """The Map's ResultWriter, or None without one."""
    writer = state.result_writer
    if not isinstance(writer, dict):
        return None
    config = writer.get("WriterConfig") or {}
    writes = "Resource" in writer
    default = "NONE" if writes else "COMPACT"
    return WriterConfig(
        writes=writes,
        transformation=str(config.get("Transformation", default)),
        output_type=str(config.get("OutputType", "JSON")),
    )


@dataclass(frozen=True)
class ChildResult:
    """How one child execution of a Map Run ended, for the ResultWriter."""

    index: int
    succeeded: bool
    input: Json
    output: Json


def result_entries(
    turn: Turn, thread: Thread, map_run_arn: str, children: list[ChildResult], transformation: str
) -> list[Json]:
    """Each child's entry as AWS writes it: its output (COMPACT, FLATTEN) or metadata (NONE).

    A failed child's entry is always the NONE form, as on AWS.
    """
    entries: list[Json] = []
    for child in children:
        if child.succeeded and transformation == "FLATTEN" and isinstance(child.output, list):
            entries.extend(child.output)
        elif child.succeeded and transformation in ("COMPACT", "FLATTEN"):
            entries.append(child.output)
        else:
            entries.append(_metadata(turn, thread, map_run_arn, child))
    return entries


def _metadata(turn: Turn, thread: Thread, map_run_arn: str, child: ChildResult) -> Json:
    """AWS's per-child record (a DescribeExecution of the child execution).

    Children are threads here (ADR 0030), so their names are derived from the Map Run and
    the index (the ARN ListExecutions(mapRunArn) lists, ADR 0034), and both dates are the
    Map state's entry and the join.
    """
    head, _, tail = map_run_arn.partition(":mapRun:")
    machine_label = tail.rsplit(":", 1)[0]
    name = _child_name(map_run_arn, child.index)
    entry: dict[str, Json] = {
        "ExecutionArn": child_execution_arn(map_run_arn, child.index),
        "Input": flow.compact_json(child.input),
        "InputDetails": {"Included": True},
        "Name": name,
        "RedriveCount": 0,
        "RedriveStatus": "NOT_REDRIVABLE",
        "StartDate": thread.entered_time,
        "StateMachineArn": f"{head}:stateMachine:{machine_label}",
        "Status": "SUCCEEDED" if child.succeeded else "FAILED",
        "StopDate": turn.timestamp,
    }
    if child.succeeded:
        entry["Output"] = flow.compact_json(child.output)
        entry["OutputDetails"] = {"Included": True}
        entry["RedriveStatusReason"] = "Execution is SUCCEEDED and cannot be redriven"
    else:
        failure = child.output if isinstance(child.output, dict) else {}
        entry["Error"] = failure.get("Error")
        if failure.get("Cause") is not None:
            entry["Cause"] = failure["Cause"]
    return entry


def child_execution_arn(map_run_arn: str, index: int) -> str:
    """The ARN of child ``index`` of a Map Run: ``…:execution:MACHINE/LABEL:NAME``, as AWS's."""
    head, _, tail = map_run_arn.partition(":mapRun:")
    machine_label = tail.rsplit(":", 1)[0]
    return f"{head}:execution:{machine_label}:{_child_name(map_run_arn, index)}"


def _child_name(map_run_arn: str, index: int) -> str:
    """A UUID-shaped name, the same for the same Map Run and index (a name-based UUID, v5)."""
    digest = hashlib.sha1(f"{map_run_arn}/{index}".encode(), usedforsecurity=False).digest()
    bits = int.from_bytes(digest[:16], "big")
    bits = (bits & ~(0xF << 76)) | (0x5 << 76)  # version 5: name-based (SHA-1)
    bits = (bits & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    digits = f"{bits:032x}"
    return "-".join((digits[:8], digits[8:12], digits[12:16], digits[16:20], digits[20:]))


def writer_request(
    turn: Turn,
    thread: Thread,
    state: MapState,
    config: WriterConfig,
    map_run_arn: str,
    entries: list[Json],
    statuses: list[str],
) -> dict[str, Json]:
    """What `WRITE_RESULTS` gets: where to write, how, and each entry with its status."""
    writer = state.result_writer
    assert isinstance(writer, dict)
    return {
        "Resource": writer["Resource"],
        "Parameters": _arguments(turn, thread, state, writer, "ResultWriter"),
        "MapRunArn": map_run_arn,
        "OutputType": config.output_type,
        "Results": [
            {"Status": status, "Entry": entry}
            for status, entry in zip(statuses, entries, strict=True)
        ],
    }


def written_output(map_run_arn: str, output: Json) -> Json:
    """The Map's result once written: ``{"MapRunArn", "ResultWriterDetails"}`` as on AWS."""
    details = output.get("ResultWriterDetails") if isinstance(output, dict) else None
    return {"MapRunArn": map_run_arn, "ResultWriterDetails": details}


def entry_statuses(children: list[ChildResult], transformation: str) -> list[str]:
    """The status of each entry `result_entries` makes (FLATTEN spreads a child's array)."""
    statuses: list[str] = []
    for child in children:
        count = 1
        if child.succeeded and transformation == "FLATTEN" and isinstance(child.output, list):
            count = len(child.output)
        statuses.extend(["SUCCEEDED" if child.succeeded else "FAILED"] * count)
    return statuses
