"""Database engines for the store: SQLite (WAL, the embedded default) and PostgreSQL.

Nothing is created at import time; callers build an engine from a URL they read at the
process edge.
"""

from __future__ import annotations

import select
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.pool import StaticPool

OUTAGES: tuple[type[Exception], ...] = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError)
"""What an unreachable, restarting or failing-over database raises: worth retrying.

Constraint violations, bad SQL and the like are bugs and are not among them."""


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and IMMEDIATE transactions."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, echo=echo)
    # No pre-ping: it is a round trip on every checkout, about a fifth of a step on
    # PostgreSQL. A server that ended a pooled connection (a restart, a failover,
    # pg_terminate_backend) has said so on its socket, which a checkout sees for the price
    # of a poll; a connection that dies unseen fails its first statement, the pool then
    # drops every connection older than the failure and the caller runs its transaction
    # again (`again_if_connection_lost`; Celery's outage retry otherwise).
    engine = create_engine(url, echo=echo, future=True, connect_args=_server_options(url))
    event.listen(engine, "checkout", _refuse_if_server_hung_up)
    return engine


def _refuse_if_server_hung_up(connection: Any, _record: Any, _proxy: Any) -> None:
    # An idle connection has nothing to read unless the server closed it or sent the error
    # that ends it: then the pool discards it and checks out another (SQLAlchemy's
    # documented DisconnectionError protocol).
    # poll, not select: a busy process's descriptors can pass select's FD_SETSIZE (1024).
    poller = select.poll()
    poller.register(connection.fileno(), select.POLLIN)
    if poller.poll(0):
        raise exc.DisconnectionError("the server closed this pooled connection")


T = TypeVar("T")


def again_if_connection_lost(transaction: Callable[[], T]) -> T:
    """Run ``transaction``; once more if it failed on a connection that had died.

    A connection that died while pooled (the database restarted, failed over, or dropped it)
    fails on its first statement with ``connection_invalidated``: the transaction rolled
    back, and the pool has replaced every connection older than the failure, so the
    second run gets a live one. Any other error, or a second failure, is raised.
    """
    try:
        return transaction()
    except OUTAGES as error:
        if not getattr(error, "connection_invalidated", False):
            raise
    return transaction()


IDLE_TRANSACTION_TIMEOUT_MS = 10_000
"""PostgreSQL ends a transaction left idle this long: a frozen worker (SIGSTOP, a stalled
VM) must not hold an execution's row lock while the others wait (ADR 0035). A step's
transaction is never idle for more than milliseconds."""


def _server_options(url: str) -> dict[str, Any]:
    if not url.startswith("postgresql"):
        return {}
    return {"options": f"-c idle_in_transaction_session_timeout={IDLE_TRANSACTION_TIMEOUT_MS}"}


def _sqlite_engine(url: str, *, echo: bool) -> Engine:
    memory = url in ("sqlite://", "sqlite:///:memory:")
    if not memory:
        database = url.split(":///", 1)[-1]
        Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": 30},
        poolclass=StaticPool if memory else None,
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin_immediate)
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling is off: "begin" below issues BEGIN IMMEDIATE, so
    # writers queue on the database lock instead of failing a read-to-write upgrade.
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    _use_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


BUSY_TIMEOUT_MS = 30_000


def _use_wal(cursor: Any) -> None:
    """Switch the database to WAL once (the mode persists in the file).

    SQLite does not call its busy handler for this switch, so while another process holds
    the lock of a brand-new store (two workers starting together) it is retried here.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
                return
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _sqlite_begin_immediate(connection: Any) -> None:
    # Writers take the write lock up front; readers start a plain (deferred) transaction
    # and read a WAL snapshot without blocking anyone.
    if connection.get_execution_options().get(WRITE_OPTION):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


WRITE_OPTION = "stepline_write"


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction (``BEGIN IMMEDIATE`` on SQLite, so writers queue, never deadlock)."""
    with engine.connect() as connection:
        connection = connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            yield connection


@contextmanager
def reading_one(engine: Engine) -> Iterator[Connection]:
    """A connection for a read of one statement: no transaction around it on PostgreSQL.

    One statement sees one snapshot on its own; without the transaction, the read is one
    round trip instead of three (BEGIN, the read, and the ROLLBACK of the pool's reset).
    """
    with engine.connect() as connection:
        if not is_sqlite(engine):
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection


def is_sqlite(engine: Engine) -> bool:
    """Whether ``engine`` talks to SQLite (no row locks: transactions serialise instead)."""
    return engine.dialect.name == "sqlite"


@contextmanager
def pipelined(connection: Connection) -> Iterator[None]:
    """Send the statements executed inside in one round trip where the driver can.

    psycopg's pipeline mode queues each statement and reads every result at the end, so
    only statements whose rows nobody reads belong here. Their errors surface at the end,
    raised as SQLAlchemy's exception types like any other statement's.
    """
    driver = connection.connection.driver_connection
    pipeline = getattr(driver, "pipeline", None)
    if pipeline is None:  # sqlite3: in-process, nothing to save
        with nullcontext():
            yield
        return
    import psycopg  # only reached with the psycopg driver

    try:
        with pipeline():
            yield
    except psycopg.Error as error:
        raise exc.DBAPIError.instance(None, None, error, psycopg.Error) from error
