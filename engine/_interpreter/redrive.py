"""Redrive: the pure transition of a finished execution back into a running one.

    redrive(machine, execution, threads, now, limits, inline) -> Activation

As AWS's RedriveExecution does, the execution continues from its unsuccessful states, in
the same history and under the same ARN: ``ExecutionRedriven`` is appended; every thread
that failed or was aborted re-enters the state it stopped in, with its retry counters
reset; threads that succeeded are kept and not re-run. A Parallel or Map state whose
children had started re-runs only its failed or aborted children (a Map also starts the
iterations it never started), then joins the kept results with the new ones.

The shell persists the activation like any other (load → redrive → persist → dispatch);
whether the execution may be redriven at all (its status, AWS's 14-day window and
limits) is the API's decision, made before.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from engine._asl.model import MapState, ParallelState, ProcessorMode, StateMachine
from engine._interpreter.activation import Activation, Inline, Threads, continue_from
from engine._interpreter.decisions import JoinBranches, ScheduleStep, StartTimer
from engine._interpreter.events import TimerKind
from engine._interpreter.fanout import (
    record_child_started,
    record_map_run,
    recorded_map_run,
    refill_slots,
)
from engine._interpreter.seeded import step_rng
from engine._interpreter.snapshot import (
    ROOT_THREAD_ID,
    Execution,
    ExecutionStatus,
    FanOut,
    Phase,
    Thread,
    ThreadStatus,
    children_prefix,
    evolve,
)
from engine._interpreter.step import ALWAYS
from engine._interpreter.turn import Limits, StepResult, Turn

REDRIVABLE_STATUSES = (ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT, ExecutionStatus.ABORTED)
"""The end states RedriveExecution restarts (never SUCCEEDED)."""
_REDRIVE_SEQ = -2  # the redrive's random source: no thread step ever has this seq


class NotRedrivable(ValueError):
    """The execution is not in an end state that a redrive restarts."""


def redrive(
    machine: StateMachine,
    execution: Execution,
    threads: Threads,
    now: datetime,
    limits: Limits | None = None,
    inline: Inline | None = None,
) -> Activation:
    """Restart ``execution`` from its unsuccessful states, and resolve what that decides.

    Raises:
        NotRedrivable: the execution is RUNNING or SUCCEEDED.
    """
    result = redrive_step(machine, execution, threads, now, limits)
    return continue_from(machine, result, threads, now, limits, inline or Inline())


def redrive_step(
    machine: StateMachine,
    execution: Execution,
    threads: Threads,
    now: datetime,
    limits: Limits | None = None,
) -> StepResult:
    """The redrive itself: ``ExecutionRedriven`` and the restarted threads, unresolved.

    Raises:
        NotRedrivable: the execution is RUNNING or SUCCEEDED.
    """
    if execution.status not in REDRIVABLE_STATUSES:
        raise NotRedrivable(
            f"execution {execution.arn!r}: expected status FAILED, TIMED_OUT or ABORTED to "
            f"redrive, got {execution.status.value}"
        )
    root = threads.thread(ROOT_THREAD_ID)
    if root is None:
        raise NotRedrivable(f"execution {execution.arn!r}: no root thread to redrive")
    count = execution.redrive_count + 1
    running = evolve(
        execution,
        status=ExecutionStatus.RUNNING,
        output=None,
        error=None,
        cause=None,
        redrive_count=count,
    )
    turn = Turn(
        machine,
        running,
        now,
        step_rng(execution.seed, ROOT_THREAD_ID, _REDRIVE_SEQ),
        limits or Limits(),
    )
    marker = evolve(root, last_event_id=execution.next_event_id - 1, silent=False)
    redriven_id = turn.emit(marker, "ExecutionRedriven", {"redriveCount": count}).last_event_id
    _restart(turn, threads, root, redriven_id)
    if machine.timeout_seconds:
        due = now + timedelta(seconds=machine.timeout_seconds)
        turn.decide(StartTimer(ROOT_THREAD_ID, ALWAYS, TimerKind.EXECUTION_TIMEOUT, due))
    return turn.result()


def _restart(turn: Turn, threads: Threads, thread: Thread, previous: int) -> None:
    """Restart an unsuccessful thread: its fan-out's children, or its own state."""
    if thread.status is ThreadStatus.SUCCEEDED:
        return
    state = turn.state(thread)
    if isinstance(state, ParallelState | MapState) and thread.fan_out is not None:
        _restart_fan_out(turn, threads, thread, state, previous)
        return
    thread = turn.save(
        thread.bump(
            status=ThreadStatus.RUNNING,
            phase=Phase.ENTER,
            retry_counts=(),
            effective=None,
            fan_out=None,
            heartbeat_due=None,
            task_started=False,
            output=None,
            error=None,
            cause=None,
            last_event_id=previous,
        )
    )
    turn.decide(ScheduleStep(thread.id, thread.seq, thread.state))


