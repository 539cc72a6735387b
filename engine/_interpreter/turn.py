"""One step's accumulator: the changed threads, the new history and the decisions.

A `Turn` is local to one call of :func:`engine._interpreter.step.step`; the frozen
`StepResult` it produces is what the shell commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from engine._asl.model import AnyState, StateMachine
from engine._dataflow.scope import Rng, Scope
from engine._dataflow.sizes import BUILD_HEADROOM, json_size
from engine._interpreter.context import context_object
from engine._interpreter.decisions import Decision
from engine._interpreter.history import HistoryEvent, to_json_text
from engine._interpreter.snapshot import Execution, Thread, evolve, state_of

Json = Any


@dataclass(frozen=True)
class Limits:
    """AWS's service limits; each is a setting with AWS's value as the default."""

    payload_bytes: int = 256 * 1024
    variables_bytes: int = 10 * 1024 * 1024
    history_events: int = 25_000
    max_wait_seconds: int = 2**31 - 1  # AWS: "Wait state delay is too long" beyond this
    definition_bytes: int = 1024 * 1024  # checked by the API before a definition is parsed


@dataclass(frozen=True)
class StepResult:
    """What one step changed: commit all of it in one transaction, then act."""

    execution: Execution
    threads: tuple[Thread, ...] = ()
    history: tuple[HistoryEvent, ...] = ()
    decisions: tuple[Decision, ...] = ()

    @property
    def changed(self) -> bool:
        """False for a no-op step (a stale or duplicate event)."""
        return bool(self.threads or self.history or self.decisions)


@lru_cache(maxsize=16)
def iso_timestamp(moment: datetime) -> str:
    """AWS's context-object timestamp text: UTC, milliseconds, ``Z``."""
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    if utc.year >= 1000:  # isoformat pads the year to four digits; strftime's %Y does not
        return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


class Turn:
    """Collects the effects of one step; pure (time and randomness are injected)."""

    def __init__(
        self,
        machine: StateMachine,
        execution: Execution,
        now: datetime,
        rng: Rng,
        limits: Limits,
    ) -> None:
        self.machine = machine
        self._execution = execution
        self._next_event_id = execution.next_event_id  # advanced per event, copied in once
        self.now = now
        self.rng = rng
        self.limits = limits
        self.threads: dict[str, Thread] = {}
        self.history: list[HistoryEvent] = []
        self.decisions: list[Decision] = []
        self.history_exceeded = False
        self._timestamp: str | None = None
        # A payload often shows in several events of one step (a state's output in
        # ``*StateExited`` and ``ExecutionSucceeded``, a task's input in ``*StateEntered``
        # and ``*Scheduled``): measured and serialised once, by identity. Each entry keeps
        # its value, so the id stays that value's while the turn lives.
        self._texts: dict[int, tuple[Json, str]] = {}
        self._sizes: dict[int, tuple[Json, int]] = {}

    @property
    def execution(self) -> Execution:
        """The execution header as this turn left it so far."""
        execution = self._execution
        if execution.next_event_id != self._next_event_id:
            execution = evolve(execution, next_event_id=self._next_event_id)
            self._execution = execution
        return execution

    @execution.setter
    def execution(self, execution: Execution) -> None:
        self._execution = execution
        self._next_event_id = execution.next_event_id

    @property
    def timestamp(self) -> str:
        """The step's time as history and the context object show it (rendered once)."""
        text = self._timestamp
        if text is None:
            text = self._timestamp = iso_timestamp(self.now)
        return text

    def emit(
        self,
        thread: Thread,
        event_type: str,
        details: dict[str, Json] | None = None,
        *,
        previous: int | None = None,
        **changes: Any,
    ) -> Thread:
        """Append a history event for ``thread``; returns the thread with its last id.

        ``changes``: other fields of the thread to set in the same copy.
        """
        event_id = self.record(thread, event_type, details, previous=previous)
        if event_id is not None:
            changes["last_event_id"] = event_id
        return evolve(thread, **changes) if changes else thread

    def record(
        self,
        thread: Thread,
        event_type: str,
        details: dict[str, Json] | None = None,
        *,
        previous: int | None = None,
    ) -> int | None:
        """Append a history event for ``thread`` (which it leaves as it is); the event's id.

        A silent thread (a Distributed Map child execution) records nothing here. Past the
        history limit nothing is recorded either, except the events that end the execution.
        Either way the result is None.
        """
        if thread.silent:
            return None
        event_id = self._next_event_id
        if event_id > self.limits.history_events and not event_type.startswith("Execution"):
            self.history_exceeded = True  # the step fails the execution instead
            return None
        self._next_event_id = event_id + 1
        self.history.append(
            HistoryEvent(
                id=event_id,
                previous_event_id=thread.last_event_id if previous is None else previous,
                type=event_type,
                timestamp=self.timestamp,
                details=details or {},
                thread_id=thread.id,
            )
        )
        return event_id

    def payload_text(self, value: Json) -> str:
        """``value`` as compact JSON text, as history shows payloads (once per step)."""
        known = self._texts.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        text = to_json_text(value)
        self._texts[id(value)] = (value, text)
        return text

    def payload_details(self, key: str, value: Json) -> dict[str, Json]:
        """``{key: json-text, keyDetails: {truncated: false}}`` as AWS nests payloads."""
        return {key: self.payload_text(value), f"{key}Details": {"truncated": False}}

    def payload_size(self, value: Json) -> int:
        """`json_size` against the payload limit (once per step for each value).

        Raises:
            NestingTooDeep: ``value`` nests deeper than any payload may.
        """
        known = self._sizes.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        size = json_size(value, self.limits.payload_bytes)
        self._sizes[id(value)] = (value, size)
        return size

    def save(self, thread: Thread) -> Thread:
        """Record ``thread`` as changed (the latest version wins)."""
        self.threads[thread.id] = thread
        return thread

    def decide(self, decision: Decision) -> None:
        """Add a decision for the shell."""
        self.decisions.append(decision)

    def state(self, thread: Thread) -> AnyState:
        """The state ``thread`` is in."""
        return state_of(self.machine, thread)

    def scope(
        self,
        thread: Thread,
        value: Json,
        *,
        with_retry_count: bool = False,
        task_token: str | None = None,
        map_item: Json = None,
    ) -> Scope:
        """The evaluation scope for one of ``thread``'s fields, with ``$`` = ``value``."""
        context = context_object(
            self.execution,
            thread,
            with_retry_count=with_retry_count,
            task_token=task_token,
            map_item=map_item,
        )
        return Scope(
            input=value,
            context=context,
            variables=thread.variables,
            now=self.now,
            rng=self.rng,
            max_bytes=self.limits.payload_bytes * BUILD_HEADROOM,
        )

    def result(self) -> StepResult:
        """The frozen outcome of this turn."""
        return StepResult(
            execution=self.execution,
            threads=tuple(self.threads.values()),
            history=tuple(self.history),
            decisions=tuple(self.decisions),
        )
