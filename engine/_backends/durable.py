"""The durable backend of `engine._api.Client`: SQL store + `Runtime` (Celery in production)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

from engine._errors import (
    InvalidToken,
    ServiceUnavailable,
    StoreUnreachable,
    TaskDoesNotExist,
    TaskTimedOut,
)
from engine._interpreter.events import Event, MapRunUpdated
from engine._interpreter.history import HistoryEvent
from engine._records import (
    AliasRecord,
    ChildExecutionRecord,
    Compiled,
    ExecutionQuery,
    ExecutionRecord,
    ExecutionSummary,
    MachineRecord,
    MapRunRecord,
    Page,
    VersionRecord,
)
from engine._resources import DEFAULT_REGISTRY, HandlerRegistry
from engine._runtime import CallbackOutcome, Runtime
from engine._store.db import OUTAGES, again_if_connection_lost
from engine._store.repository import Store

Json = Any
C = TypeVar("C", bound=type)

_OUTAGES: tuple[type[Exception], ...] = (*OUTAGES, StoreUnreachable)  # retry may succeed


def _outages_are_unavailable(cls: C) -> C:
    """Make every public method of ``cls`` raise `ServiceUnavailable` when the store is down.

    The API's callers then get a retryable ClientError (HTTP 503), as from AWS, instead of
    a driver's exception; one decorator so that no method of the backend can miss it.
    """
    for name, method in list(vars(cls).items()):
        if callable(method) and not name.startswith("_"):
            setattr(cls, name, _unavailable_on_outage(method))
    return cls


def _unavailable_on_outage(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: DurableBackend, *args: Any, **kwargs: Any) -> Any:
        try:
            return again_if_connection_lost(lambda: method(self, *args, **kwargs))
        except _OUTAGES as error:
            raise ServiceUnavailable(_unreachable(self.store, error)) from error

    return call


def _unreachable(store: Store, error: BaseException) -> str:
    url = store.engine.url.render_as_string(hide_password=True)
    cause = getattr(error, "orig", None) or error
    reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    return f"Service Unavailable: the store at {url} cannot be reached ({reason}); retry later"


@_outages_are_unavailable
class DurableBackend:
    """Machines and executions in SQL; executions advance on workers through the runtime."""

    def __init__(
        self, store: Store, runtime: Runtime, handlers: HandlerRegistry | None = None
    ) -> None:
        self.store = store
        self.runtime = runtime
        self.handlers = handlers if handlers is not None else DEFAULT_REGISTRY

    def save_machine(self, record: MachineRecord) -> None:
        """Insert or replace ``record``."""
        self.store.save_machine(record)

    def machine(self, arn: str) -> MachineRecord | None:
        """The machine with ``arn``, or None."""
        return self.store.machine(arn)

    def version(self, arn: str) -> VersionRecord | None:
        """The published version with ``arn``, or None."""
        return self.store.version(arn)

    def machines_page(self, limit: int, token: str | None) -> Page[MachineRecord]:
        """A page of machines, oldest first (keyset-paged in SQL)."""
        return self.store.machines_page(limit, token)

    def versions_page(self, machine_arn: str, limit: int, token: str | None) -> Page[VersionRecord]:
        """A page of a machine's versions, newest first."""
        return self.store.versions_page(machine_arn, limit, token)

    def delete_machine(self, arn: str) -> None:
        """Delete a machine with its versions, aliases and tags."""
        self.store.delete_machine(arn)

    def purge_if_deleting(self, arn: str) -> None:
        """Delete the DELETING machine ``arn`` if none of its executions runs any more."""
        self.store.purge_if_deleting(arn)

    def delete_version(self, arn: str) -> None:
        """Delete a published version."""
        self.store.delete_version(arn)

    def save_alias(self, record: AliasRecord) -> None:
        """Insert or replace an alias."""
        self.store.save_alias(record)

    def alias(self, arn: str) -> AliasRecord | None:
        """The alias with ``arn``, or None."""
        return self.store.alias(arn)

    def aliases_page(self, machine_arn: str, limit: int, token: str | None) -> Page[AliasRecord]:
        """A page of a machine's aliases, by name (keyset-paged in SQL)."""
        return self.store.aliases_page(machine_arn, limit, token)

    def delete_alias(self, arn: str) -> None:
        """Delete an alias."""
        self.store.delete_alias(arn)

    def tags(self, arn: str) -> dict[str, str]:
        """The tags of resource ``arn``."""
        return self.store.tags(arn)

    def save_tags(self, arn: str, tags: dict[str, str]) -> None:
        """Replace the tags of resource ``arn``."""
        self.store.save_tags(arn, tags)

    def execution_definition(self, arn: str) -> tuple[str, str] | None:
        """The definition text and role the execution ``arn`` runs with, or None."""
        return self.store.execution_definition(arn)

    def execution(self, arn: str) -> ExecutionRecord | None:
        """The execution with ``arn``, or None."""
        return self.store.execution(arn)

    def executions_page(
        self,
        machine_arn: str,
        *,
        version_arn: str | None = None,
        alias_arn: str | None = None,
        status: str | None = None,
        redriven: bool | None = None,
        limit: int = 0,
        token: str | None = None,
    ) -> Page[ExecutionRecord]:
        """A page of a machine's executions, newest first (filtered and paged in SQL)."""
        return self.store.executions_page(
            machine_arn,
            version_arn=version_arn,
            alias_arn=alias_arn,
            status=status,
            redriven=redriven,
            limit=limit,
            token=token,
        )

    def search_executions(
        self, query: ExecutionQuery, *, limit: int = 50, token: str | None = None
    ) -> Page[ExecutionSummary]:
        """A page of any machine's executions, newest first (the console's listing)."""
        return self.store.search_executions(query, limit=limit, token=token)

    def history(self, arn: str) -> list[HistoryEvent]:
        """An execution's history."""
        return self.store.history(arn)

    def history_page(
        self, arn: str, *, limit: int = 0, reverse: bool = False, token: str | None = None
    ) -> Page[HistoryEvent]:
        """A page of an execution's history (keyset-paged in SQL)."""
        return self.store.history_page(arn, limit=limit, reverse=reverse, token=token)

    def map_run(self, arn: str) -> MapRunRecord | None:
        """The Map Run ``arn``, or None."""
        return self.store.map_run(arn)

    def map_runs(self, execution_arn: str) -> list[MapRunRecord]:
        """The Map Runs of an execution, newest first."""
        return self.store.map_runs(execution_arn)

    def child_execution(self, arn: str) -> ChildExecutionRecord | None:
        """The Distributed Map child execution ``arn``, or None."""
        return self.store.child_execution(arn)

    def child_executions(self, map_run_arn: str) -> list[ChildExecutionRecord]:
        """Every child execution of a Map Run, in index order."""
        return self.store.child_executions(map_run_arn)

    def update_map_run(self, run: MapRunRecord, update: MapRunUpdated) -> None:
        """Deliver ``update`` to the Map's thread in a step of its own."""
        execution_id = self.store.execution_id(run.execution_arn)
        if execution_id is not None:
            self.runtime.update_map_run(execution_id, update)

    def start(self, record: ExecutionRecord, compiled: Compiled, seed: int) -> ExecutionRecord:
        """Commit ExecutionStarted and publish the first step; returns at once.

        One transaction (ADR 0014): the same start made twice returns the first one.

        Raises:
            ExecutionAlreadyExists: the name is taken by another start.
        """
        created = self.runtime.start(
            record, compiled.text, seed, compiled.role_arn, compiled.machine
        )
        return created.record

    def stop(self, arn: str, error: str | None, cause: str | None) -> ExecutionRecord:
        """Abort the execution (branches included)."""
        execution_id = self.store.execution_id(arn)
        if execution_id is not None:
            self.runtime.stop(execution_id, error, cause)
        stored = self.store.execution(arn)
        assert stored is not None
        return stored

    def redrive(self, arn: str, client_token: str | None) -> ExecutionRecord | None:
        """Commit ``ExecutionRedriven`` and publish the restarted steps; returns at once.

        Returns None when another call redrove (or the execution is no longer ended) first.
        """
        execution_id = self.store.execution_id(arn)
        if execution_id is None or not self.runtime.redrive(execution_id, client_token):
            return None
        return self.store.execution(arn)

    def callback(self, token: str, event: Callable[[str, int], Event]) -> None:
        """Deliver the event ``event(thread, seq)`` builds to the task waiting on ``token``."""
        if not isinstance(token, str) or not token:
            raise InvalidToken(f"Invalid Token: {json.dumps(token)}")
        outcome = self.runtime.task_callback(token, event)
        if outcome is CallbackOutcome.UNKNOWN:
            raise TaskDoesNotExist(f"Task Does Not Exist: '{token[:16]}...'")
        if outcome is CallbackOutcome.CLOSED:
            raise TaskTimedOut(f"Task Timed Out: '{token[:16]}...'")
