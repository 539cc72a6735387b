"""Every golden checkpoint resumes to the history it was recorded with, on SQLite and PostgreSQL.

The files in ``checkpoints/`` are rows an earlier run of stepline wrote for executions paused
mid-flight (a Parallel, a Map, a Wait, a Retry backoff, a pending Task). This release must load
them into a fresh store, resume them through the runtime, and end with the recorded history.
The files are only ever read here; ``record.py`` writes them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine._store.repository import Store
from tests.golden.scenarios import GOLDEN, SCENARIOS, resume

Json = Any
FILES = sorted(GOLDEN.glob("*.json"))


def _golden(path: Path) -> dict[str, Json]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _without_versions(golden: dict[str, Json]) -> dict[str, Json]:
    """The same rows as a release before the checkpoint format version wrote them."""
    rows = golden["rows"]
    headers = [{**e, "header": _unversioned(e["header"])} for e in rows["executions"]]
    threads = [{**t, "snapshot": _unversioned(t["snapshot"])} for t in rows["threads"]]
    return {**golden, "rows": {**rows, "executions": headers, "threads": threads}}


def _unversioned(data: dict[str, Json]) -> dict[str, Json]:
    return {key: value for key, value in data.items() if key != "v"}


def test_there_is_a_golden_checkpoint_of_every_scenario() -> None:
    # Given the recorded files
    # When they are listed
    # Then each scenario has one, paused while running
    assert [p.stem for p in FILES] == sorted(s.name for s in SCENARIOS)
    for path in FILES:
        golden = _golden(path)
        assert [e["status"] for e in golden["rows"]["executions"]] == ["RUNNING"], path.name
        assert golden["history"][-1]["type"] == "ExecutionSucceeded", path.name


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_a_golden_checkpoint_resumes_to_its_recorded_history(store: Store, path: Path) -> None:
    # Given the rows of an execution paused mid-flight, loaded into a fresh store
    golden = _golden(path)
    # When it is resumed with this release's runtime until nothing is left to do
    history = resume(store, golden)
    # Then it ended with exactly the recorded events (ids, types, timestamps, details)
    assert history == golden["history"]


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_checkpoints_written_before_the_format_version_resume_too(store: Store, path: Path) -> None:
    # Given the same rows without the format version key (as older releases wrote them)
    golden = _without_versions(_golden(path))
    # When they are resumed
    history = resume(store, golden)
    # Then they are read as version 0 and end the same way
    assert history == golden["history"]
