"""TestState: one state evaluated alone, with every data-flow stage kept for inspection.

The evaluation reuses the interpreter's own data-flow functions (`flow`, `paths`,
`states.fail_field`, `retry`): only the order of the stages and what is recorded between
them live here. A Task's resource is reached through ``run_task``, injected by the shell
(a mock, or the handler registry executions use), so this module stays pure.

Outcomes, as AWS's TestState reports them:

* ``SUCCEEDED``: the state's output and ``nextState`` (None when it ends the machine);
* ``FAILED``: ``error`` / ``cause`` (a Fail state, or an error nothing handles);
* ``RETRIABLE``: the error matches a retrier with attempts left (``retrierRetryCount``
  says how many were used); ``errorDetails`` names the retrier and its backoff;
* ``CAUGHT_ERROR``: a catcher handles the error; the output is its error output and
  ``nextState`` its ``Next``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
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
from engine._dataflow.scope import Scope
from engine._errors import ErrorName, StatesError, StatesRuntimeError, StatesTerminalError
from engine._interpreter import fanout, flow
from engine._interpreter.lifecycle import size_cause
from engine._interpreter.retry import backoff_seconds, find_catcher, find_retrier
from engine._interpreter.seeded import step_rng
from engine._interpreter.snapshot import (
    ROOT_THREAD_ID,
    Execution,
    FanOut,
    Thread,
    ThreadStatus,
    evolve,
)
from engine._interpreter.states import fail_field, rule_holds, wait_due
from engine._interpreter.turn import Limits, Turn, iso_timestamp

Json = Any
RunTask = Callable[[TaskState, Json], Json]
"""Runs a Task's resource with its parameters; returns the result or raises `StatesError`."""

_ABSENT: Any = flow.UNSET


class ProbeStatus(StrEnum):
    """TestState's ``status``."""

    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    RETRIABLE = "RETRIABLE"
    CAUGHT_ERROR = "CAUGHT_ERROR"


@dataclass(frozen=True)
class ProbeRequest:
    """What TestState evaluates.

    Attributes:
        machine: the machine holding the state (a lone state is wrapped in one).
        state_name: the state to evaluate.
        input: the state's raw input.
        variables: the variables the state sees.
        context: fields of the context object (``$$``) the caller supplies.
        execution: the execution header the context object is built from.
        now: the injected clock reading; seed: seeds ``States.UUID`` and jitter.
        retrier_retry_count: attempts already used by the retrier matching the error.
        map_iteration_failure_count: iterations of a tested Map taken to have failed.
        mock_result / mock_error: a mocked Task/Parallel/Map outcome (``_ABSENT`` / None).
    """

    machine: StateMachine
    state_name: str
    input: Json
    execution: Execution
    now: datetime
    seed: int
    variables: Mapping[str, Json] = field(default_factory=dict)
    context: Mapping[str, Json] = field(default_factory=dict)
    retrier_retry_count: int = 0
    map_iteration_failure_count: int = 0
    mock_result: Json = _ABSENT
    mock_error: tuple[str, str | None] | None = None


@dataclass
class Inspection:
    """The data-flow stages TestState reports at DEBUG (AWS's ``inspectionData``)."""

    stages: dict[str, Json] = field(default_factory=dict)
    error_details: dict[str, int] = field(default_factory=dict)
    limits: dict[str, int | float] = field(default_factory=dict)

    def record(self, stage: str, value: Json) -> Json:
        """Keep ``value`` as ``stage`` and hand it back (so stages chain inline)."""
        self.stages[stage] = value
        return value


@dataclass(frozen=True)
class ProbeResult:
    """TestState's answer before it is rendered as JSON text."""

    status: ProbeStatus
    inspection: Inspection
    output: Json = _ABSENT
    next_state: str | None = None
    error: str | None = None
    cause: str | None = None
    variables: Mapping[str, Json] | None = None


class _ProbeTurn(Turn):
    """A turn whose context object carries the caller's ``context`` fields on top."""

    def __init__(self, request: ProbeRequest, limits: Limits) -> None:
        rng = step_rng(request.seed, ROOT_THREAD_ID, 0)
        super().__init__(request.machine, request.execution, request.now, rng, limits)
        self.extra_context = request.context

    def scope(self, thread: Thread, value: Json, **options: Any) -> Scope:
        """The interpreter's scope, with the caller's context fields merged into ``$$``."""
        base = super().scope(thread, value, **options)
        return evolve(base, context=_merge(base.context, self.extra_context))


def _merge(base: Json, extra: Json) -> Json:
    if not isinstance(base, dict) or not isinstance(extra, Mapping):
        return extra
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = _merge(base.get(key), value) if key in base else value
    return merged


