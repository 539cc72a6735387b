"""``arn:aws:states:::states:startExecution[.sync|.sync:2|.waitForTaskToken]``: nested workflows.

- request-response: the result is StartExecution's ``{"ExecutionArn", "StartDate"}``.
- ``.sync`` / ``.sync:2``: the Task waits for the child's end; its result is DescribeExecution's
  answer, with ``Output`` as a JSON string (``.sync``) or as parsed JSON (``.sync:2``). A child
  that fails, times out or is aborted fails the Task with ``States.TaskFailed`` and, as Cause,
  that same answer as JSON.
- ``.waitForTaskToken``: the child gets the token through its input; ``SendTaskSuccess``
  completes the Task.

On a worker (durable), the link parent task → child is recorded in ``child_executions``
before the child starts, and the child's end completes the task through the outbox
(`engine._children`). In-process (``Client.local``) the child runs to its end inside the call.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from engine._api.base import given
from engine._errors import ClientError, ErrorName, StatesError
from engine._integrations.services import Services
from engine._interpreter.integration import Pattern, describe_resource
from engine._records import ExecutionRecord
from engine._resources import AWAITING, Integration, Outcome, TaskCall
from engine._store.children import ChildLink, link_child

Json = Any
_SYNC = (Pattern.SYNC, Pattern.SYNC2)
ENDED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


def start_execution(call: TaskCall, services: Services | None) -> Outcome:
    """Start the child execution; wait for its end under ``.sync`` / ``.sync:2``."""
    if services is None:
        raise StatesError(
            ErrorName.TASK_FAILED,
            f"states:startExecution in state '{call.state_name}': expected a client to start "
            "the child execution on, got none (run it on a worker or a Client.local())",
        )
    machine_arn, text, name = _request(call)
    pattern = describe_resource(call.resource).pattern
    durable = services.runtime is not None and call.execution_id is not None
    if durable and pattern in _SYNC:
        assert services.runtime is not None
        assert call.execution_id is not None
        link = ChildLink(
            child_execution_arn(machine_arn, name),
            call.execution_id,
            call.thread_id,
            call.seq,
            pattern.value,
        )
        link_child(services.runtime.store.engine, link)  # before the child can end
    started = _start(services, machine_arn, text, name)
    if pattern not in _SYNC:
        return {"ExecutionArn": started["executionArn"], "StartDate": millis(started["startDate"])}
    if durable:
        return AWAITING  # the child's end completes the task (engine._children)
    return _local_outcome(services, started["executionArn"], pattern)


def _request(call: TaskCall) -> tuple[str, str, str]:
    """(StateMachineArn, the child's input text, Name) from the Task's parameters."""
    parameters = call.parameters if isinstance(call.parameters, dict) else {}
    machine_arn = parameters.get("StateMachineArn")
    if not isinstance(machine_arn, str) or not machine_arn:
        raise StatesError(
            ErrorName.TASK_FAILED,
            f"states:startExecution in state '{call.state_name}': expected 'StateMachineArn' "
            f"to be a state machine ARN, got {json.dumps(machine_arn)}",
        )
    name = parameters.get("Name")
    if name is not None and not isinstance(name, str):
        raise StatesError(
            ErrorName.TASK_FAILED,
            f"states:startExecution in state '{call.state_name}': expected 'Name' to be a "
            f"string, got {json.dumps(name)}",
        )
    return machine_arn, _input_text(parameters.get("Input")), name or default_name(call)


def _input_text(value: Json) -> str:
    """AWS takes Input as an object (sent as its JSON) or as a JSON string (sent as is)."""
    if value is None:
        return "{}"
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def default_name(call: TaskCall) -> str:
    """A name derived from the invocation's key, the same on every redelivery.

    A redelivered call so starts the same child (StartExecution with the same name and
    input returns the running one), never a second.
    """
    digest = hashlib.sha256(call.idempotency_key.encode("utf-8")).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def child_execution_arn(machine_arn: str, name: str) -> str:
    """The ARN StartExecution gives ``name`` on ``machine_arn`` (a version/alias ARN too)."""
    parts = machine_arn.split(":")
    if len(parts) < 7 or parts[5] != "stateMachine":
        return f"{machine_arn}:{name}"  # refused by StartExecution itself, with AWS's error
    return ":".join([*parts[:5], "execution", parts[6], name])


def _start(services: Services, machine_arn: str, text: str, name: str) -> dict[str, Json]:
    try:
        started: dict[str, Json] = services.client.start_execution(
            **given(stateMachineArn=machine_arn, input=text, name=name)
        )
    except ClientError as error:
        raise service_error(error) from error
    return started


def service_error(error: ClientError) -> StatesError:
    """A refused StartExecution as the Task sees it: ``StepFunctions.<Code>Exception``."""
    code = error.code if error.code.endswith("Exception") else f"{error.code}Exception"
    cause = (
        f"{error.message} (Service: AWSStepFunctions; Status Code: 400; Error Code: "
        f"{error.code}; Request ID: {uuid.uuid4()}; Proxy: null)"
    )
    return StatesError(f"StepFunctions.{code}", cause)


def _local_outcome(services: Services, arn: str, pattern: Pattern) -> Json:
    """In-process the child ran inside StartExecution: its end is known now."""
    record = services.client.backend.execution(arn)
    if record is None or record.status not in ENDED:
        raise StatesError(
            ErrorName.TASK_FAILED,
            f"states:startExecution{pattern.value}: expected the child {arn} to have ended "
            "in-process, but it waits for a callback; run it on a worker to wait for it",
        )
    return sync_outcome(record, pattern.value)


def sync_outcome(record: ExecutionRecord, pattern: str) -> Json:
    """The ``.sync`` / ``.sync:2`` outcome of an ended child.

    Its description when it succeeded, else ``States.TaskFailed`` with it as Cause.
    """
    description = describe_output(record, parsed=pattern == Pattern.SYNC2.value)
    if record.status == "SUCCEEDED":
        return description
    return StatesError(
        ErrorName.TASK_FAILED, json.dumps(description, separators=(",", ":"), ensure_ascii=False)
    )


def describe_output(record: ExecutionRecord, *, parsed: bool) -> dict[str, Json]:
    """DescribeExecution as a ``.sync`` task returns it (PascalCase, dates in epoch ms)."""

    def text(value: Json) -> str:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    output: dict[str, Json] = {
        "ExecutionArn": record.arn,
        "Input": text(record.input),
        "InputDetails": {"Included": True},
        "Name": record.name,
        "StartDate": millis(record.start_date),
        "StateMachineArn": record.version_arn or record.machine_arn,
        "Status": record.status,
    }
    if record.status == "SUCCEEDED":
        output["Output"] = record.output if parsed else text(record.output)
        output["OutputDetails"] = {"Included": True}
    if record.error is not None:
        output["Error"] = record.error
    if record.cause is not None:
        output["Cause"] = record.cause
    if record.stop_date is not None:
        output["StopDate"] = millis(record.stop_date)
    return output


def millis(moment: datetime) -> int:
    """A date as AWS's service integrations return it: milliseconds since the epoch."""
    return int(moment.timestamp() * 1000)


INTEGRATIONS: dict[tuple[str, str], Integration] = {("states", "startExecution"): start_execution}
