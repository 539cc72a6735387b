"""Parallel: branch outputs in order, data flow, failure propagation, retry and catch."""

from __future__ import annotations

from typing import Any

from engine._clock import FakeClock
from engine._interpreter.decisions import AbortChildren
from engine._interpreter.events import BranchEnded, TimerKind
from engine._interpreter.snapshot import ExecutionStatus, ThreadStatus
from engine._resources import HandlerContext
from tests.unit.interpreter.support import (
    T0,
    PureDriver,
    jsonata,
    lambda_arn,
    of_type,
    one,
    registry,
    run,
    types,
)

Json = Any


def _branch(*states: tuple[str, dict[str, Json]]) -> dict[str, Json]:
    """A branch running ``states`` in sequence."""
    names = [name for name, _ in states]
    body = {}
    for position, (name, state) in enumerate(states):
        follow = {"Next": names[position + 1]} if position + 1 < len(names) else {}
        terminal = state["Type"] in ("Succeed", "Fail")
        body[name] = {**state, **(follow or ({} if terminal else {"End": True}))}
    return {"StartAt": names[0], "States": body}


def _parallel(*branches: dict[str, Json], **fields: Json) -> dict[str, Json]:
    state = {"Type": "Parallel", "Branches": list(branches), **fields}
    states: dict[str, Json] = {"Par": state}
    if "Catch" in fields:
        states["Caught"] = {"Type": "Pass", "End": True}
    state.setdefault("End", True)
    return {"StartAt": "Par", "States": states}


def _wait(seconds: int, result: Json = None) -> dict[str, Json]:
    """Wait ``seconds`` then return ``result`` (state names unique per ``seconds``)."""
    return _branch(
        (f"W{seconds}", {"Type": "Wait", "Seconds": seconds}),
        (f"R{seconds}", {"Type": "Pass", "Result": result}),
    )


def _fail(after: int, error: str) -> dict[str, Json]:
    return _branch(
        (f"W{after}", {"Type": "Wait", "Seconds": after}),
        (f"F{after}", {"Type": "Fail", "Error": error, "Cause": "c"}),
    )


def test_branch_outputs_are_in_branch_order_whatever_order_they_finish_in() -> None:
    # Given three branches finishing after 30, 10 and 20 seconds
    machine = _parallel(_wait(30, "a"), _wait(10, "b"), _wait(20, "c"))
    clock = FakeClock(T0)
    # When the Parallel runs
    result = run(machine, {}, clock=clock)
    # Then the output lists the branch results in definition order, after the longest branch
    assert result.execution.output == ["a", "b", "c"]
    assert clock.now() == T0.replace(second=30)


def test_parallel_history_brackets_the_branches() -> None:
    # Given a Parallel of two Pass branches
    machine = _parallel(_branch(("A", {"Type": "Pass"})), _branch(("B", {"Type": "Pass"})))
    # When it runs
    result = run(machine, {"x": 1})
    # Then history opens with Entered/Started and closes with Succeeded/Exited
    kinds = types(result.history)
    assert kinds[:3] == ["ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted"]
    assert kinds[-3:] == ["ParallelStateSucceeded", "ParallelStateExited", "ExecutionSucceeded"]
    started = one(result.history, "ParallelStateStarted")
    firsts = [e for e in result.history if e.type == "PassStateEntered"]
    assert all(e.previous_event_id == started.id for e in firsts)


def test_jsonpath_parallel_parameters_feed_every_branch_and_result_selector_shapes_the_list() -> (
    None
):
    # Given Parameters, ResultSelector and ResultPath on a Parallel
    machine = _parallel(
        _branch(("A", {"Type": "Pass", "OutputPath": "$.v"})),
        _branch(("B", {"Type": "Pass", "Parameters": {"w.$": "$.v"}})),
        InputPath="$.in",
        Parameters={"v.$": "$.n"},
        ResultSelector={"first.$": "$[0]", "second.$": "$[1].w"},
        ResultPath="$.in.out",
    )
    # When it runs
    result = run(machine, {"in": {"n": 7}})
    # Then each branch got the Parameters and the result landed at ResultPath
    assert result.execution.output == {"in": {"n": 7, "out": {"first": 7, "second": 7}}}


def test_jsonata_parallel_arguments_and_output() -> None:
    # Given a JSONata Parallel with Arguments and Output
    machine = jsonata(
        _parallel(
            _branch(("A", {"Type": "Pass", "Output": "{% $states.input.v + 1 %}"})),
            _branch(("B", {"Type": "Pass", "Output": "{% $states.input.v + 2 %}"})),
            Arguments={"v": "{% $states.input.n %}"},
            Output={"sum": "{% $sum($states.result) %}"},
        )
    )
    # When it runs
    # Then branches saw the Arguments and Output the list of their results
    assert run(machine, {"n": 10}).execution.output == {"sum": 23}