def _restart_fan_out(
    turn: Turn,
    threads: Threads,
    parent: Thread,
    state: ParallelState | MapState,
    previous: int,
) -> None:
    """Keep the children that succeeded; re-run the others; join when none is left."""
    assert parent.fan_out is not None
    fan_out = parent.fan_out
    prefix = children_prefix(parent, fan_out.generation)
    current = sorted(
        (c for c in threads.children(parent.id) if c.id.startswith(prefix)),
        key=lambda c: c.index or 0,
    )
    kept = [c for c in current if c.status is ThreadStatus.SUCCEEDED]
    parent = turn.save(
        parent.bump(
            status=ThreadStatus.RUNNING,
            phase=Phase.BRANCHES,
            retry_counts=(),
            heartbeat_due=None,
            error=None,
            cause=None,
            last_event_id=previous,
            fan_out=_kept_progress(fan_out, kept),
        )
    )
    if _is_distributed(state):
        details = {
            "mapRunArn": fan_out.map_run_arn,
            "redriveCount": turn.execution.redrive_count,
        }
        parent = turn.save(turn.emit(parent, "MapRunRedriven", details))
    for child in current:
        parent = _restart_child(turn, threads, parent, state, child)
    if isinstance(state, MapState):
        parent = refill_slots(turn, parent, state)
        record_map_run(turn, parent, "RUNNING")
    if len(kept) == fan_out.total:
        turn.decide(JoinBranches(parent.id, parent.seq))


def _kept_progress(fan_out: FanOut, kept: list[Thread]) -> FanOut:
    """The fan-out's progress counting only the children that succeeded."""
    ended = 0
    for child in kept:
        ended |= 1 << (child.index or 0)
    return evolve(fan_out, succeeded=len(kept), failed=0, ended=format(ended, "x"))


def _restart_child(
    turn: Turn, threads: Threads, parent: Thread, state: ParallelState | MapState, child: Thread
) -> Thread:
    """Re-run a child that had started; put a never-started Map iteration back in line."""
    assert parent.fan_out is not None
    if child.status is ThreadStatus.SUCCEEDED:
        return parent
    index = child.index or 0
    if isinstance(state, MapState) and index >= parent.fan_out.started:
        turn.save(child.bump(status=ThreadStatus.PENDING, phase=Phase.ENTER))
        return parent
    previous = parent.last_event_id
    if isinstance(state, MapState) and state.processor_mode is ProcessorMode.INLINE:
        details = {"index": index, "name": state.name}
        parent = turn.save(turn.emit(parent, "MapIterationStarted", details))
        previous = parent.last_event_id
    _restart(turn, threads, child, previous)
    assert parent.fan_out is not None
    map_run_arn = recorded_map_run(state, parent.fan_out) if isinstance(state, MapState) else None
    if map_run_arn is not None:  # its child execution is redriven too
        items = parent.fan_out.items_in(index)
        record_child_started(turn, map_run_arn, child, items, redriven=True)
    return parent


def _is_distributed(state: ParallelState | MapState) -> bool:
    return isinstance(state, MapState) and state.processor_mode is ProcessorMode.DISTRIBUTED
