"""Parallel and Map: start children, follow them as they end, join or fail.

A parent thread in phase BRANCHES keeps only counters (`FanOut`); each child keeps its
own input and, once ended, its output. Map iterations beyond ``MaxConcurrency`` are
created PENDING and activated one by one as slots free up, so at most
``MaxConcurrency`` run at any moment.
"""

from __future__ import annotations

import math
import re
from typing import Any

from engine._asl.model import AnyState, ItemBatcher, MapState, ParallelState, ProcessorMode
from engine._dataflow import intrinsic_functions, jsonata, paths, payload
from engine._errors import ErrorName, StatesRuntimeError
from engine._interpreter import flow, map_io
from engine._interpreter.batching import BatchLimits, group_into_batches
from engine._interpreter.decisions import (
    AbortChildren,
    Deliver,
    JoinBranches,
    RecordChildExecution,
    RecordMapRun,
    RunTask,
    ScheduleStep,
)
from engine._interpreter.events import (
    BranchEnded,
    BranchesJoined,
    MapRunUpdated,
    ThreadActivated,
)
from engine._interpreter.lifecycle import (
    check_payload,
    emit,
    exit_state,
    guarded,
    handle_error,
    state_failed_event,
)
from engine._interpreter.snapshot import (
    FanOut,
    Phase,
    Thread,
    ThreadStatus,
    child_thread_id,
    children_prefix,
    evolve,
)
from engine._interpreter.turn import Turn

Json = Any


# --- Parallel ---------------------------------------------------------------------------


def run_parallel(turn: Turn, thread: Thread, state: AnyState) -> None:
    """Enter a Parallel state: keep the effective input and start every branch."""
    effective = flow.effective_input(turn, thread, state)
    thread = turn.save(evolve(thread, effective=effective))
    start_parallel(turn, thread, state)


def start_parallel(turn: Turn, thread: Thread, state: AnyState) -> None:
    """Start (or restart, on retry) every branch on the same input."""
    assert isinstance(state, ParallelState)
    branch_input = check_payload(
        turn, state, flow.parameters(turn, thread, state, thread.effective)
    )
    generation = _next_generation(thread)
    thread = emit(turn, thread, "ParallelStateStarted")
    children = [
        _child(thread, generation, index, state.name, branch.start_at, branch_input, index)
        for index, branch in enumerate(state.branches)
    ]
    fan_out = FanOut(
        total=len(children),
        started=len(children),
        generation=generation,
        started_event_id=thread.last_event_id,
    )
    turn.save(thread.bump(phase=Phase.BRANCHES, fan_out=fan_out))
    for child in children:
        _activate(turn, child)


# --- Map --------------------------------------------------------------------------------


def run_map(turn: Turn, thread: Thread, state: AnyState) -> None:
    """Enter a Map state: keep the effective input and start the iterations."""
    effective = flow.effective_input(turn, thread, state)
    thread = turn.save(evolve(thread, effective=effective))
    start_map(turn, thread, state)


def start_map(turn: Turn, thread: Thread, state: AnyState) -> None:
    """Read the items (or ask the shell to, for an ItemReader), then start the iterations."""
    assert isinstance(state, MapState)
    _refuse_unsupported_combinations(state)
    if state.item_reader is not None:
        request = map_io.reader_request(turn, thread, state)
        thread = turn.save(thread.bump(phase=Phase.READ))
        turn.decide(
            RunTask(thread.id, thread.seq, map_io.READ_ITEMS, request, state.name, thread.attempts)
        )
        return
    _begin_map(turn, thread, state, map_items(turn, thread, state))


def items_read(turn: Turn, thread: Thread, output: Json) -> None:
    """The ItemReader's items arrived: start the Map over them."""
    state = turn.state(thread)
    assert isinstance(state, MapState)
    thread = turn.save(thread.bump(phase=Phase.ENTER))

    def begin() -> None:
        items = map_io.read_items(state, output, map_io.max_items(turn, thread, state))
        _begin_map(turn, thread, state, items)

    guarded(turn, thread, state, begin, on_give_up=state_failed_event(turn, state))


