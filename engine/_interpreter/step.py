"""The pure step function: one event in, the new checkpoint and decisions out.

    start(machine, execution, now, rng)            -> StepResult  (ExecutionStarted)
    step(machine, execution, thread, event, now, rng) -> StepResult

Neither reads a clock nor a random source; both are deterministic in their arguments,
so replaying the same events yields the same history.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from engine._asl.model import (
    AnyState,
    ChoiceState,
    FailState,
    MapState,
    ParallelState,
    PassState,
    StateMachine,
    SucceedState,
    TaskState,
    WaitState,
)
from engine._dataflow.scope import Rng
from engine._errors import ErrorName
from engine._interpreter import fanout, states, task
from engine._interpreter.decisions import (
    AbortChildren,
    CancelTask,
    Deliver,
    FinishExecution,
    ScheduleStep,
    StartTimer,
)
from engine._interpreter.events import (
    AbortRequested,
    BranchEnded,
    BranchesJoined,
    Event,
    MapRunUpdated,
    StepDue,
    TaskFailed,
    TaskHeartbeat,
    TaskStarted,
    TaskSucceeded,
    ThreadActivated,
    TimerFired,
    TimerKind,
)
from engine._interpreter.lifecycle import emit, enter, error_details, guarded
from engine._interpreter.snapshot import (
    ROOT_THREAD_ID,
    Execution,
    ExecutionStatus,
    Phase,
    Thread,
    ThreadStatus,
    evolve,
    machine_at,
)
from engine._interpreter.turn import Limits, StepResult, Turn

Json = Any
Body = Callable[[Turn, Thread, AnyState], None]

_BODIES: dict[type, Body] = {
    PassState: states.run_pass,
    ChoiceState: states.run_choice,
    WaitState: states.run_wait,
    SucceedState: states.run_succeed,
    FailState: states.run_fail,
    TaskState: task.run_task,
    ParallelState: fanout.run_parallel,
    MapState: fanout.run_map,
}
_RETRIES: dict[type, Body] = {
    TaskState: task.attempt_task,
    ParallelState: fanout.start_parallel,
    MapState: fanout.start_map,
}
_WAITING_ON_A_TASK = (Phase.TASK, Phase.READ, Phase.WRITE)
ALWAYS = -1
"""``seq`` of timers that no state change invalidates (the execution timeout)."""


def start(
    machine: StateMachine,
    execution: Execution,
    now: datetime,
    rng: Rng,
    limits: Limits | None = None,
) -> StepResult:
    """Begin an execution: emit ``ExecutionStarted`` and schedule the first state."""
    turn = Turn(machine, execution, now, rng, limits or Limits())
    root = Thread(
        id=ROOT_THREAD_ID,
        parent_id=None,
        index=None,
        scope=(),
        status=ThreadStatus.RUNNING,
        state=machine.start_at,
        input=execution.input,
    )
    details = {**turn.payload_details("input", execution.input), "roleArn": execution.role_arn}
    root = emit(turn, root, "ExecutionStarted", details)
    root = turn.save(evolve(root, last_event_id=0))  # AWS chains the first state to 0
    turn.decide(ScheduleStep(root.id, root.seq, root.state))
    if machine.timeout_seconds:
        due = now + timedelta(seconds=machine.timeout_seconds)
        turn.decide(StartTimer(root.id, ALWAYS, TimerKind.EXECUTION_TIMEOUT, due))
    return turn.result()


def step(
    machine: StateMachine,
    execution: Execution,
    thread: Thread,
    event: Event,
    now: datetime,
    rng: Rng,
    limits: Limits | None = None,
) -> StepResult:
    """Apply ``event`` to ``thread``; a stale or duplicate event changes nothing."""
    turn = Turn(machine, execution, now, rng, limits or Limits())
    if execution.status is ExecutionStatus.RUNNING:
        _apply(turn, thread, event)
        _enforce_history_limit(turn)
    elif isinstance(event, AbortRequested) and not thread.ended:
        _abort_silently(turn, thread)  # the execution already ended: no more history
    return turn.result()


def _abort_silently(turn: Turn, thread: Thread) -> None:
    if thread.phase is Phase.BRANCHES:
        turn.decide(AbortChildren(thread.id))
    turn.save(thread.bump(status=ThreadStatus.ABORTED, phase=Phase.DONE))


def _apply(turn: Turn, thread: Thread, event: Event) -> None:
    if type(event) is StepDue:  # the most frequent event, settled as the chain below would
        if (
            thread.status is ThreadStatus.RUNNING
            and event.seq == thread.seq
            and thread.phase is Phase.ENTER
        ):
            enter(turn, thread, _BODIES[type(turn.state(thread))])
        return
    if isinstance(event, AbortRequested):
        abort(turn, thread, event.error, event.cause)
    elif isinstance(event, ThreadActivated):
        fanout.activate_pending(turn, thread, event)
    elif thread.status is not ThreadStatus.RUNNING:
        return
    elif isinstance(event, BranchEnded):
        fanout.branch_ended(turn, thread, event)
    elif isinstance(event, MapRunUpdated):
        fanout.map_run_updated(turn, thread, event)
    elif isinstance(event, TimerFired) and event.kind is TimerKind.EXECUTION_TIMEOUT:
        _time_out_execution(turn, thread)
    elif event.seq == thread.seq:
        _apply_current(turn, thread, event)


def _apply_current(turn: Turn, thread: Thread, event: Event) -> None:
    phase = thread.phase
    if isinstance(event, StepDue) and phase is Phase.ENTER:
        enter(turn, thread, _BODIES[type(turn.state(thread))])
    elif isinstance(event, BranchesJoined) and phase is Phase.BRANCHES:
        fanout.branches_joined(turn, thread, event)
    elif isinstance(event, TimerFired):
        _timer_fired(turn, thread, event.kind)
    elif phase in (Phase.READ, Phase.WRITE):
        _map_io_ended(turn, thread, event)
    elif phase is not Phase.TASK:
        return
    elif isinstance(event, TaskStarted):
        task.task_started(turn, thread, event.worker_name)
    elif isinstance(event, TaskHeartbeat):
        task.task_heartbeat(turn, thread)
    elif isinstance(event, TaskSucceeded):
        task.task_succeeded(turn, thread, event.output)
    elif isinstance(event, TaskFailed):
        task.task_failed(turn, thread, event.error, event.cause)


def _map_io_ended(turn: Turn, thread: Thread, event: Event) -> None:
    """The ItemReader's items or the ResultWriter's manifest arrived (or failed)."""
    if isinstance(event, TaskSucceeded) and thread.phase is Phase.READ:
        fanout.items_read(turn, thread, event.output)
    elif isinstance(event, TaskSucceeded):
        fanout.results_written(turn, thread, event.output)
    elif isinstance(event, TaskFailed):
        fanout.map_io_failed(turn, thread, event.error, event.cause)


def _timer_fired(turn: Turn, thread: Thread, kind: TimerKind) -> None:
    state = turn.state(thread)
    if kind is TimerKind.WAIT and thread.phase is Phase.WAIT:
        guarded(turn, thread, state, lambda: states.finish_wait(turn, thread, state))
    elif kind is TimerKind.RETRY and thread.phase is Phase.RETRY:
        retry = _RETRIES[type(state)]
        guarded(turn, thread, state, lambda: retry(turn, thread, state))
    elif kind is TimerKind.TASK_TIMEOUT and thread.phase is Phase.TASK:
        task.task_timed_out(turn, thread, ErrorName.TIMEOUT)
    elif (
        kind is TimerKind.HEARTBEAT
        and thread.phase is Phase.TASK
        and task.heartbeat_overdue(turn, thread)
    ):
        task.task_timed_out(turn, thread, ErrorName.HEARTBEAT_TIMEOUT)


def abort(turn: Turn, thread: Thread, error: str | None, cause: str | None) -> None:
    """Stop ``thread`` (and its children); the root's abort ends the execution ABORTED."""
    if thread.ended:
        return
    if thread.status is ThreadStatus.RUNNING:
        thread = _emit_aborted(turn, thread)
    if thread.phase is Phase.BRANCHES:
        turn.decide(AbortChildren(thread.id))
    if thread.phase in _WAITING_ON_A_TASK:
        turn.decide(CancelTask(thread.id, thread.seq))
    thread = turn.save(thread.bump(status=ThreadStatus.ABORTED, phase=Phase.DONE))
    if thread.parent_id is None:
        emit(turn, thread, "ExecutionAborted", error_details(error, cause))
        turn.execution = evolve(
            turn.execution, status=ExecutionStatus.ABORTED, error=error, cause=cause
        )
        turn.decide(FinishExecution(ExecutionStatus.ABORTED))


