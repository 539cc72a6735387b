"""The activation: one pure call that takes an execution as far as it can go without I/O.

    activate(machine, execution, threads, events, now, limits, inline) -> Activation

The shell's loop is load → activate → persist → dispatch, whatever the shell (the durable
runtime, the local executor, the tests' driver). An activation feeds ``events`` to the
step function and resolves every decision that stays inside the execution itself — a
child telling its parent (`Deliver`), a join (`JoinBranches`), aborts (`AbortChildren`),
and, as ``inline`` allows, entering the next state (`ScheduleStep`). What is left are the
effects on the outside world: steps to publish, tasks to run, timers to start, tasks to
cancel, the end of the execution.

Like Temporal's workflow activation, it reads no clock and no random source: ``now`` is
an argument and each step's random source is derived from the execution's seed
(:func:`step_rng`), so a replay draws the same values.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from engine._asl.model import (
    ChoiceState,
    FailState,
    PassState,
    StateMachine,
    SucceedState,
    TaskState,
    WaitState,
)
from engine._interpreter.decisions import (
    AbortChildren,
    Decision,
    Deliver,
    JoinBranches,
    ScheduleStep,
)
from engine._interpreter.events import AbortRequested, BranchesJoined, Event, StepDue
from engine._interpreter.history import HistoryEvent
from engine._interpreter.seeded import step_rng
from engine._interpreter.snapshot import (
    ROOT_THREAD_ID,
    Execution,
    Thread,
    ThreadStatus,
    current_children,
    joined_results,
    state_of,
)
from engine._interpreter.step import start, step
from engine._interpreter.turn import Limits, StepResult

Effect = Decision
"""A decision left for the shell: `ScheduleStep`, `RunTask`, `StartTimer`, `CancelTask`,
`FinishExecution` (never `Deliver`, `JoinBranches` or `AbortChildren`)."""

# States whose entry is safe in the activation that reaches them: it completes at once
# (Pass, Choice, Succeed, Fail) or leaves this one thread waiting for its task or timer
# (Task, Wait). Parallel and Map fan out, so they keep a step of their own (ADR 0010).
_FOLDABLE = (PassState, ChoiceState, SucceedState, FailState, TaskState, WaitState)


class Threads(Protocol):
    """Read access to an execution's threads as the shell has them (loaded or lazily read)."""

    def thread(self, thread_id: str) -> Thread | None:
        """The thread ``thread_id``, or None."""
        ...

    def children(self, parent_id: str) -> list[Thread]:
        """Every child of ``parent_id`` (all fan-out generations)."""
        ...


class ThreadTable:
    """`Threads` over a dict of every thread (shells that keep an execution in memory)."""

    def __init__(self, threads: dict[str, Thread]) -> None:
        self.threads = threads

    def thread(self, thread_id: str) -> Thread | None:
        """The thread ``thread_id``, or None."""
        return self.threads.get(thread_id)

    def children(self, parent_id: str) -> list[Thread]:
        """Every child of ``parent_id``."""
        return [t for t in self.threads.values() if t.parent_id == parent_id]


@dataclass(frozen=True)
class Inline:
    """Which `ScheduleStep` decisions an activation carries out itself.

    Attributes:
        all_steps: enter every next state at once (a test driver that runs to the next
            task or timer).
        enter_tasks: the step that leaves a state enters a following Task state, so the
            Task's handler task is the state's only task (ADR 0013); a fan-out's first
            states keep their own steps.
        fold_states: up to this many foldable states (Pass, Choice, Succeed, Fail, Task,
            Wait) entered in this activation instead of a step each (ADR 0010).
    """

    all_steps: bool = False
    enter_tasks: bool = False
    fold_states: int = 0


NO_INLINE = Inline()
"""Every step is an effect: each state is entered by a step of its own."""


@dataclass
class Activation:
    """What one activation changed (commit it in one transaction), and what is left to do.

    Attributes:
        execution: the execution header after the last step.
        threads: every thread a step changed, at its last value.
        history: the new history events, in order.
        effects: what is left for the shell, in the order it was decided.
        decisions: every decision the steps took, internal ones included (for tracing).
        folded: how many states were entered under ``Inline.fold_states``.
    """

    execution: Execution
    threads: dict[str, Thread] = field(default_factory=dict)
    history: list[HistoryEvent] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    folded: int = 0

    @property
    def changed(self) -> bool:
        """False when every event was stale or a duplicate."""
        return bool(self.threads or self.history or self.effects)

    def as_step_result(self) -> StepResult:
        """The activation as one `StepResult` (what a store applies)."""
        return StepResult(
            self.execution, tuple(self.threads.values()), tuple(self.history), tuple(self.effects)
        )


def begin(
    machine: StateMachine,
    execution: Execution,
    threads: Threads,
    now: datetime,
    limits: Limits | None = None,
    inline: Inline = NO_INLINE,
) -> Activation:
    """Start ``execution`` (``ExecutionStarted``) and resolve what that decides."""
    run = _Run(machine, threads, now, limits or Limits(), inline, execution)
    result = start(machine, execution, now, step_rng(execution.seed, ROOT_THREAD_ID, -1), limits)
    run.absorb(result, ROOT_THREAD_ID)
    run.drain()
    return run.activation