def map_io_failed(turn: Turn, thread: Thread, error: str, cause: str | None) -> None:
    """The ItemReader or ResultWriter failed: ``States.ItemReaderFailed`` / ``…WriterFailed``."""
    state = turn.state(thread)
    assert isinstance(state, MapState)
    if thread.phase is Phase.READ:
        name, cause = ErrorName.ITEM_READER_FAILED, map_io.reader_cause(error, cause)
        give_up = state_failed_event(turn, state)
    else:
        name, cause = ErrorName.RESULT_WRITER_FAILED, map_io.writer_cause(error, cause)
        record_map_run(turn, thread, "FAILED")

        def give_up(current: Thread) -> Thread:  # the Map Run had started: it fails too
            return emit(turn, emit(turn, current, "MapRunFailed"), "MapStateFailed")

    thread = turn.save(thread.bump(phase=Phase.ENTER))
    handle_error(turn, thread, state, name, cause, on_give_up=give_up)


def _begin_map(turn: Turn, thread: Thread, state: MapState, items: list[Json]) -> None:
    """Emit ``MapStateStarted`` and start the first iterations over ``items``."""
    if _history_cannot_hold(turn, thread, state, len(items)):
        turn.history_exceeded = True  # the step fails the execution, creating no thread
        return
    concurrency = max_concurrency(turn, thread, state)
    thread = emit(turn, thread, "MapStateStarted", {"length": len(items)})
    tolerated_count, tolerated_percentage = tolerance(turn, thread, state)
    map_run_arn = None
    if state.processor_mode is ProcessorMode.DISTRIBUTED:
        map_run_arn = _map_run_arn(turn, state)
        thread = emit(turn, thread, "MapRunStarted", {"mapRunArn": map_run_arn})
    generation = _next_generation(thread)
    assert state.item_processor is not None
    distributed = state.processor_mode is ProcessorMode.DISTRIBUTED
    inputs = [
        check_payload(turn, state, item_input(turn, thread, state, index, item))
        for index, item in enumerate(items)
    ]
    batched = state.item_batcher is not None
    writer = map_io.writer_config(state)
    keep_inputs = writer is not None  # the NONE form of an entry records the child's input
    if state.item_batcher is not None:
        inputs = [
            check_payload(turn, state, batch)
            for batch in _batches(turn, thread, state, state.item_batcher, inputs)
        ]
    # Children differ only in id, index and input: each is a copy of the first one.
    first = _child(thread, generation, 0, state.name, state.item_processor.start_at, None, 0)
    first = evolve(first, silent=thread.silent or distributed)
    prefix = children_prefix(thread, generation)
    children = [
        evolve(
            first,
            id=f"{prefix}{index}",
            index=index,
            input=child_input,
            map_item=child_input if keep_inputs else None,
        )
        for index, child_input in enumerate(inputs)
    ]
    fan_out = FanOut(
        total=len(children),
        generation=generation,
        max_concurrency=concurrency,
        tolerated_failures=tolerated_count,
        tolerated_percentage=tolerated_percentage,
        started_event_id=thread.last_event_id,
        map_run_arn=map_run_arn,
        batch_sizes=tuple(len(batch["Items"]) for batch in inputs) if batched else (),
    )
    thread = turn.save(thread.bump(phase=Phase.BRANCHES, fan_out=fan_out))
    for child in children:
        turn.save(child)
    if not children:
        turn.decide(JoinBranches(thread.id, thread.seq))
        return
    thread = _start_iterations(turn, thread, state, children[: _slots(fan_out)])
    record_map_run(turn, thread, "RUNNING")


MIN_EVENTS_PER_ITERATION = 4
"""``MapIterationStarted``, a state entered and exited, ``MapIterationSucceeded``."""


def _history_cannot_hold(turn: Turn, thread: Thread, state: MapState, count: int) -> bool:
    """Whether ``count`` inline iterations would take the history past its limit.

    Each iteration that succeeds records at least `MIN_EVENTS_PER_ITERATION` events in the
    execution's history, so a Map that cannot fit is failed with the history limit's
    error before its iterations (one thread row each) exist. A Distributed Map's children
    are executions of their own on AWS: they record nothing here and are not counted.
    """
    if thread.silent or state.processor_mode is not ProcessorMode.INLINE:
        return False
    recorded = turn.execution.next_event_id - 1
    return recorded + 1 + MIN_EVENTS_PER_ITERATION * count > turn.limits.history_events