def probe(request: ProbeRequest, run_task: RunTask, limits: Limits | None = None) -> ProbeResult:
    """Evaluate ``request.state_name`` once and classify the outcome as TestState does."""
    turn = _ProbeTurn(request, limits or Limits())
    state = request.machine.states[request.state_name]
    thread = Thread(
        id=ROOT_THREAD_ID,
        parent_id=None,
        index=None,
        scope=(),
        status=ThreadStatus.RUNNING,
        state=state.name,
        input=request.input,
        entered_time=iso_timestamp(request.now),
        variables=dict(request.variables),
        retry_counts=(request.retrier_retry_count,),  # $$.State.RetryCount of a Task
    )
    inspection = Inspection()
    inspection.record("input", request.input)
    try:
        result = _evaluate(turn, thread, state, request, run_task, inspection)
    except StatesRuntimeError as error:
        cause = error.prefixed_cause(state.name, 0)
        if error.name == ErrorName.RUNTIME:
            return ProbeResult(ProbeStatus.FAILED, inspection, error=error.name, cause=cause)
        return _handle(turn, thread, state, request, inspection, error.name, cause)
    except StatesTerminalError as error:  # no Retry or Catch handles it
        return ProbeResult(ProbeStatus.FAILED, inspection, error=error.name, cause=error.cause)
    except StatesError as error:
        return _handle(turn, thread, state, request, inspection, error.name, error.cause)
    return _within_limits(result, state, turn.limits)


def _within_limits(result: ProbeResult, state: AnyState, limits: Limits) -> ProbeResult:
    """The result, or the ``States.DataLimitExceeded`` failure an execution would meet."""
    if result.output is _ABSENT:
        return result
    cause = size_cause(result.output, limits.payload_bytes, state.name)
    if cause is None:
        return result
    return ProbeResult(
        ProbeStatus.FAILED,
        result.inspection,
        error=ErrorName.DATA_LIMIT_EXCEEDED,
        cause=cause,
    )


def _evaluate(
    turn: Turn,
    thread: Thread,
    state: AnyState,
    request: ProbeRequest,
    run_task: RunTask,
    inspection: Inspection,
) -> ProbeResult:
    if isinstance(state, FailState):
        error = fail_field(turn, thread, state, state.error, state.error_path, "Error")
        cause = fail_field(turn, thread, state, state.cause, state.cause_path, "Cause")
        return ProbeResult(ProbeStatus.FAILED, inspection, error=error, cause=cause)
    if isinstance(state, ChoiceState):
        return _choice(turn, thread, state, inspection)
    if isinstance(state, SucceedState | WaitState):
        effective = _effective_input(turn, thread, state, inspection)
        if isinstance(state, WaitState):
            wait_due(turn, thread, state, effective)  # its fields fail here, but it never waits
        outcome = flow.passthrough_outcome(turn, thread, state, effective)
        return _succeeded(thread, state, outcome, state.next, inspection)
    if isinstance(state, PassState):
        return _pass(turn, thread, state, inspection)
    result = _result(turn, thread, state, request, run_task, inspection)
    outcome = _result_stages(turn, thread, state, result, inspection)
    return _succeeded(thread, state, outcome, state.next, inspection)


def _effective_input(turn: Turn, thread: Thread, state: AnyState, inspection: Inspection) -> Json:
    effective = flow.effective_input(turn, thread, state)
    if not flow.is_jsonata(state):
        inspection.record("afterInputPath", effective)
    return effective


def _pass(turn: Turn, thread: Thread, state: PassState, inspection: Inspection) -> ProbeResult:
    if flow.is_jsonata(state):
        outcome = flow.passthrough_outcome(turn, thread, state, thread.input)
        return _succeeded(thread, state, outcome, state.next, inspection)
    effective = _effective_input(turn, thread, state, inspection)
    if state.has_result:
        result = state.result
    else:
        result = inspection.record(
            "afterParameters", flow.parameters(turn, thread, state, effective)
        )
    inspection.record("result", result)
    outcome = _result_stages(turn, thread, state, result, inspection)
    return _succeeded(thread, state, outcome, state.next, inspection)


def _choice(turn: Turn, thread: Thread, state: ChoiceState, inspection: Inspection) -> ProbeResult:
    effective = _effective_input(turn, thread, state, inspection)
    for branch in state.choices:
        if rule_holds(turn, thread, branch.rule, effective):
            outcome = flow.passthrough_outcome(turn, thread, state, effective, branch=branch)
            return _succeeded(thread, state, outcome, branch.next, inspection)
    if state.default is None:
        raise StatesError(ErrorName.NO_CHOICE_MATCHED, None)
    outcome = flow.passthrough_outcome(turn, thread, state, effective)
    return _succeeded(thread, state, outcome, state.default, inspection)