def continue_from(
    machine: StateMachine,
    result: StepResult,
    threads: Threads,
    now: datetime,
    limits: Limits | None = None,
    inline: Inline = NO_INLINE,
) -> Activation:
    """Resolve what a step taken outside :func:`activate` decided (e.g. a redrive)."""
    run = _Run(machine, threads, now, limits or Limits(), inline, result.execution)
    run.absorb(result, ROOT_THREAD_ID)
    run.drain()
    return run.activation


def activate(
    machine: StateMachine,
    execution: Execution,
    threads: Threads,
    events: Iterable[Event],
    now: datetime,
    limits: Limits | None = None,
    inline: Inline = NO_INLINE,
) -> Activation:
    """Apply ``events`` in order, and every internal event they lead to, to the execution."""
    run = _Run(machine, threads, now, limits or Limits(), inline, execution)
    run.queue.extend(events)
    run.drain()
    return run.activation


def follow_ups(decision: Decision, threads: Threads) -> list[Event] | None:
    """The events an internal decision stands for, or None for an effect on the outside.

    `Deliver` is its event; `JoinBranches` the parent's `BranchesJoined` with its current
    children's results; `AbortChildren` an `AbortRequested` per unfinished child.
    """
    if isinstance(decision, Deliver):
        return [decision.event]
    if isinstance(decision, JoinBranches):
        parent = threads.thread(decision.parent_id)
        assert parent is not None, f"join of unknown thread {decision.parent_id!r}"
        children = current_children(parent, threads.children(parent.id))
        results = joined_results(parent, children)
        failed = tuple(c.index or 0 for c in children if c.status is ThreadStatus.FAILED)
        inputs = (
            tuple(c.map_item for c in children)
            if any(c.map_item is not None for c in children)
            else ()
        )
        return [BranchesJoined(parent.id, decision.seq, results, failed, inputs)]
    if isinstance(decision, AbortChildren):
        children = threads.children(decision.parent_id)
        return [AbortRequested(child.id) for child in children if not child.ended]
    return None


class _Run:
    """One activation's loop: a FIFO of internal events over an overlay of changed threads."""

    def __init__(
        self,
        machine: StateMachine,
        threads: Threads,
        now: datetime,
        limits: Limits,
        inline: Inline,
        execution: Execution,
    ) -> None:
        self.machine = machine
        self.stored = threads
        self.now = now
        self.limits = limits
        self.inline = inline
        self.activation = Activation(execution)
        self.queue: deque[Event] = deque()

    def thread(self, thread_id: str) -> Thread | None:
        changed = self.activation.threads.get(thread_id)
        return changed if changed is not None else self.stored.thread(thread_id)

    def children(self, parent_id: str) -> list[Thread]:
        changed = self.activation.threads
        found = {
            child.id: changed.get(child.id, child) for child in self.stored.children(parent_id)
        }
        found.update((t.id, t) for t in changed.values() if t.parent_id == parent_id)
        return list(found.values())

    def drain(self) -> None:
        while self.queue:
            event = self.queue.popleft()
            thread = self.thread(event.thread_id)
            if thread is None:
                continue
            execution = self.activation.execution
            rng = step_rng(execution.seed, thread.id, thread.seq)
            result = step(self.machine, execution, thread, event, self.now, rng, self.limits)
            if result.changed:
                self.absorb(result, thread.id)

    def absorb(self, result: StepResult, origin: str) -> None:
        """Keep a step's changes and resolve its decisions (``origin``: the stepped thread)."""
        activation = self.activation
        activation.execution = result.execution
        activation.threads.update((thread.id, thread) for thread in result.threads)
        activation.history.extend(result.history)
        activation.decisions.extend(result.decisions)
        for decision in result.decisions:
            self.resolve(decision, origin)

    def resolve(self, decision: Decision, origin: str) -> None:
        if isinstance(decision, ScheduleStep):  # the most frequent: never a follow-up
            if self.enters_now(decision, origin):
                self.queue.append(StepDue(decision.thread_id, decision.seq))
            else:
                self.activation.effects.append(decision)
            return
        events = follow_ups(decision, self)
        if events is not None:
            self.queue.extend(events)
        else:
            self.activation.effects.append(decision)

    def enters_now(self, decision: ScheduleStep, origin: str) -> bool:
        """Enter the scheduled state in this activation rather than in a step of its own?"""
        if self.inline.all_steps:
            return True
        if not self.inline.enter_tasks and self.activation.folded >= self.inline.fold_states:
            return False  # nothing else enters a state inline: no need to look it up
        thread = self.thread(decision.thread_id)
        if thread is None:
            return False
        state = state_of(self.machine, thread)
        if (
            self.inline.enter_tasks
            and decision.thread_id == origin
            and isinstance(state, TaskState)
        ):
            return True
        if self.activation.folded < self.inline.fold_states and isinstance(state, _FOLDABLE):
            self.activation.folded += 1
            return True
        return False