def _start_iterations(
    turn: Turn, parent: Thread, state: MapState, children: list[Thread]
) -> Thread:
    """Emit ``MapIterationStarted`` (inline maps) and activate each of the first ``children``.

    The parent is copied once for all of them, not once per iteration.
    """
    if not children:
        return parent
    fan_out = _fan(parent)
    map_run_arn = recorded_map_run(state, fan_out)
    inline = state.processor_mode is ProcessorMode.INLINE
    last = parent.last_event_id
    for child in children:
        index = child.index or 0
        if inline:
            details = {"index": index, "name": state.name}
            recorded = turn.record(parent, "MapIterationStarted", details, previous=last)
            last = last if recorded is None else recorded
        child = _activate(turn, child, last_event_id=last)
        if map_run_arn is not None:
            record_child_started(turn, map_run_arn, child, fan_out.items_in(index))
    started = evolve(fan_out, started=fan_out.started + len(children))
    return turn.save(evolve(parent, last_event_id=last, fan_out=started))


def _start_iteration(
    turn: Turn, parent: Thread, state: MapState, child_id: str, index: int
) -> Thread:
    """Emit ``MapIterationStarted`` (inline maps) and activate the PENDING iteration ``index``."""
    fan_out = _fan(parent)
    started = evolve(fan_out, started=fan_out.started + 1)
    if state.processor_mode is ProcessorMode.INLINE:
        details = {"index": index, "name": state.name}
        parent = emit(turn, parent, "MapIterationStarted", details, fan_out=started)
    else:
        parent = turn.save(evolve(parent, fan_out=started))
    map_run_arn = recorded_map_run(state, fan_out)
    activated = ThreadActivated(
        child_id, parent.last_event_id, map_run_arn, fan_out.items_in(index)
    )
    turn.decide(Deliver(activated))
    return parent


def activate_pending(turn: Turn, thread: Thread, event: ThreadActivated) -> None:
    """A PENDING iteration got its slot: it starts running."""
    if thread.status is not ThreadStatus.PENDING:
        return
    thread = _activate(turn, thread, last_event_id=event.previous_event_id)
    if event.map_run_arn is not None:
        record_child_started(turn, event.map_run_arn, thread, event.item_count)


def recorded_map_run(state: MapState, fan_out: FanOut) -> str | None:
    """The Map Run whose children are recorded as executions: a Distributed Map's, STANDARD.

    EXPRESS children are not kept, as AWS keeps no Express executions (ADR 0027).
    """
    return fan_out.map_run_arn if state.execution_type != "EXPRESS" else None


def record_child_started(
    turn: Turn, map_run_arn: str, child: Thread, item_count: int, *, redriven: bool = False
) -> None:
    """A Distributed Map's child runs (again, ``redriven``): its child execution is RUNNING."""
    index = child.index or 0
    turn.decide(
        RecordChildExecution(
            map_run_arn=map_run_arn,
            arn=map_io.child_execution_arn(map_run_arn, index),
            index=index,
            status="RUNNING",
            at=turn.now,
            item_count=item_count,
            input=child.input,
            redriven=redriven,
        )
    )


def _activate(turn: Turn, child: Thread, **changes: Any) -> Thread:
    """The PENDING ``child`` runs: its first state is due (``changes``: set on the way)."""
    child = turn.save(child.bump(status=ThreadStatus.RUNNING, **changes))
    turn.decide(ScheduleStep(child.id, child.seq, child.state))
    return child


def _child(
    parent: Thread,
    generation: int,
    index: int,
    state_name: str,
    start_at: str,
    child_input: Json,
    branch: int,
) -> Thread:
    """A new child, PENDING until activated (Map iterations wait for a slot)."""
    return Thread(
        id=child_thread_id(parent, generation, index),
        parent_id=parent.id,
        index=index,
        scope=(*parent.scope, state_name, branch),
        status=ThreadStatus.PENDING,
        silent=parent.silent,
        state=start_at,
        input=child_input,
        last_event_id=parent.last_event_id,
        variables=parent.variables,
    )