def _result(
    turn: Turn,
    thread: Thread,
    state: AnyState,
    request: ProbeRequest,
    run_task: RunTask,
    inspection: Inspection,
) -> Json:
    """The Task/Parallel/Map result: the mock's, or (a Task only) the resource's."""
    effective = _effective_input(turn, thread, state, inspection)
    if isinstance(state, MapState):
        items = _map_stages(turn, thread, state, effective, inspection)
        _check_tolerance(len(items), request.map_iteration_failure_count, inspection)
    else:
        stage = "afterArguments" if flow.is_jsonata(state) else "afterParameters"
        with_retry = isinstance(state, TaskState)
        inspection.record(
            stage, flow.parameters(turn, thread, state, effective, with_retry_count=with_retry)
        )
    if request.mock_error is not None:
        raise StatesError(*request.mock_error)
    if request.mock_result is not _ABSENT:
        return inspection.record("result", request.mock_result)
    if isinstance(state, ParallelState | MapState):
        raise ValueError(
            f"state '{state.name}': a {state.type_name} state is tested with a mock: "
            "expected mock.result or mock.errorOutput, got neither"
        )
    assert isinstance(state, TaskState)
    parameters = inspection.stages.get("afterParameters", inspection.stages.get("afterArguments"))
    return inspection.record("result", run_task(state, parameters))


def _map_stages(
    turn: Turn, thread: Thread, state: MapState, effective: Json, inspection: Inspection
) -> list[Json]:
    """Items, each item's ItemSelector input and the Map's limits, as AWS shows them."""
    thread = evolve(thread, effective=effective)
    items = fanout.map_items(turn, thread, state)
    if not flow.is_jsonata(state):
        inspection.record("afterItemsPath", items)
    if state.has_item_selector:
        selected = [fanout.item_input(turn, thread, state, i, item) for i, item in enumerate(items)]
        inspection.record("afterItemSelector", selected)
    inspection.limits["maxConcurrency"] = fanout.max_concurrency(turn, thread, state)
    count, percentage = fanout.tolerance(turn, thread, state)
    if count is not None:
        inspection.limits["toleratedFailureCount"] = count
    if percentage is not None:
        inspection.limits["toleratedFailurePercentage"] = percentage
    return items


def _check_tolerance(total: int, failures: int, inspection: Inspection) -> None:
    """Fail the Map as an execution would once ``failures`` exceed its tolerated threshold."""
    count = inspection.limits.get("toleratedFailureCount")
    percentage = inspection.limits.get("toleratedFailurePercentage")
    if failures == 0 or (count is None and percentage is None):
        return  # without a threshold, the failing iteration's own error is the mock's
    fan_out = FanOut(
        total=total,
        failed=failures,
        tolerated_failures=None if count is None else int(count),
        tolerated_percentage=None if percentage is None else float(percentage),
    )
    if fanout.over_tolerance(fan_out):
        raise StatesError(
            ErrorName.EXCEED_TOLERATED_FAILURE_THRESHOLD,
            "The specified tolerated failure threshold was exceeded",
        )


def _result_stages(
    turn: Turn, thread: Thread, state: AnyState, result: Json, inspection: Inspection
) -> flow.Outcome:
    retry_count = isinstance(state, TaskState)  # only a Task's fields see $$.State.RetryCount
    stages = flow.result_stages(turn, thread, state, result, retry_count=retry_count)
    if not flow.is_jsonata(state):
        inspection.record("afterResultSelector", stages.after_result_selector)
        inspection.record("afterResultPath", stages.after_result_path)
    return stages.outcome


def _succeeded(
    thread: Thread,
    state: AnyState,
    outcome: flow.Outcome,
    next_name: str | None,
    inspection: Inspection,
) -> ProbeResult:
    variables = {**thread.variables, **outcome.assigned}
    return ProbeResult(
        ProbeStatus.SUCCEEDED,
        inspection,
        output=outcome.output,
        next_state=next_name,
        variables=variables,
    )


def _handle(
    turn: Turn,
    thread: Thread,
    state: AnyState,
    request: ProbeRequest,
    inspection: Inspection,
    error: str,
    cause: str | None,
) -> ProbeResult:
    """Retry first (attempts left: RETRIABLE), then Catch (CAUGHT_ERROR), else FAILED."""
    retriers = getattr(state, "retry", ())
    index = find_retrier(retriers, error)
    if index is not None and request.retrier_retry_count < retriers[index].max_attempts:
        delay = backoff_seconds(retriers[index], request.retrier_retry_count, turn.rng)
        inspection.error_details = {"retryIndex": index, "retryBackoffIntervalSeconds": int(delay)}
        return ProbeResult(ProbeStatus.RETRIABLE, inspection, error=error, cause=cause)
    catchers = getattr(state, "catch", ())
    catcher = find_catcher(catchers, error)
    if catcher is None:
        return ProbeResult(ProbeStatus.FAILED, inspection, error=error, cause=cause)
    error_output: dict[str, Json] = {"Error": error}
    if cause is not None:
        error_output["Cause"] = cause
    try:
        outcome = flow.catch_outcome(turn, thread, state, catcher, error_output)
    except StatesRuntimeError as failure:
        prefixed = failure.prefixed_cause(state.name, 0)
        return ProbeResult(ProbeStatus.FAILED, inspection, error=failure.name, cause=prefixed)
    inspection.error_details = {"catchIndex": catchers.index(catcher)}
    return ProbeResult(
        ProbeStatus.CAUGHT_ERROR,
        inspection,
        output=outcome.output,
        next_state=catcher.next,
        error=error,
        cause=cause,
        variables={**thread.variables, **outcome.assigned},
    )
