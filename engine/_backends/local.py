"""The local backend: machines and executions in memory, executions run in-process.

StartExecution returns once the execution has finished (or has nothing left to do but
wait for a callback). It is what ``Client()`` uses by default, what Express
StartSyncExecution always uses, and what the conformance runner's local mode drives.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from engine._clock import Clock, SystemClock
from engine._errors import ExecutionDoesNotExist, TaskDoesNotExist, TaskTimedOut
from engine._interpreter.events import (
    AbortRequested,
    Event,
    MapRunUpdated,
)
from engine._interpreter.history import HistoryEvent
from engine._interpreter.redrive import REDRIVABLE_STATUSES
from engine._interpreter.snapshot import ROOT_THREAD_ID
from engine._interpreter.turn import Limits
from engine._local import LocalDriver, LocalExecutor, LocalRun
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
    execution_header,
    page_in_memory,
    restart,
)
from engine._resources import DEFAULT_REGISTRY, HandlerRegistry

Json = Any


class LocalBackend:
    """In-memory `engine._api.Backend` running executions with the `LocalExecutor`."""

    def __init__(
        self,
        handlers: HandlerRegistry | None = None,
        clock: Clock | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.handlers = handlers if handlers is not None else DEFAULT_REGISTRY
        self.clock = clock or SystemClock()
        self.executor = LocalExecutor(self.handlers, self.clock, limits)
        self._machines: dict[str, MachineRecord] = {}
        self._executions: dict[str, ExecutionRecord] = {}
        self._ran_with: dict[str, tuple[str, str]] = {}  # execution ARN: (definition, role)
        self._aliases: dict[str, AliasRecord] = {}
        self._tags: dict[str, dict[str, str]] = {}
        self._drivers: dict[str, LocalDriver] = {}
        self._ended: dict[str, LocalDriver] = {}  # kept for RedriveExecution
        self._lock = threading.Lock()
        # Tokens of executions that ended: a callback for one is late (TaskTimedOut, as on
        # AWS), not for a task that never existed (TaskDoesNotExist).
        self._closed_tokens: set[str] = set()
        self._map_runs: dict[str, MapRunRecord] = {}
        self._children: dict[str, ChildExecutionRecord] = {}  # Distributed Map children

    def save_machine(self, record: MachineRecord) -> None:
        """Insert or replace ``record``."""
        with self._lock:
            self._machines[record.arn] = record

    def machine(self, arn: str) -> MachineRecord | None:
        """The machine with ``arn``, or None."""
        return self._machines.get(arn)

    def version(self, arn: str) -> VersionRecord | None:
        """The published version with ``arn``, or None."""
        machine = self._machines.get(arn.rsplit(":", 1)[0])
        versions = machine.versions if machine is not None else []
        return next((v for v in versions if v.arn == arn), None)

    def machines(self) -> list[MachineRecord]:
        """Every machine, oldest first."""
        return sorted(self._machines.values(), key=lambda m: m.creation_date)

    def machines_page(self, limit: int, token: str | None) -> Page[MachineRecord]:
        """A page of machines, oldest first (paged in memory)."""
        return page_in_memory(self.machines(), limit, token)

    def versions_page(self, machine_arn: str, limit: int, token: str | None) -> Page[VersionRecord]:
        """A page of a machine's versions, newest first."""
        machine = self._machines.get(machine_arn)
        versions = machine.versions if machine is not None else []
        return page_in_memory(sorted(versions, key=lambda v: -v.number), limit, token)

    def delete_machine(self, arn: str) -> None:
        """Forget ``arn`` with its versions, aliases and tags."""
        with self._lock:
            self._machines.pop(arn, None)
            self._tags.pop(arn, None)
            for alias in [a for a in self._aliases.values() if a.machine_arn == arn]:
                self._aliases.pop(alias.arn, None)
                self._tags.pop(alias.arn, None)

    def purge_if_deleting(self, arn: str) -> None:
        """Forget the DELETING machine ``arn`` if none of its executions runs any more."""
        machine = self._machines.get(arn)
        if machine is None or machine.status != "DELETING":
            return
        if not any(r.status == "RUNNING" for r in self.executions(arn)):
            self.delete_machine(arn)

    def delete_version(self, arn: str) -> None:
        """Forget a published version (the machine keeps counting from its number)."""
        machine = self._machines.get(arn.rsplit(":", 1)[0])
        if machine is not None:
            machine.versions = [v for v in machine.versions if v.arn != arn]

    def save_alias(self, record: AliasRecord) -> None:
        """Insert or replace an alias."""
        self._aliases[record.arn] = replace(record, routing=[dict(r) for r in record.routing])

    def alias(self, arn: str) -> AliasRecord | None:
        """The alias with ``arn``, or None (a copy: the caller may change it)."""
        found = self._aliases.get(arn)
        return replace(found, routing=[dict(r) for r in found.routing]) if found else None

    def aliases_page(self, machine_arn: str, limit: int, token: str | None) -> Page[AliasRecord]:
        """A page of a machine's aliases, by name."""
        aliases = [a for a in self._aliases.values() if a.machine_arn == machine_arn]
        return page_in_memory(sorted(aliases, key=lambda a: a.name), limit, token)

    def delete_alias(self, arn: str) -> None:
        """Forget an alias and its tags."""
        self._aliases.pop(arn, None)
        self._tags.pop(arn, None)

    def tags(self, arn: str) -> dict[str, str]:
        """The tags of resource ``arn``."""
        return dict(self._tags.get(arn, {}))

    def save_tags(self, arn: str, tags: dict[str, str]) -> None:
        """Replace the tags of resource ``arn``."""
        if tags:
            self._tags[arn] = dict(tags)
        else:
            self._tags.pop(arn, None)

    def execution_definition(self, arn: str) -> tuple[str, str] | None:
        """The definition text and role the execution ``arn`` runs with, or None."""
        return self._ran_with.get(arn)

    def execution(self, arn: str) -> ExecutionRecord | None:
        """The execution with ``arn`` (an idle one first catches up with due deadlines)."""
        driver = self._drivers.get(arn)
        if driver is not None:
            run = driver.catch_up()
            self._finish(self._executions[arn], run)
            if run.finished:
                self._retire(arn)
        return self._executions.get(arn)

    def executions(self, machine_arn: str) -> list[ExecutionRecord]:
        """The machine's executions, newest first (idle ones caught up first)."""
        for arn in list(self._drivers):
            self.execution(arn)
        started = {arn: index for index, arn in enumerate(self._executions)}
        runs = [r for r in self._executions.values() if r.machine_arn == machine_arn]
        # Started in the same instant: the later start first, as the SQL store orders them.
        return sorted(runs, key=lambda r: (r.start_date, started[r.arn]), reverse=True)

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
        """A page of the machine's executions, newest first, filtered (in memory)."""
        runs = [
            r
            for r in self.executions(machine_arn)
            if (status is None or r.status == status)
            and (version_arn is None or r.version_arn == version_arn)
            and (alias_arn is None or r.alias_arn == alias_arn)
            and (redriven is None or (r.redrive_count > 0) == redriven)
        ]
        return page_in_memory(runs, limit, token)

    def search_executions(
        self, query: ExecutionQuery, *, limit: int = 50, token: str | None = None
    ) -> Page[ExecutionSummary]:
        """A page of any machine's executions, newest first, filtered (in memory)."""
        for arn in list(self._drivers):
            self.execution(arn)  # caught up, as `executions` does
        started = {arn: index for index, arn in enumerate(self._executions)}
        runs = sorted(
            self._executions.values(),
            key=lambda r: (r.start_date, started[r.arn]),
            reverse=True,  # started in the same instant: the later start first, as in SQL
        )
        wanted = (query.name or "").lower()
        found = [
            ExecutionSummary(
                r.arn, r.machine_arn, r.name, r.status, r.start_date, r.stop_date, r.redrive_count
            )
            for r in runs
            if (query.machine_arn is None or r.machine_arn == query.machine_arn)
            and (query.status is None or r.status == query.status)
            and wanted in r.name.lower()
        ]
        return page_in_memory(found, limit, token)

    def history(self, arn: str) -> list[HistoryEvent]:
        """The execution's history."""
        record = self._executions.get(arn)
        if record is None:
            raise ExecutionDoesNotExist(f"Execution Does Not Exist: '{arn}'")
        return list(record.history)

    def history_page(
        self, arn: str, *, limit: int = 0, reverse: bool = False, token: str | None = None
    ) -> Page[HistoryEvent]:
        """A page of the execution's history, oldest (or, ``reverse``, newest) first."""
        events = self.history(arn)
        return page_in_memory(events[::-1] if reverse else events, limit, token)

    def map_run(self, arn: str) -> MapRunRecord | None:
        """The Map Run ``arn`` (its execution caught up first), or None."""
        found = self._map_runs.get(arn)
        if found is not None:
            self.execution(found.execution_arn)
        return self._map_runs.get(arn)

    def map_runs(self, execution_arn: str) -> list[MapRunRecord]:
        """The Map Runs of an execution, newest first."""
        self.execution(execution_arn)
        runs = [r for r in self._map_runs.values() if r.execution_arn == execution_arn]
        return sorted(runs, key=lambda r: r.start_date, reverse=True)

    def child_execution(self, arn: str) -> ChildExecutionRecord | None:
        """The Distributed Map child execution ``arn`` (its parent caught up first), or None."""
        found = self._children.get(arn)
        if found is not None:
            self.execution(found.execution_arn)
        return self._children.get(arn)

    def child_executions(self, map_run_arn: str) -> list[ChildExecutionRecord]:
        """Every child execution of a Map Run, in index order."""
        run = self.map_run(map_run_arn)
        if run is None:
            return []
        children = [c for c in self._children.values() if c.map_run_arn == map_run_arn]
        return sorted(children, key=lambda c: c.index)

    def update_map_run(self, run: MapRunRecord, update: MapRunUpdated) -> None:
        """Deliver ``update`` to the Map's thread, if its execution still runs."""
        self.execution(run.execution_arn)  # a deadline that passed comes first
        driver = self._drivers.get(run.execution_arn)
        if driver is None:
            return
        state = driver.deliver(update)
        self._finish(self._executions[run.execution_arn], state)
        if state.finished:
            self._retire(run.execution_arn)

    def start(self, record: ExecutionRecord, compiled: Compiled, seed: int) -> ExecutionRecord:
        """Run ``record`` to completion with the local executor.

        Raises:
            ExecutionAlreadyExists: the name is taken (see `engine._records.restart`).
        """
        with self._lock:
            existing = self._executions.get(record.arn)
            if existing is None:
                self._executions[record.arn] = record
        if existing is not None:
            return replace(restart(self.execution(record.arn) or existing, record))
        self._ran_with[record.arn] = (compiled.text, compiled.role_arn)
        header = execution_header(record, compiled.role_arn, seed)
        driver = self.executor.start(compiled.machine, header, record.test_case)
        if not driver.run_state.finished:
            self._drivers[record.arn] = driver  # waiting for a callback (or a stop)
        else:
            self._ended[record.arn] = driver
        return self._finish(record, driver.run_state)

    def redrive(self, arn: str, client_token: str | None) -> ExecutionRecord | None:
        """Restart an ended execution from its unsuccessful states; runs it like `start`.

        Returns None when it is not an ended execution of this backend (another redrive
        took it first).
        """
        with self._lock:
            driver = self._ended.get(arn)
            if driver is None or driver.run_state.execution.status not in REDRIVABLE_STATUSES:
                return None
            del self._ended[arn]
        record = self._executions[arn]
        record.redrive_date, record.redrive_token = self.clock.now(), client_token
        run = driver.redrive()
        if run.finished:
            self._ended[arn] = driver
        else:
            self._drivers[arn] = driver
        return self._finish(record, run)

    def stop(self, arn: str, error: str | None, cause: str | None) -> ExecutionRecord:
        """Abort an execution that waits for a callback (the others have ended already)."""
        record = self._executions[arn]
        driver = self._drivers.get(arn)
        self._retire(arn)
        if driver is not None:
            self._finish(record, driver.deliver(AbortRequested(ROOT_THREAD_ID, error, cause)))
        return record

    def take_activity_task(self, arn: str, worker_name: str | None) -> tuple[str, Json] | None:
        """GetActivityTask: start a task of activity ``arn`` waiting in some execution."""
        for execution_arn, driver in list(self._drivers.items()):
            self.execution(execution_arn)  # a deadline that passed comes first
            taken = driver.take_activity(arn, worker_name)
            if taken is not None:
                self._finish(self._executions[execution_arn], driver.run_state)
                return taken
        return None

    def callback(self, token: str, event: Callable[[str, int], Event]) -> None:
        """Deliver the event ``event(thread, seq)`` builds to the task waiting on ``token``."""
        for arn, driver in list(self._drivers.items()):
            target = driver.callback(token)
            if target is None:
                continue
            self.execution(arn)  # a deadline that passed comes first
            if not driver.waiting_on(token):
                raise TaskTimedOut(f"Task Timed Out: '{token[:16]}...'")
            run = driver.deliver(event(*target))
            self._finish(self._executions[arn], run)
            if run.finished:
                self._retire(arn)
            return
        if token in self._closed_tokens:
            raise TaskTimedOut(f"Task Timed Out: '{token[:16]}...'")
        raise TaskDoesNotExist(f"Task Does Not Exist: '{token[:16]}...'")

    def _retire(self, arn: str) -> None:
        """The execution ended (or is being stopped): its driver goes, its tokens close."""
        driver = self._drivers.pop(arn, None)
        if driver is not None:
            self._closed_tokens.update(driver.tokens)
            self._ended[arn] = driver

    def _finish(self, record: ExecutionRecord, run: LocalRun) -> ExecutionRecord:
        execution = run.execution
        record.status = execution.status
        record.output = execution.output
        record.error, record.cause = execution.error, execution.cause
        record.history = list(run.history)
        self._map_runs.update(run.map_runs)
        self._children.update(run.children)
        record.event_count = execution.next_event_id - 1
        record.redrive_count = execution.redrive_count
        record.stop_date = run.stopped_at if run.finished else None
        if run.finished:
            self._purge_later(record.machine_arn)
        return replace(record)

    def _purge_later(self, machine_arn: str) -> None:
        """Forget a DELETING machine whose last running execution just ended."""
        machine = self._machines.get(machine_arn)
        if machine is None or machine.status != "DELETING":
            return
        runs = [r for r in self._executions.values() if r.machine_arn == machine_arn]
        if not any(r.status == "RUNNING" for r in runs):
            self.delete_machine(machine_arn)