def test_the_first_failing_branch_decides_the_error() -> None:
    # Given branches failing after 20 s (Slow) and 5 s (Fast)
    machine = _parallel(_fail(20, "Slow"), _fail(5, "Fast"))
    clock = FakeClock(T0)
    # When it runs
    result = run(machine, {}, clock=clock)
    # Then the execution fails with the first failure and does not wait for the other
    assert result.execution.error == "Fast"
    assert clock.now() == T0.replace(second=5)
    assert types(result.history)[-2:] == ["ParallelStateFailed", "ExecutionFailed"]


def test_a_failing_branch_aborts_its_siblings_at_step_level() -> None:
    # Given a Parallel where one branch waits and the other fails at once
    driver = PureDriver(_parallel(_wait(100), _branch(("F", {"Type": "Fail", "Error": "E"}))))
    # When the branches run
    driver.start()
    driver.settle()
    # Then an AbortChildren decision was taken and the waiting branch ended ABORTED
    assert AbortChildren("root") in driver.decisions
    statuses = {t.state: t.status for t in driver.children("root")}
    assert statuses == {"W100": ThreadStatus.ABORTED, "F": ThreadStatus.FAILED}
    assert driver.execution.error == "E"


def test_a_failing_branch_leaves_no_running_sibling_in_the_local_executor() -> None:
    # Given a Parallel where one branch waits and the other fails at once
    machine = _parallel(_wait(100), _branch(("F", {"Type": "Fail", "Error": "E"})))
    # When the local executor runs it
    result = run(machine, {})
    # Then no child thread is left RUNNING
    children = [t for t in result.threads.values() if t.parent_id == "root"]
    assert [t.status for t in children if t.status is ThreadStatus.RUNNING] == []


def test_a_caught_branch_failure_aborts_the_siblings_and_moves_on() -> None:
    # Given a Parallel with a Catch, one branch waiting, one failing
    machine = _parallel(
        _wait(100),
        _branch(("F", {"Type": "Fail", "Error": "E", "Cause": "why"})),
        Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Caught"}],
    )
    clock = FakeClock(T0)
    # When it runs
    result = run(machine, {"k": 1}, clock=clock)
    # Then the catcher's output carries the branch error and the waiting branch was aborted
    assert result.execution.output == {"k": 1, "err": {"Error": "E", "Cause": "why"}}
    assert clock.now() == T0
    assert len(of_type(result.history, "WaitStateAborted")) == 1
    waiting = next(t for t in result.threads.values() if t.state == "W100")
    assert waiting.status is ThreadStatus.ABORTED


def test_a_retried_parallel_restarts_every_branch() -> None:
    # Given a Parallel retried once, whose second branch's task fails the first time
    calls: list[int] = []

    def flaky(event: Json, context: HandlerContext) -> Json:
        calls.append(context.attempt)
        if len(calls) == 1:
            raise RuntimeError("first time")
        return "ok"

    machine = _parallel(
        _branch(("A", {"Type": "Pass", "Result": "a"})),
        _branch(("T", {"Type": "Task", "Resource": lambda_arn("f")})),
        Retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}],
    )
    # When it runs
    result = run(machine, {}, handlers=registry(f=flaky))
    # Then both branches ran again and the retry's results are the output
    assert result.execution.output == ["a", "ok"]
    assert len(of_type(result.history, "ParallelStateStarted")) == 2
    assert len(of_type(result.history, "PassStateEntered")) == 2


def test_a_late_branch_end_from_before_a_retry_is_ignored() -> None:
    # Given a retried Parallel whose first generation's branch end is replayed
    machine = _parallel(
        _branch(("T", {"Type": "Task", "Resource": lambda_arn("f")})),
        Retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1, "IntervalSeconds": 1}],
    )
    driver = PureDriver(machine)
    driver.start()
    driver.settle()
    first = driver.take_task()
    old_child = driver.threads[first.thread_id]
    driver.fail(first, "E")
    driver.fire(driver.take_timer())
    # When a BranchEnded of the first generation's child arrives
    stale = BranchEnded("root", old_child.id, 0, succeeded=True, output="late")
    result = driver.deliver(stale)
    # Then nothing changes
    assert not result.changed
    assert driver.root.fan_out is not None
    assert driver.root.fan_out.generation == 1


def test_parallel_with_a_retry_timer_does_not_count_stale_children() -> None:
    # Given a Parallel whose only branch failed and which waits to retry
    machine = _parallel(
        _branch(("F", {"Type": "Fail", "Error": "E"})),
        Retry=[{"ErrorEquals": ["E"], "MaxAttempts": 1, "IntervalSeconds": 3}],
    )
    driver = PureDriver(machine)
    driver.start()
    driver.settle()
    # When the retry timer fires
    (timer,) = driver.timers
    assert timer.kind is TimerKind.RETRY
    driver.fire(timer)
    # Then the branch ran again and its second failure ended the execution
    assert len(driver.children("root")) == 2
    assert driver.execution.status is ExecutionStatus.FAILED
