"""The ``map_runs`` table: each Distributed Map's Map Run, as the interpreter last saw it.

A step that moves a Map Run (it started, a child ended, it succeeded or failed) writes its
row in the step's transaction; ListMapRuns and DescribeMapRun read it. Its children's
``map_run_executions`` rows are written the same way (ADR 0034).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite

from engine._records import ChildExecutionRecord, MapRunRecord
from engine._store.rows import EXECUTIONS
from engine._store.tables import MapRunExecutionRow, MapRunRow

MAP_RUNS = MapRunRow.__table__  # type: ignore[attr-defined]
_PROGRESS = (
    "status",
    "stop_date",
    "max_concurrency",
    "tolerated_failure_count",
    "tolerated_failure_percentage",
    "execution_counts",
    "item_counts",
)


def _save(insert_into: Any) -> Any:
    """INSERT a Map Run, or move the one with its ARN on (its start date stays)."""
    columns = ("arn", "execution_id", "thread_id", "start_date", *_PROGRESS)
    statement = insert_into(MAP_RUNS).values({name: bindparam(name) for name in columns})
    return statement.on_conflict_do_update(
        index_elements=["arn"],
        set_={name: getattr(statement.excluded, name) for name in _PROGRESS},
    )


SAVE_MAP_RUN = {"postgresql": _save(postgresql.insert), "sqlite": _save(sqlite.insert)}


def map_run_row(execution_id: int, record: MapRunRecord) -> dict[str, Any]:
    """The parameters of :data:`SAVE_MAP_RUN` for ``record``."""
    return {
        "arn": record.arn,
        "execution_id": execution_id,
        "thread_id": record.thread_id,
        "status": record.status,
        "start_date": record.start_date,
        "stop_date": record.stop_date,
        "max_concurrency": record.max_concurrency,
        "tolerated_failure_count": record.tolerated_failure_count,
        "tolerated_failure_percentage": record.tolerated_failure_percentage,
        "execution_counts": record.execution_counts,
        "item_counts": record.item_counts,
    }


def _record(row: Any) -> MapRunRecord:
    return MapRunRecord(
        arn=row["arn"],
        execution_arn=row["execution_arn"],
        thread_id=row["thread_id"],
        status=row["status"],
        start_date=row["start_date"],
        stop_date=row["stop_date"],
        max_concurrency=row["max_concurrency"],
        tolerated_failure_count=row["tolerated_failure_count"],
        tolerated_failure_percentage=row["tolerated_failure_percentage"],
        execution_counts=dict(row["execution_counts"]),
        item_counts=dict(row["item_counts"]),
    )


def _with_execution_arn(table: Any) -> Any:
    """SELECT ``table``'s rows with the ARN of the execution each belongs to."""
    return select(table, EXECUTIONS.c.arn.label("execution_arn")).join(
        EXECUTIONS, EXECUTIONS.c.id == table.c.execution_id
    )


def map_run(db: Connection, arn: str) -> MapRunRecord | None:
    """The Map Run ``arn``, or None."""
    row = db.execute(_with_execution_arn(MAP_RUNS).where(MAP_RUNS.c.arn == arn)).mappings().first()
    return _record(row) if row is not None else None


def map_runs(db: Connection, execution_arn: str) -> list[MapRunRecord]:
    """The Map Runs of an execution, newest first."""
    query = _with_execution_arn(MAP_RUNS).where(EXECUTIONS.c.arn == execution_arn)
    query = query.order_by(MAP_RUNS.c.start_date.desc(), MAP_RUNS.c.arn)
    return [_record(row) for row in db.execute(query).mappings()]


# --- child executions (ADR 0034) -----------------------------------------------------------

CHILDREN = MapRunExecutionRow.__table__  # type: ignore[attr-defined]
_CHILD_COLUMNS = (
    "arn",
    "map_run_arn",
    "execution_id",
    "child_index",
    "status",
    "start_date",
    "stop_date",
    "item_count",
    "input",
    "output",
    "error",
    "cause",
    "redrive_count",
    "redrive_date",
)
_CHILD_ENDING = ("status", "stop_date", "output", "error", "cause")


def _save_child(insert_into: Any) -> Any:
    """INSERT a child execution, or move the one with its ARN on.

    Its start (input, date, index) stays; ``redrive_count`` is what this step adds to it.
    """
    statement = insert_into(CHILDREN).values({name: bindparam(name) for name in _CHILD_COLUMNS})
    moved = {name: getattr(statement.excluded, name) for name in _CHILD_ENDING}
    moved["redrive_count"] = CHILDREN.c.redrive_count + statement.excluded.redrive_count
    moved["redrive_date"] = func.coalesce(statement.excluded.redrive_date, CHILDREN.c.redrive_date)
    return statement.on_conflict_do_update(index_elements=["arn"], set_=moved)


SAVE_CHILD = {"postgresql": _save_child(postgresql.insert), "sqlite": _save_child(sqlite.insert)}


def child_row(execution_id: int, record: ChildExecutionRecord, redrives: int) -> dict[str, Any]:
    """The parameters of :data:`SAVE_CHILD`: ``record``, with ``redrives`` new redrives."""
    return {
        "arn": record.arn,
        "map_run_arn": record.map_run_arn,
        "execution_id": execution_id,
        "child_index": record.index,
        "status": record.status,
        "start_date": record.start_date,
        "stop_date": record.stop_date,
        "item_count": record.item_count,
        "input": record.input,
        "output": record.output,
        "error": record.error,
        "cause": record.cause,
        "redrive_count": redrives,
        "redrive_date": record.redrive_date,
    }


def _child(row: Any) -> ChildExecutionRecord:
    return ChildExecutionRecord(
        arn=row["arn"],
        map_run_arn=row["map_run_arn"],
        execution_arn=row["execution_arn"],
        index=row["child_index"],
        status=row["status"],
        start_date=row["start_date"],
        input=row["input"],
        item_count=row["item_count"],
        stop_date=row["stop_date"],
        output=row["output"],
        error=row["error"],
        cause=row["cause"],
        redrive_count=row["redrive_count"],
        redrive_date=row["redrive_date"],
    )


def child_execution(db: Connection, arn: str) -> ChildExecutionRecord | None:
    """The child execution ``arn``, or None."""
    row = db.execute(_with_execution_arn(CHILDREN).where(CHILDREN.c.arn == arn)).mappings().first()
    return _child(row) if row is not None else None


def child_executions(db: Connection, map_run_arn: str) -> list[ChildExecutionRecord]:
    """Every child execution of a Map Run, in index order."""
    query = _with_execution_arn(CHILDREN).where(CHILDREN.c.map_run_arn == map_run_arn)
    query = query.order_by(CHILDREN.c.child_index)
    return [_child(row) for row in db.execute(query).mappings()]
