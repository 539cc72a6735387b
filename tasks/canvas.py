"""Stepline executions as steps of Celery canvases (chains, groups, chords).

::

    from celery import chain
    from tasks.canvas import run_execution_signature, start_execution_signature

    # start an execution with the previous task's result as its input; the chain goes on
    # at once with the execution's ARN
    chain(prepare.s(order), start_execution_signature(machine_arn)).delay()

    # run an execution: the chain goes on with the execution's output once it has ended,
    # and no worker waits in between
    chain(prepare.s(order), run_execution_signature(machine_arn), notify.s()).delay()

Input: the value passed first (the previous task's result in a chain), sent as JSON
(None is ``{}``). Without a ``name``, the execution is named after the Celery task's id,
so a redelivered task finds the execution it started rather than starting another.

``stepline.run_execution`` takes the rest of its chain (and any ``link`` callbacks) off
the request and stores it keyed by the execution (table ``continuations``); the
``stepline.housekeeping.send_continuations`` job sends it with the execution's output once the
execution SUCCEEDED. An execution that fails, times out or is aborted ends the canvas
there: the continuation is dropped with a warning naming the execution and its status.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from celery import Task, signature
from celery.canvas import Signature

from engine._store.continuations import ended_continuations, put_continuation, take_continuation
from tasks import wiring
from tasks.app import app, housekeeping_task

Json = Any
log = logging.getLogger("stepline.canvas")
START_EXECUTION = "stepline.start_execution"
RUN_EXECUTION = "stepline.run_execution"
SEND_CONTINUATIONS = "stepline.send_continuations"  # now stepline.housekeeping.*
_NAMES = uuid.UUID("0f7d3c52-7a3e-4c7a-b1a6-2f1f5c9e8d21")


def start_execution_signature(
    state_machine_arn: str, input: Json = None, *, name: str | None = None, run: bool = False
) -> Signature:
    """A signature starting an execution of ``state_machine_arn``.

    Args:
        state_machine_arn: the state machine to run.
        input: the execution's input; when None, the previous task's result (in a chain).
        name: the execution's name (default: derived from the Celery task id).
        run: go on with the execution's output when it ends (``stepline.run_execution``)
            instead of its ARN at once (``stepline.start_execution``).
    """
    task = RUN_EXECUTION if run else START_EXECUTION
    kwargs = {"state_machine_arn": state_machine_arn, "name": name}
    args = () if input is None else (input,)
    return signature(task, args=args, kwargs=kwargs, app=app, immutable=input is not None)


def run_execution_signature(
    state_machine_arn: str, input: Json = None, *, name: str | None = None
) -> Signature:
    """`start_execution_signature` with ``run=True``: the canvas goes on with the output."""
    return start_execution_signature(state_machine_arn, input, name=name, run=True)


@app.task(name=START_EXECUTION, bind=True, ignore_result=False, acks_late=True)
def start_execution(
    self: Task, input: Json = None, *, state_machine_arn: str, name: str | None = None
) -> str:
    """Start an execution of ``state_machine_arn`` with ``input``; returns its ARN."""
    return _start(self, input, state_machine_arn, name)


@app.task(name=RUN_EXECUTION, bind=True, ignore_result=False, acks_late=True)
def run_execution(
    self: Task, input: Json = None, *, state_machine_arn: str, name: str | None = None
) -> str:
    """Start an execution; the rest of the chain goes on with its output when it ends.

    Returns the execution's ARN (what a result backend records for this task).
    """
    execution_arn = _start(self, input, state_machine_arn, name)
    request = self.request
    rest = {"chain": request.chain or [], "callbacks": request.callbacks or []}
    if rest["chain"] or rest["callbacks"]:
        runtime = wiring.runtime()
        put_continuation(runtime.store.engine, execution_arn, rest, runtime.clock.now())
    # Celery would send them with this task's return value at once: they wait instead.
    request.chain = None
    request.callbacks = None
    return execution_arn


def _start(task: Task, input: Json, state_machine_arn: str, name: str | None) -> str:
    client = wiring.services().client
    execution_name = name or str(uuid.uuid5(_NAMES, str(task.request.id)))
    response = client.start_execution(
        stateMachineArn=state_machine_arn,
        name=execution_name,
        input=json.dumps({} if input is None else input),
    )
    return str(response["executionArn"])


@housekeeping_task("send_continuations", formerly=SEND_CONTINUATIONS)
def send_continuations() -> int:
    """Send the continuation of every execution that ended (a beat job); returns how many."""
    store = wiring.runtime().store
    sent = 0
    for execution_arn in ended_continuations(store.engine):
        # Read from the store, not DescribeExecution: it refuses Express ARNs, as AWS does.
        record = store.execution(execution_arn)
        described: dict[str, Json] = (
            {"status": "DELETED"}  # deleted with its machine: nothing to go on with
            if record is None
            else {"status": str(record.status), "output": json.dumps(record.output)}
        )
        sent += take_continuation(store.engine, execution_arn, _sender(execution_arn, described))
    return sent


def _sender(execution_arn: str, described: dict[str, Json]) -> Callable[[Json], None]:
    def send(rest: Json) -> None:
        if described["status"] != "SUCCEEDED":
            log.warning(
                "execution %s ended %s: the Celery canvas after it stops there",
                execution_arn,
                described["status"],
            )
            return
        continue_canvas(rest, json.loads(described.get("output") or "null"))

    return send


def continue_canvas(rest: Json, output: Json) -> None:
    """Send the stored rest of a chain, and the stored callbacks, with ``output``."""
    chain = list(rest.get("chain") or [])
    if chain:
        following = signature(chain.pop(), app=app)
        following.apply_async((output,), chain=chain or None)
    for callback in rest.get("callbacks") or []:
        signature(callback, app=app).apply_async((output,))