def _fan(thread: Thread) -> FanOut:
    """The progress of a thread in phase BRANCHES (always set there)."""
    assert thread.fan_out is not None
    return thread.fan_out


def _next_generation(thread: Thread) -> int:
    return thread.fan_out.generation + 1 if thread.fan_out is not None else 0


def _slots(fan_out: FanOut) -> int:
    running = fan_out.started - fan_out.finished
    limit = fan_out.max_concurrency or fan_out.total
    return max(0, min(limit - running, fan_out.total - fan_out.started))


# --- Children ending --------------------------------------------------------------------


def branch_ended(turn: Turn, thread: Thread, event: BranchEnded) -> None:
    """A child ended: count it; join, start the next iteration, or fail the state."""
    fan_out = thread.fan_out
    if thread.phase is not Phase.BRANCHES or fan_out is None or not _current(thread, event):
        return
    if fan_out.has_ended(event.index):
        return  # a duplicate: this child was counted already
    ended = fan_out.mark_ended(event.index)
    state = turn.state(thread)
    if isinstance(state, MapState):
        _iteration_ended(turn, thread, state, event, ended)
    elif event.succeeded:
        _count_success(turn, thread, ended=ended)
    else:
        thread = turn.save(evolve(thread, fan_out=evolve(fan_out, ended=ended)))
        _fail_fan_out(turn, thread, state, event, "ParallelStateFailed")


def map_run_updated(turn: Turn, thread: Thread, event: MapRunUpdated) -> None:
    """UpdateMapRun: new limits apply from now on; more slots start pending children."""
    fan_out = thread.fan_out
    if thread.phase is not Phase.BRANCHES or fan_out is None:
        return
    if fan_out.map_run_arn != event.map_run_arn:
        return  # the Map Run ended (or was retried into a new one) meanwhile
    if event.max_concurrency is not None:
        fan_out = evolve(fan_out, max_concurrency=event.max_concurrency)
    if event.tolerated_failure_count is not None:
        fan_out = evolve(fan_out, tolerated_failures=event.tolerated_failure_count)
    if event.tolerated_failure_percentage is not None:
        fan_out = evolve(fan_out, tolerated_percentage=event.tolerated_failure_percentage)
    thread = turn.save(evolve(thread, fan_out=fan_out))
    state = turn.state(thread)
    assert isinstance(state, MapState)
    thread = refill_slots(turn, thread, state)
    record_map_run(turn, thread, "RUNNING")


def _current(thread: Thread, event: BranchEnded) -> bool:
    assert thread.fan_out is not None
    return event.child_id == child_thread_id(thread, thread.fan_out.generation, event.index)


def _count_success(turn: Turn, thread: Thread, **changes: Any) -> Thread:
    """Count a child that succeeded (``changes``: more of the fan-out to set)."""
    assert thread.fan_out is not None
    fan_out = evolve(thread.fan_out, succeeded=thread.fan_out.succeeded + 1, **changes)
    return _after_count(turn, turn.save(evolve(thread, fan_out=fan_out)))


def _after_count(turn: Turn, thread: Thread) -> Thread:
    assert thread.fan_out is not None
    if thread.fan_out.finished == thread.fan_out.total:
        turn.decide(JoinBranches(thread.id, thread.seq))
    return thread


def _iteration_ended(
    turn: Turn, thread: Thread, state: MapState, event: BranchEnded, ended: str
) -> None:
    """An iteration ended: record and count it, then join, fail or start the next one.

    ``ended``: the fan-out's bitmap of ended children, this one marked.
    """
    fan_out = _fan(thread)
    counted = _counted(fan_out, event, ended)
    if state.processor_mode is ProcessorMode.INLINE:
        kind = "Succeeded" if event.succeeded else "Failed"
        details = {"index": event.index, "name": state.name}
        previous = event.last_event_id
        thread = emit(
            turn, thread, f"MapIteration{kind}", details, previous=previous, fan_out=counted
        )
    else:
        thread = turn.save(evolve(thread, fan_out=counted))
    _record_child_ended(turn, thread, state, event)
    if not event.succeeded and over_tolerance(counted):
        _fail_fan_out(turn, thread, state, event, "MapStateFailed")
        return
    thread = _after_count(turn, thread)
    thread = refill_slots(turn, thread, state)
    record_map_run(turn, thread, "RUNNING")


