"""The ``map_runs`` table: each Distributed Map's Map Run, as the interpreter last saw it.

A step that moves a Map Run (it started, a child ended, it succeeded or failed) writes its
row in the step's transaction; ListMapRuns and DescribeMapRun read it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from engine._records import MapRunRecord
from engine._store.rows import EXECUTIONS
from engine._store.tables import MapRunRow

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


def _query() -> Any:
    return select(MAP_RUNS, EXECUTIONS.c.arn.label("execution_arn")).join(
        EXECUTIONS, EXECUTIONS.c.id == MAP_RUNS.c.execution_id
    )


def map_run(db: Connection, arn: str) -> MapRunRecord | None:
    """The Map Run ``arn``, or None."""
    row = db.execute(_query().where(MAP_RUNS.c.arn == arn)).mappings().first()
    return _record(row) if row is not None else None


def map_runs(db: Connection, execution_arn: str) -> list[MapRunRecord]:
    """The Map Runs of an execution, newest first."""
    query = _query().where(EXECUTIONS.c.arn == execution_arn)
    query = query.order_by(MAP_RUNS.c.start_date.desc(), MAP_RUNS.c.arn)
    return [_record(row) for row in db.execute(query).mappings()]
