"""Statements every step runs, compiled once per dialect and sent straight to the driver.

A step runs the same few statements thousands of times a second. SQLAlchemy Core spends
30-90 µs of Python on each execution (cache key, parameter construction, result set-up,
event dispatch) against 3-10 µs for the driver itself: most of a step's CPU on SQLite.
:class:`Prepared` keeps the statement written in Core (one definition, the dialects'
own SQL), compiles it once per dialect, and runs it on the DBAPI cursor of the step's
connection, with the column types' own bind and result processors, so what is stored
and read is exactly what Core would store and read (ADR 0049).

Errors are raised as SQLAlchemy's exception types, and a lost connection is invalidated,
as Core does: the callers' outage handling (``db.OUTAGES``) sees no difference.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import BindParameter

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Compiled:
    """A statement's SQL for one dialect, and how to turn parameters into driver values."""

    sql: str
    names: tuple[str, ...]  # the parameters, in the order a positional paramstyle wants
    positional: bool
    fixed: Mapping[str, Any]  # parameters with a value in the statement itself
    processors: Mapping[str, Processor]
    columns: tuple[str, ...]  # a SELECT's result columns
    results: tuple[Processor | None, ...]


class Prepared:
    """A Core statement run on the driver's cursor; compiled on first use per dialect."""

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._by_key: dict[tuple[str, tuple[str, ...] | None], _Compiled] = {}

    def execute(self, db: Connection, parameters: Mapping[str, Any]) -> None:
        """Execute once with ``parameters`` (a write: no rows are read)."""
        compiled = self._compiled(db.dialect, parameters)
        _run(db, compiled, lambda cursor: cursor.execute(compiled.sql, _bind(compiled, parameters)))

    def execute_many(self, db: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Execute once per parameter set in ``rows`` (one ``executemany``)."""
        if not rows:
            return
        compiled = self._compiled(db.dialect, rows[0])
        values = [_bind(compiled, row) for row in rows]
        _run(db, compiled, lambda cursor: cursor.executemany(compiled.sql, values))

    def first(self, db: Connection, parameters: Mapping[str, Any]) -> dict[str, Any] | None:
        """The first row a SELECT (or a RETURNING clause) reads, as a dict by column, or None."""
        compiled = self._compiled(db.dialect, parameters)

        def fetch(cursor: Any) -> Any:
            cursor.execute(compiled.sql, _bind(compiled, parameters))
            return cursor.fetchone()

        row = _run(db, compiled, fetch)
        if row is None:
            return None
        return {
            name: value if process is None else process(value)
            for name, value, process in zip(compiled.columns, row, compiled.results, strict=True)
        }

    def _compiled(self, dialect: Dialect, parameters: Mapping[str, Any]) -> _Compiled:
        # An INSERT names the columns it is given (as Core does): the rest take defaults.
        columns = tuple(parameters) if self.statement.is_insert else None
        key = (dialect.name, columns)
        compiled = self._by_key.get(key)
        if compiled is None:
            compiled = self._by_key[key] = _compile(self.statement, dialect, columns)
        return compiled


def _compile(statement: Any, dialect: Dialect, columns: tuple[str, ...] | None) -> _Compiled:
    compiled = statement.compile(dialect=dialect, column_keys=columns)
    binds: dict[str, BindParameter[Any]] = compiled.binds
    processors: dict[str, Processor] = {}
    fixed: dict[str, Any] = {}
    for name, bind in binds.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors[name] = process
        if not bind.required:
            fixed[name] = bind.effective_value
    # Columns whose default Core computes in Python (a missing key takes it, as in Core).
    for column in compiled.insert_prefetch:
        default = column.default
        if not default.is_scalar:
            raise TypeError(f"Prepared: {column} has a default that is not a constant")
        fixed[column.key] = default.arg
    if compiled.update_prefetch:
        raise TypeError(f"Prepared: {statement} sets columns with an onupdate default")
    positional = bool(compiled.positional)
    names = tuple(compiled.positiontup or ()) if positional else tuple(binds)
    names_read: tuple[str, ...] = ()
    results: tuple[Processor | None, ...] = ()
    # What a SELECT, or a write's RETURNING clause, reads.
    selected = list(
        statement.selected_columns if statement.is_select else statement.exported_columns
    )
    if selected:
        names_read = tuple(column.key for column in selected)
        results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in selected
        )
    return _Compiled(compiled.string, names, positional, fixed, processors, names_read, results)


def _bind(compiled: _Compiled, parameters: Mapping[str, Any]) -> Any:
    values = {**compiled.fixed, **parameters} if compiled.fixed else parameters
    processors = compiled.processors
    if compiled.positional:
        return tuple(
            processors[name](values[name]) if name in processors else values[name]
            for name in compiled.names
        )
    return {
        name: processors[name](values[name]) if name in processors else values[name]
        for name in compiled.names
    }


def _run(db: Connection, compiled: _Compiled, call: Callable[[Any], Any]) -> Any:
    """Run ``call`` on a cursor of ``db``'s driver connection, raising as Core would."""
    driver = db.connection.driver_connection
    dialect = db.dialect
    cursor = driver.cursor()  # type: ignore[union-attr]
    try:
        return call(cursor)
    except dialect.loaded_dbapi.Error as error:
        lost = dialect.is_disconnect(error, driver, cursor)
        if lost:
            db.invalidate(error)
        raise exc.DBAPIError.instance(
            compiled.sql,
            None,
            error,
            dialect.loaded_dbapi.Error,
            connection_invalidated=lost,
            dialect=dialect,
        ) from error
    finally:
        cursor.close()