def _record_child_ended(turn: Turn, thread: Thread, state: MapState, event: BranchEnded) -> None:
    """A Distributed Map's child ended: its child execution SUCCEEDED or FAILED."""
    fan_out = _fan(thread)
    map_run_arn = recorded_map_run(state, fan_out)
    if map_run_arn is None:
        return
    turn.decide(
        RecordChildExecution(
            map_run_arn=map_run_arn,
            arn=map_io.child_execution_arn(map_run_arn, event.index),
            index=event.index,
            status="SUCCEEDED" if event.succeeded else "FAILED",
            at=turn.now,
            item_count=fan_out.items_in(event.index),
            output=event.output if event.succeeded else None,
            error=None if event.succeeded else event.error,
            cause=None if event.succeeded else event.cause,
        )
    )


def _counted(fan_out: FanOut, event: BranchEnded, ended: str) -> FanOut:
    """``fan_out`` with the ended child counted, its items too (the Map Run's counts)."""
    items = fan_out.items_in(event.index)
    if event.succeeded:
        return evolve(
            fan_out,
            ended=ended,
            succeeded=fan_out.succeeded + 1,
            succeeded_items=fan_out.succeeded_items + items,
        )
    return evolve(
        fan_out, ended=ended, failed=fan_out.failed + 1, failed_items=fan_out.failed_items + items
    )


def record_map_run(turn: Turn, thread: Thread, status: str) -> None:
    """Tell the shell where the Map Run of a Distributed Map is (no-op for other fan-outs)."""
    fan_out = thread.fan_out
    if fan_out is None or fan_out.map_run_arn is None:
        return
    running = fan_out.started - fan_out.finished
    started_items = sum(fan_out.batch_sizes[: fan_out.started]) or fan_out.started
    running_items = started_items - fan_out.succeeded_items - fan_out.failed_items
    aborted, aborted_items = (running, running_items) if status == "FAILED" else (0, 0)
    turn.decide(
        RecordMapRun(
            map_run_arn=fan_out.map_run_arn,
            thread_id=thread.id,
            status=status,
            start_date=turn.now,
            stop_date=None if status == "RUNNING" else turn.now,
            max_concurrency=fan_out.max_concurrency,
            tolerated_failure_count=fan_out.tolerated_failures or 0,
            tolerated_failure_percentage=fan_out.tolerated_percentage or 0.0,
            execution_counts=_counts(
                fan_out.total,
                fan_out.total - fan_out.started,
                running - aborted,
                fan_out.succeeded,
                fan_out.failed,
                aborted,
            ),
            item_counts=_counts(
                fan_out.item_total,
                fan_out.item_total - started_items,
                running_items - aborted_items,
                fan_out.succeeded_items,
                fan_out.failed_items,
                aborted_items,
            ),
        )
    )


def _counts(
    total: int, pending: int, running: int, succeeded: int, failed: int, aborted: int
) -> dict[str, int]:
    """AWS's MapRunExecutionCounts / MapRunItemCounts (children never time out here)."""
    return {
        "pending": pending,
        "running": running,
        "succeeded": succeeded,
        "failed": failed,
        "timedOut": 0,
        "aborted": aborted,
        "total": total,
        "resultsWritten": 0,
    }


def refill_slots(turn: Turn, thread: Thread, state: MapState) -> Thread:
    """Start the next iterations, in index order, while MaxConcurrency leaves slots free."""
    fan_out = thread.fan_out
    assert fan_out is not None
    for _ in range(_slots(fan_out)):
        assert thread.fan_out is not None
        index = thread.fan_out.started
        child_id = child_thread_id(thread, thread.fan_out.generation, index)
        thread = _start_iteration(turn, thread, state, child_id, index)
    return thread


def over_tolerance(fan_out: FanOut) -> bool:
    """AWS fails the Map once either configured threshold is exceeded (any failure if none)."""
    count, percentage = fan_out.tolerated_failures, fan_out.tolerated_percentage
    if count is None and percentage is None:
        return fan_out.failed > 0
    over_count = count is not None and fan_out.failed > count
    over_percentage = (
        percentage is not None and fan_out.failed * 100.0 / max(fan_out.total, 1) > percentage
    )
    return over_count or over_percentage


