"""The checkpoint's stored format: versioned dicts, upgraded on read, refused when unknown."""

from __future__ import annotations

from typing import Any

import pytest

from engine._interpreter.snapshot import Execution, ExecutionStatus, FanOut, Thread, ThreadStatus
from engine._store import checkpoint
from engine._store.checkpoint import (
    FORMAT_VERSION,
    CheckpointFormatError,
    execution_from_json,
    execution_to_json,
    thread_from_json,
    thread_from_parts,
    thread_parts,
    thread_to_json,
)

Json = Any
THREAD = Thread(
    id="root/1.0.2",
    parent_id="root",
    index=2,
    scope=("Map", 1),
    status=ThreadStatus.RUNNING,
    state="Double",
    input={"n": 2},
    variables={"x": [1]},
    fan_out=FanOut(total=3, started=1, ended="0"),
    retry_counts=(1,),
)
HEADER = Execution(
    arn="arn:aws:states:us-east-1:111111111111:execution:orders:e1",
    name="e1",
    state_machine_arn="arn:aws:states:us-east-1:111111111111:stateMachine:orders",
    state_machine_name="orders",
    role_arn="arn:aws:iam::111111111111:role/orders",
    start_time="2024-01-01T00:00:00.000Z",
    input={"order": 1},
    seed=7,
)


def test_every_dict_written_carries_the_format_version_and_round_trips() -> None:
    # Given a thread and a header
    # When they are written and read back
    snapshot, bulk = thread_parts(THREAD)
    header = execution_to_json(HEADER)
    # Then the stored dicts name the format version, and read back exactly
    assert snapshot["v"] == header["v"] == FORMAT_VERSION
    assert "v" not in bulk
    assert thread_from_parts(snapshot, bulk) == THREAD
    assert execution_from_json(header) == HEADER
    assert header["status"] == ExecutionStatus.RUNNING.value


def test_dicts_written_before_the_version_existed_still_load() -> None:
    # Given dicts as an earlier release stored them: no "v" key
    legacy_thread = {k: v for k, v in thread_to_json(THREAD).items() if k != "v"}
    legacy_header = {k: v for k, v in execution_to_json(HEADER).items() if k != "v"}
    # When they are read
    # Then they are version 0, whose fields are version 1's
    assert checkpoint.stored_version(legacy_thread) == 0
    assert thread_from_json(legacy_thread) == THREAD
    assert execution_from_json(legacy_header) == HEADER


def test_a_newer_format_is_refused_naming_its_version() -> None:
    # Given a thread written by a newer release
    newer = {**thread_to_json(THREAD), "v": FORMAT_VERSION + 1}
    # When it is read
    # Then the error names the version it found and the versions this release reads
    with pytest.raises(CheckpointFormatError, match=rf"version {FORMAT_VERSION + 1}.*0\.\.1"):
        thread_from_json(newer)


def test_an_unknown_field_is_refused_naming_the_version_and_the_field() -> None:
    # Given a header with a field no version of the format has
    odd = {**execution_to_json(HEADER), "colour": "blue"}
    # When it is read
    # Then the error names the format version and the field, never a bare TypeError
    with pytest.raises(
        CheckpointFormatError, match=r"format version 1.*unknown fields \['colour'\]"
    ):
        execution_from_json(odd)


def test_older_versions_are_upgraded_one_step_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a release at format 2 whose upgrade from 1 renames "state" to "at", then back
    def to_2(values: dict[str, Json]) -> dict[str, Json]:
        values = dict(values)
        values["at"] = values.pop("state")
        return values

    def reader_of_2(values: dict[str, Json]) -> dict[str, Json]:
        values = dict(values)
        values["state"] = values.pop("at")  # what that release's Thread would call it
        return values

    stored_at_1 = thread_to_json(THREAD)
    monkeypatch.setattr(checkpoint, "FORMAT_VERSION", 2)
    monkeypatch.setitem(checkpoint.THREAD_UPGRADES, 1, lambda v: reader_of_2(to_2(v)))
    # When a version-1 dict and a version-0 dict are read
    legacy = {k: v for k, v in stored_at_1.items() if k != "v"}
    # Then both went through every step up to 2 and built the same thread
    assert thread_from_json(stored_at_1) == THREAD
    assert thread_from_json(legacy) == THREAD