def _emit_aborted(turn: Turn, thread: Thread) -> Thread:
    """``*StateAborted`` for a state in progress; ``MapIterationAborted`` closes an iteration."""
    if thread.phase is not Phase.ENTER:  # between two states nothing is in progress
        state = turn.state(thread)
        thread = emit(turn, thread, f"{state.type_name}StateAborted")
    if (
        thread.index is not None
        and len(thread.scope) >= 2
        and _is_inline_map_iteration(turn, thread)
    ):
        details = {"index": thread.index, "name": str(thread.scope[-2])}
        thread = emit(turn, thread, "MapIterationAborted", details)
    return thread


def _is_inline_map_iteration(turn: Turn, thread: Thread) -> bool:
    parent_machine = machine_at(turn.machine, thread.scope[:-2])
    parent_state = parent_machine.state(str(thread.scope[-2]))
    return isinstance(parent_state, MapState) and parent_state.processor_mode == "INLINE"


def _enforce_history_limit(turn: Turn) -> None:
    """AWS fails an execution whose history reaches its event limit (25,000 by default)."""
    if not turn.history_exceeded or turn.execution.status is not ExecutionStatus.RUNNING:
        return
    cause = (
        f"The execution reached the maximum number of history events "
        f"({turn.limits.history_events})."
    )
    last = turn.execution.next_event_id - 1
    marker = Thread(ROOT_THREAD_ID, None, None, (), ThreadStatus.RUNNING, "", last_event_id=last)
    turn.emit(marker, "ExecutionFailed", {"error": ErrorName.RUNTIME, "cause": cause})
    # Nothing this step decided may run any more: no steps, tasks or timers.
    turn.decisions = [d for d in turn.decisions if isinstance(d, Deliver | AbortChildren)]
    turn.execution = evolve(
        turn.execution, status=ExecutionStatus.FAILED, error=ErrorName.RUNTIME, cause=cause
    )
    turn.decide(Deliver(AbortRequested(ROOT_THREAD_ID)))  # the threads stop without history
    turn.decide(FinishExecution(ExecutionStatus.FAILED))


def _time_out_execution(turn: Turn, root: Thread) -> None:
    if root.phase is Phase.BRANCHES:
        turn.decide(AbortChildren(root.id))
    if root.phase in _WAITING_ON_A_TASK:
        turn.decide(CancelTask(root.id, root.seq))
    root = turn.save(root.bump(status=ThreadStatus.ABORTED, phase=Phase.DONE))
    emit(turn, root, "ExecutionTimedOut", {"error": ErrorName.TIMEOUT})
    turn.execution = evolve(
        turn.execution, status=ExecutionStatus.TIMED_OUT, error=ErrorName.TIMEOUT
    )
    turn.decide(FinishExecution(ExecutionStatus.TIMED_OUT))