def _fail_fan_out(
    turn: Turn, thread: Thread, state: AnyState, event: BranchEnded, failed_event: str
) -> None:
    """Stop the other children; then Retry (restart), Catch or fail the state."""
    turn.decide(AbortChildren(thread.id))
    error, cause = event.error or ErrorName.BRANCH_FAILED, event.cause
    if isinstance(state, MapState) and _tolerance_configured(thread):
        error = ErrorName.EXCEED_TOLERATED_FAILURE_THRESHOLD
        cause = "The specified tolerated failure threshold was exceeded"
    record_map_run(turn, thread, "FAILED")
    thread = turn.save(evolve(thread, phase=Phase.ENTER))

    def give_up(current: Thread) -> Thread:
        if isinstance(state, MapState) and state.processor_mode is ProcessorMode.DISTRIBUTED:
            current = emit(turn, current, "MapRunFailed", previous=event.last_event_id)
            return emit(turn, current, failed_event)
        return emit(turn, current, failed_event, previous=event.last_event_id)

    handle_error(turn, thread, state, error, cause, on_give_up=give_up)


def _tolerance_configured(thread: Thread) -> bool:
    fan_out = thread.fan_out
    return fan_out is not None and (
        fan_out.tolerated_failures is not None or fan_out.tolerated_percentage is not None
    )


def branches_joined(turn: Turn, thread: Thread, event: BranchesJoined) -> None:
    """Every child ended: write the results if asked, then ``*StateSucceeded`` and output."""
    state = turn.state(thread)
    writer = map_io.writer_config(state) if isinstance(state, MapState) else None
    if writer is None or not isinstance(state, MapState):
        _succeed_fan_out(turn, thread, state, list(event.outputs))
        return
    children = _child_results(event)
    arn = _fan(thread).map_run_arn or ""
    entries = map_io.result_entries(turn, thread, arn, children, writer.transformation)
    if not writer.writes:
        _succeed_fan_out(turn, thread, state, entries)
        return
    statuses = map_io.entry_statuses(children, writer.transformation)

    def write() -> None:
        request = map_io.writer_request(turn, thread, state, writer, arn, entries, statuses)
        current = turn.save(thread.bump(phase=Phase.WRITE))
        turn.decide(
            RunTask(
                current.id, current.seq, map_io.WRITE_RESULTS, request, state.name, current.attempts
            )
        )

    guarded(turn, thread, state, write, on_give_up=state_failed_event(turn, state))


def results_written(turn: Turn, thread: Thread, output: Json) -> None:
    """The ResultWriter wrote the Map Run's files: the Map's result points at the manifest."""
    state = turn.state(thread)
    arn = _fan(thread).map_run_arn or ""
    _succeed_fan_out(turn, thread, state, map_io.written_output(arn, output))


def _child_results(event: BranchesJoined) -> list[map_io.ChildResult]:
    failed = set(event.failed)
    inputs = event.inputs or (None,) * len(event.outputs)
    return [
        map_io.ChildResult(index, index not in failed, inputs[index], output)
        for index, output in enumerate(event.outputs)
    ]


def _succeed_fan_out(turn: Turn, thread: Thread, state: AnyState, result: Json) -> None:
    """``*StateSucceeded`` (and ``MapRunSucceeded``), then the state's result processing."""
    if isinstance(state, MapState):
        if state.processor_mode is ProcessorMode.DISTRIBUTED:
            record_map_run(turn, thread, "SUCCEEDED")
            thread = emit(turn, thread, "MapRunSucceeded")
        thread = emit(turn, thread, "MapStateSucceeded")
    else:
        thread = emit(turn, thread, "ParallelStateSucceeded")
    thread = turn.save(thread.bump(phase=Phase.ENTER))

    def finish() -> None:
        outcome = flow.result_outcome(turn, thread, state, result)
        exit_state(turn, thread, state, outcome, state.next)

    guarded(turn, thread, state, finish)


# --- Map inputs and limits ---------------------------------------------------------------


