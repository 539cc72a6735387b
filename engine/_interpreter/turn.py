"""One step's accumulator: the changed threads, the new history and the decisions.

A `Turn` is local to one call of :func:`engine._interpreter.step.step`; the frozen
`StepResult` it produces is what the shell commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from engine._asl.model import AnyState, StateMachine
from engine._dataflow.scope import Rng, Scope
from engine._dataflow.sizes import BUILD_HEADROOM
from engine._interpreter.context import context_object
from engine._interpreter.decisions import Decision
from engine._interpreter.history import HistoryEvent
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


def iso_timestamp(moment: datetime) -> str:
    """AWS's context-object timestamp text: UTC, milliseconds, ``Z``."""
    utc = moment.astimezone(UTC)
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
        self.execution = execution
        self.now = now
        self.rng = rng
        self.limits = limits
        self.threads: dict[str, Thread] = {}
        self.history: list[HistoryEvent] = []
        self.decisions: list[Decision] = []
        self.history_exceeded = False

    @cached_property
    def timestamp(self) -> str:
        """The step's time as history and the context object show it (rendered once)."""
        return iso_timestamp(self.now)

    def emit(
        self,
        thread: Thread,
        event_type: str,
        details: dict[str, Json] | None = None,
        *,
        previous: int | None = None,
    ) -> Thread:
        """Append a history event for ``thread``; returns the thread with its last id.

        A silent thread (a Distributed Map child execution) records nothing here. Past the
        history limit nothing is recorded either, except the events that end the execution.
        """
        if thread.silent:
            return thread
        over = self.execution.next_event_id > self.limits.history_events
        if over and not event_type.startswith("Execution"):
            self.history_exceeded = True  # the step fails the execution instead
            return thread
        event_id = self.execution.next_event_id
        self.execution = evolve(self.execution, next_event_id=event_id + 1)
        previous_id = thread.last_event_id if previous is None else previous
        self.history.append(
            HistoryEvent(
                id=event_id,
                previous_event_id=previous_id,
                type=event_type,
                timestamp=self.timestamp,
                details=details or {},
                thread_id=thread.id,
            )
        )
        return evolve(thread, last_event_id=event_id)

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
