"""Migrations build exactly the schema the tables declare, on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
import shutil
import sqlite3
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, inspect
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from engine._interpreter.snapshot import Thread, ThreadStatus
from engine._interpreter.turn import StepResult
from engine._records import ExecutionRecord
from engine._store import migrate
from engine._store.checkpoint import execution_from_json, thread_to_json
from engine._store.db import make_engine
from engine._store.migrate import check, current, downgrade, drift, head, new_revision, upgrade
from engine._store.repository import Store
from tests.store.migrator import upgrade_together

TABLES = {
    "definitions",
    "executions",
    "history_events",
    "outbox",
    "state_machine_versions",
    "state_machines",
    "tasks",
    "threads",
    "timers",
    "workers",
    "duties",
    "queues",
    "queue_messages",
    "topics",
    "subscriptions",
    "event_rules",
    "event_buses",
    "activities",
    "child_executions",
    "map_run_executions",
    "continuations",
    "state_machine_aliases",
    "resource_tags",
    "map_runs",
}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _open(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.connect():
            pass  # the first connection puts a new SQLite file in WAL mode
    finally:
        engine.dispose()


def test_upgrade_brings_an_empty_database_to_head(database_url: str) -> None:
    # Given an empty database
    assert current(database_url) is None
    assert not check(database_url)
    # When it is upgraded
    upgrade(database_url)
    # Then it is at the latest revision with every table, and upgrading again changes nothing
    assert current(database_url) == head() == "0011"
    assert check(database_url)
    assert _tables(database_url) == TABLES == set(SQLModel.metadata.tables)
    upgrade(database_url)
    assert current(database_url) == head()


def test_the_migrated_schema_matches_the_tables(database_url: str) -> None:
    # Given a migrated database
    upgrade(database_url)
    # When Alembic's autogenerate compares it with the tables' metadata
    differences = drift(database_url)
    # Then there is no difference: a table change without a migration fails here
    assert differences == [], (
        "engine/_store/tables.py and the migrations disagree; write a revision with "
        "engine._store.migrate.new_revision(url, 'what changed') and review it"
    )


def test_the_drift_check_sees_a_table_change_without_a_migration(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a migrated database, and tables that gained a column and a table since
    upgrade(database_url)
    changed = MetaData()
    for table in SQLModel.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["timers"].append_column(Column("note", Integer, nullable=True))
    Table("audit", changed, Column("id", Integer, primary_key=True))
    monkeypatch.setattr(SQLModel, "metadata", changed)
    # When the schema is compared with them
    differences = drift(database_url)
    # Then both changes are reported
    assert sorted(d[0] for d in differences) == ["add_column", "add_table"]


def test_downgrade_to_base_removes_every_table_and_upgrade_restores_them(
    database_url: str,
) -> None:
    # Given a migrated database
    upgrade(database_url)
    # When it is downgraded to base
    downgrade(database_url, "base")
    # Then no table is left, and upgrading again rebuilds the same schema
    assert current(database_url) is None
    assert _tables(database_url) == set()
    upgrade(database_url)
    assert _tables(database_url) == TABLES
    assert drift(database_url) == []


ARN = "arn:aws:states:us-east-1:111111111111:execution:orders:old"
NOW = datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
OLD_HEADER = {
    "arn": ARN,
    "name": "old",
    "state_machine_arn": "arn:aws:states:us-east-1:111111111111:stateMachine:orders",
    "state_machine_name": "orders",
    "role_arn": "arn:aws:iam::111111111111:role/r",
    "start_time": "2026-01-01T00:00:00.000Z",
    "input": {"order": 7},
    "seed": 1,
    "next_event_id": 1,
    "status": "RUNNING",
    "output": None,
    "error": None,
    "cause": None,
    "redrive_count": 0,
}


def _insert_0001_execution(url: str) -> None:
    """An execution as revision 0001 stored it: the input inside the header."""
    engine = make_engine(url)
    executions = Table("executions", MetaData(), autoload_with=engine)
    try:
        with engine.begin() as db:
            db.execute(
                executions.insert().values(
                    arn=ARN,
                    machine_arn=OLD_HEADER["state_machine_arn"],
                    name="old",
                    type="STANDARD",
                    status="RUNNING",
                    start_date=datetime(2026, 1, 1, tzinfo=UTC),
                    definition_hash="0" * 64,
                    header=OLD_HEADER,
                )
            )
    finally:
        engine.dispose()


def test_an_execution_stored_before_0002_keeps_its_input_after_the_upgrade(
    database_url: str,
) -> None:
    # Given an execution written at revision 0001 (its input inside the header)
    upgrade(database_url, "0001")
    _insert_0001_execution(database_url)
    # When the store is upgraded and the execution read and checkpointed by today's code
    upgrade(database_url)
    store = Store(make_engine(database_url))
    execution_id = store.execution_id(ARN)
    assert execution_id is not None
    with store.session(execution_id) as session:
        assert session.load()
        session.apply(StepResult(replace(session.header, next_event_id=2)), NOW)
    # Then its input is intact
    record = store.execution(ARN)
    assert record is not None
    assert record.input == {"order": 7}
    store.engine.dispose()


def test_a_downgrade_to_0001_puts_each_input_back_into_its_header(database_url: str) -> None:
    # Given an execution written by today's code (its input in a column of its own)
    upgrade(database_url)
    store = Store(make_engine(database_url))
    header = execution_from_json({**OLD_HEADER, "input": {"order": 8}})
    record = ExecutionRecord(
        arn=ARN,
        machine_arn=OLD_HEADER["state_machine_arn"],
        name="old",
        type="STANDARD",
        status="RUNNING",
        start_date=datetime(2026, 1, 1, tzinfo=UTC),
        input={"order": 8},
    )
    with store.session() as session:
        session.create_execution(record, "{}", header)
    store.engine.dispose()
    # When the store is downgraded to 0001
    downgrade(database_url, "0001")
    # Then the header holds the input again
    engine = make_engine(database_url)
    executions = Table("executions", MetaData(), autoload_with=engine)
    with engine.connect() as db:
        stored = db.execute(executions.select()).mappings().one()
    engine.dispose()
    assert "input" not in stored
    assert stored["header"]["input"] == {"order": 8}


def _rows(url: str, table: str) -> list[dict[str, Any]]:
    engine = make_engine(url)
    try:
        with engine.connect() as db:
            found = Table(table, MetaData(), autoload_with=engine)
            return [dict(row) for row in db.execute(found.select()).mappings()]
    finally:
        engine.dispose()


def test_a_thread_stored_before_0003_is_read_then_split_on_its_next_write(
    database_url: str,
) -> None:
    # Given a thread row written at revision 0002 (everything inside its snapshot)
    upgrade(database_url, "0002")
    _insert_0001_execution(database_url)
    thread = Thread(
        id="root", parent_id=None, index=None, scope=(), status=ThreadStatus.RUNNING,
        state="A", seq=3, input={"items": [1, 2, 3]}, variables={"x": 1},
    )  # fmt: skip
    engine = make_engine(database_url)
    threads = Table("threads", MetaData(), autoload_with=engine)
    with engine.begin() as db:
        db.execute(
            threads.insert().values(
                execution_id=1, thread_id="root", parent_id=None, status="RUNNING", seq=3,
                snapshot=thread_to_json(thread),
            )
        )  # fmt: skip
    engine.dispose()
    # When the store is upgraded, the thread read, and checkpointed once more
    upgrade(database_url)
    store = Store(make_engine(database_url))
    assert store.threads(1) == [thread]
    with store.session(1) as session:
        assert session.load("root")
        session.apply(StepResult(session.header, threads=(replace(thread, seq=4),)), NOW)
    assert store.threads(1) == [replace(thread, seq=4)]
    store.engine.dispose()
    # Then the row is split: the input and variables moved to the bulk column
    (row,) = _rows(database_url, "threads")
    assert row["bulk"] == {"input": {"items": [1, 2, 3]}, "effective": None,
                           "variables": {"x": 1}, "output": None}  # fmt: skip
    assert "input" not in row["snapshot"]
    # And a downgrade to 0002 merges it back
    downgrade(database_url, "0002")
    (row,) = _rows(database_url, "threads")
    assert "bulk" not in row
    assert row["snapshot"]["input"] == {"items": [1, 2, 3]}


def test_concurrent_upgrades_of_one_database_both_succeed(database_url: str) -> None:
    # Given a store that exists (SQLite in WAL mode) but has no tables yet, and two
    # processes starting at once (a release job and a worker)
    _open(database_url)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    processes = [
        context.Process(target=upgrade_together, args=(barrier, database_url)) for _ in range(2)
    ]
    # When both upgrade it
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    # Then one migrated while the other waited, and found nothing left to do
    assert [process.exitcode for process in processes] == [0, 0]
    assert current(database_url) == head()
    assert drift(database_url) == []


def test_new_revision_writes_the_next_numbered_revision(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a copy of the migrations, a database at head, and tables with one more column
    scripts = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    upgrade(database_url)
    changed = MetaData()
    for table in SQLModel.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["timers"].append_column(Column("note", AutoString(length=40), nullable=True))
    monkeypatch.setattr(SQLModel, "metadata", changed)
    latest = head()
    following = f"{int(latest) + 1:04d}"
    # When a revision is generated
    path = new_revision(database_url, "timer notes", scripts=scripts)
    # Then it takes the next number, follows the latest and adds the column with a plain type
    assert path.name == f"{following}_timer_notes.py"
    assert head(scripts) == following
    source = path.read_text()
    assert f"down_revision = '{latest}'" in source
    assert "sa.Column('note', sa.String(length=40), nullable=True)" in source
    assert "sqlmodel" not in source


def test_opening_a_new_sqlite_store_waits_while_another_process_holds_its_lock(
    tmp_path: Path,
) -> None:
    # (Two workers starting together on a fresh embedded store: fixed in 71d4de0.)
    # Given a new SQLite store whose first writer (still in rollback-journal mode) holds the lock
    path = tmp_path / "store.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("CREATE TABLE first_writer (x INTEGER)")
    errors: list[BaseException] = []

    def open_store() -> None:
        try:
            _open(f"sqlite:///{path}")
        except BaseException as error:
            errors.append(error)

    opener = threading.Thread(target=open_store)
    # When another process opens the store meanwhile
    opener.start()
    opener.join(timeout=1)  # bounded: a waiting opener is still running here
    holder.execute("COMMIT")
    holder.close()
    opener.join(timeout=30)
    # Then it waited for the lock instead of failing
    assert errors == []


def test_a_machine_published_before_0005_never_reuses_a_deleted_versions_number(
    database_url: str,
) -> None:
    # Given a machine with versions 1 and 2, stored at revision 0004
    upgrade(database_url, "0004")
    machine_arn = "arn:aws:states:us-east-1:111111111111:stateMachine:old"
    engine = make_engine(database_url)
    tables = MetaData()
    machines = Table("state_machines", tables, autoload_with=engine)
    versions = Table("state_machine_versions", tables, autoload_with=engine)
    definitions = Table("definitions", tables, autoload_with=engine)
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as db:
        db.execute(definitions.insert().values(hash="0" * 64, text="{}"))
        db.execute(
            machines.insert().values(
                arn=machine_arn, name="old", type="STANDARD", definition_hash="0" * 64,
                role_arn="role", status="ACTIVE", creation_date=moment, revision_id="r",
            )
        )  # fmt: skip
        for number in (1, 2):
            db.execute(
                versions.insert().values(
                    arn=f"{machine_arn}:{number}", machine_arn=machine_arn, number=number,
                    definition_hash="0" * 64, role_arn="role", creation_date=moment,
                )
            )  # fmt: skip
    engine.dispose()
    # When the store is upgraded and version 2 deleted
    upgrade(database_url)
    store = Store(make_engine(database_url))
    store.delete_version(f"{machine_arn}:2")
    # Then the machine still numbers its next version 3
    machine = store.machine(machine_arn)
    assert machine is not None
    assert machine.latest_version == 2
    store.engine.dispose()