def _refuse_unsupported_combinations(state: MapState) -> None:
    """Fail loudly, before any child runs, on what would otherwise be silently ignored."""
    if state.item_reader is not None and (state.has_items or state.items_path not in (None, "$")):
        raise StatesRuntimeError(
            ErrorName.ITEM_READER_FAILED,
            f"Map state '{state.name}': ItemsPath/Items cannot select items from an "
            "ItemReader's items in stepline; map over the items as read, and use ItemSelector",
        )
    if state.result_writer is not None and state.processor_mode is not ProcessorMode.DISTRIBUTED:
        raise StatesRuntimeError(
            ErrorName.RESULT_WRITER_FAILED,
            f"Map state '{state.name}': a ResultWriter needs a Distributed Map "
            "(ItemProcessor.ProcessorConfig.Mode DISTRIBUTED): an inline Map has no Map Run "
            "whose results it could write",
        )


def map_items(turn: Turn, thread: Thread, state: MapState) -> list[Json]:
    if flow.is_jsonata(state):
        if state.has_items:
            return _jsonata_items(turn, thread, state.items)
        value, error = thread.input, ErrorName.QUERY_EVALUATION_ERROR
    else:
        scope = turn.scope(thread, thread.effective)
        value = paths.read_path(state.items_path or "$", scope, field="ItemsPath")
        error = ErrorName.RUNTIME
    if not isinstance(value, list):
        raise StatesRuntimeError(
            error, f"Map state input must be an array but was: {flow.compact_json(value)}"
        )
    return value


def _jsonata_items(turn: Turn, thread: Thread, items: Json) -> list[Json]:
    """``Items``: one expression that must yield an array, or an array of values/expressions."""
    scope = flow.jsonata_scope(turn, thread)
    if jsonata.is_expression(items):
        value = jsonata.evaluate_expression(items, scope, field="Items", expect="array")
    else:
        value = flow.evaluate_jsonata(items, scope, "Items")
    return list(value)


def item_input(turn: Turn, thread: Thread, state: MapState, index: int, item: Json) -> Json:
    if not state.has_item_selector:
        return item
    map_item = {"Index": index, "Value": item}
    if flow.is_jsonata(state):
        scope = flow.jsonata_scope(turn, thread, map_item=map_item)
        return flow.evaluate_jsonata(state.item_selector, scope, "ItemSelector")
    scope = turn.scope(thread, thread.effective, map_item=map_item)
    return payload.evaluate_payload(state.item_selector, scope, field="ItemSelector")


def _batches(
    turn: Turn, thread: Thread, state: MapState, batcher: ItemBatcher, inputs: list[Json]
) -> list[Json]:
    """The children's inputs once ``ItemBatcher`` grouped the (selected) items."""
    batch_input = _batch_input(turn, thread, state, batcher)
    limit = turn.limits.payload_bytes
    max_bytes = _batch_limit(
        turn, thread, batcher.max_input_bytes, batcher.max_input_bytes_path, "MaxInputBytesPerBatch"
    )
    limits = BatchLimits(
        max_items=_batch_limit(
            turn, thread, batcher.max_items, batcher.max_items_path, "MaxItemsPerBatch"
        ),
        max_input_bytes=limit if max_bytes is None else min(max_bytes, limit),
    )
    return group_into_batches(state.name, inputs, limits, batch_input, batcher.has_batch_input)


def _batch_input(turn: Turn, thread: Thread, state: MapState, batcher: ItemBatcher) -> Json:
    """``BatchInput`` evaluated once for the whole run, as every batch carries the same."""
    if not batcher.has_batch_input:
        return None
    if flow.is_jsonata(state):
        scope = flow.jsonata_scope(turn, thread)
        return flow.evaluate_jsonata(batcher.batch_input, scope, "BatchInput")
    scope = turn.scope(thread, thread.effective)
    return payload.evaluate_payload(batcher.batch_input, scope, field="BatchInput")


def _batch_limit(
    turn: Turn, thread: Thread, value: Json, path: str | None, field: str
) -> int | None:
    """A positive batch limit from its literal, JSONata or ``*Path`` form (None: not given)."""
    if path is not None:
        scope = turn.scope(thread, thread.effective)
        value = _integer(paths.read_path(path, scope, field=f"{field}Path"), f"{field}Path", path)
        field = f"{field}Path"
    else:
        value = _literal_or_jsonata_int(turn, thread, value, field)
    if value is None:
        return None
    if value <= 0:
        raise StatesRuntimeError(
            ErrorName.RUNTIME, f"{field} must be a positive integer, but was: {value}"
        )
    return int(value)


def max_concurrency(turn: Turn, thread: Thread, state: MapState) -> int:
    """MaxConcurrency (0: unlimited); a negative value would start nothing, so it fails."""
    if state.max_concurrency_path is not None:
        scope = turn.scope(thread, thread.effective)
        value = paths.read_path(state.max_concurrency_path, scope, field="MaxConcurrencyPath")
        limit = _integer(value, "MaxConcurrencyPath", state.max_concurrency_path)
    else:
        limit = _literal_or_jsonata_int(turn, thread, state.max_concurrency, "MaxConcurrency") or 0
    if limit < 0:
        raise StatesRuntimeError(ErrorName.RUNTIME, "MaxConcurrency cannot be negative.")
    return limit


def tolerance(turn: Turn, thread: Thread, state: MapState) -> tuple[int | None, float | None]:
    scope = turn.scope(thread, thread.effective)
    count: Json = state.tolerated_failure_count
    if state.tolerated_failure_count_path is not None:
        value = paths.read_path(
            state.tolerated_failure_count_path, scope, field="ToleratedFailureCountPath"
        )
        count = _integer(value, "ToleratedFailureCountPath", state.tolerated_failure_count_path)
    else:
        count = _literal_or_jsonata_int(turn, thread, count, "ToleratedFailureCount")
    if count is not None and count < 0:
        raise StatesRuntimeError(ErrorName.RUNTIME, "ToleratedFailureCount cannot be negative.")
    percentage = _percentage(turn, thread, state, scope)
    return count, percentage


def _percentage(turn: Turn, thread: Thread, state: MapState, scope: Any) -> float | None:
    value: Json = state.tolerated_failure_percentage
    path = state.tolerated_failure_percentage_path
    if path is not None:
        value = paths.read_path(path, scope, field="ToleratedFailurePercentagePath")
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value):
            value = float(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise StatesRuntimeError(
                ErrorName.RUNTIME,
                f"The ToleratedFailurePercentagePath field refers to value "
                f'"{_plain(value)}" which is not a valid number: {path}',
            )
    elif jsonata.is_expression(value):
        value = flow.evaluate_jsonata(
            value, flow.jsonata_scope(turn, thread), "ToleratedFailurePercentage"
        )
    if value is None:
        return None
    if not 0 <= float(value) <= 100:
        raise StatesRuntimeError(
            ErrorName.RUNTIME, "ToleratedFailurePercentage must be between 0 and 100."
        )
    return float(value)


def _literal_or_jsonata_int(turn: Turn, thread: Thread, value: Json, field: str) -> int | None:
    if jsonata.is_expression(value):
        value = flow.evaluate_jsonata(value, flow.jsonata_scope(turn, thread), field)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise StatesRuntimeError(
                ErrorName.QUERY_EVALUATION_ERROR,
                f"The {field} field must evaluate to an integer, but was: "
                f"{flow.compact_json(value)}",
                location=field,
            )
    return value if value is None else int(value)


def _integer(value: Json, field: str, path: str) -> int:
    """An integer read through a ``*Path``: AWS also accepts integral numbers and numeric text."""
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        value = int(value)
    if isinstance(value, float) and value.is_integer() and not math.isinf(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise StatesRuntimeError(
            ErrorName.RUNTIME,
            f'The {field} field refers to value "{_plain(value)}" which is not a valid '
            f"integer: {path}",
        )
    return value


def _plain(value: Json) -> str:
    return value if isinstance(value, str) else flow.compact_json(value)


def _map_run_arn(turn: Turn, state: MapState) -> str:
    """``arn:...:mapRun:MACHINE/LABEL:UUID``: the Label, else the state's name, as on AWS."""
    execution = turn.execution
    machine_part = execution.state_machine_arn.split(":")[-1]
    arn_prefix = ":".join(execution.arn.split(":")[:5])
    label = state.label if state.label is not None else state.name
    return f"{arn_prefix}:mapRun:{machine_part}/{label}:{intrinsic_functions.random_uuid(turn.rng)}"
