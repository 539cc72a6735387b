"""Execution status change events ("Step Functions Execution Status Change"), ADR 0022.

As on AWS, an execution's start (RUNNING) and end (SUCCEEDED, FAILED, TIMED_OUT, ABORTED)
are published on the default event bus with source ``aws.states``, so a rule can start
another workflow when one ends (a compensation on FAILED, a follow-up on SUCCEEDED).

Nothing is lost when a process dies: the runtime writes an outbox message (kind
``event``) in the very transaction that starts or ends the execution; its consumer builds
the event from the stored execution, delivers it to the matching rules' targets and only
then consumes the message, and the relay republishes it if that never happened. The
event's id is derived from the execution and the status, so a redelivered message starts
no target twice. Without any rule (`any_rules`, cached) no message is written at all: the
hot path pays one cached check.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine._integrations.services import Services, durable_services
from engine._messaging.events import DEFAULT_BUS, any_rules, deliver
from engine._messaging.targets import target_sender
from engine._records import ExecutionRecord
from engine._resources import DEFAULT_ACCOUNT, DEFAULT_REGION
from engine._store.kinds import MessageKind
from engine._store.repository import StepSession

if TYPE_CHECKING:
    from engine._resources import HandlerRegistry
    from engine._runtime import Runtime

Json = Any
log = logging.getLogger("stepline.events")
STATES_SOURCE = "aws.states"
STATUS_DETAIL_TYPE = "Step Functions Execution Status Change"
THREAD_PREFIX = "status:"  # the outbox message's thread id: status:RUNNING, status:FAILED...
_STATUS_EVENTS = uuid.UUID("0b7e3c55-9d0f-4a51-8f0c-5a3e6e2b9d41")  # uuid5 namespace


def status_changed(
    session: StepSession, status: str, now: datetime, lease: datetime, queue: str
) -> None:
    """Write the outbox message of an execution's new status (when some rule exists).

    Called by the runtime inside the transaction that starts or ends the execution.
    """
    if not any_rules(session.db):
        return
    session.add_message(
        MessageKind.EVENT,
        f"{THREAD_PREFIX}{status}",
        0,
        available_at=now,
        lease_until=lease,
        queue=queue,
        shadow=f"{session.header.state_machine_name}.{status}",
    )


def status_event(record: ExecutionRecord, status: str) -> dict[str, Json]:
    """The EventBridge event of ``record`` reaching ``status`` (AWS's shape).

    ``startDate``/``stopDate`` are epoch milliseconds; ``input``/``output`` JSON text.
    A RUNNING event has no stop date nor output, even when built after the end.
    """
    ended = status != "RUNNING"
    moment = record.stop_date if ended and record.stop_date else record.start_date
    return {
        "version": "0",
        "id": str(uuid.uuid5(_STATUS_EVENTS, f"{record.arn}\n{status}")),
        "detail-type": STATUS_DETAIL_TYPE,
        "source": STATES_SOURCE,
        "account": DEFAULT_ACCOUNT,
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": DEFAULT_REGION,
        "resources": [record.arn],
        "detail": _detail(record, status, ended),
    }


def _detail(record: ExecutionRecord, status: str, ended: bool) -> dict[str, Json]:
    output = _text(record.output) if ended and status == "SUCCEEDED" else None
    return {
        "executionArn": record.arn,
        "stateMachineArn": record.version_arn or record.machine_arn,
        "name": record.name,
        "status": status,
        "startDate": _millis(record.start_date),
        "stopDate": _millis(record.stop_date) if ended and record.stop_date else None,
        "input": _text(record.input),
        "output": output,
        "inputDetails": {"included": True},
        "outputDetails": {"included": True} if output is not None else None,
        "error": record.error if ended else None,
        "cause": record.cause if ended else None,
    }


def _text(value: Json) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def deliver_status_event(
    runtime: Runtime,
    handlers: HandlerRegistry,
    services: Services | None,
    execution_id: int,
    thread_id: str,
    seq: int,
) -> None:
    """Consume an ``event`` message: deliver the status event, then mark it consumed.

    Delivered before it is consumed, so a crash in between delivers it again (targets
    are idempotent on the event's id). A target that could not be reached for a reason
    that may pass (the store or a service unavailable) leaves the message unconsumed, for
    the relay to send again after its lease. ``services``: the worker's (its client starts
    the targets); without them, a client on the runtime's store.
    """
    record = runtime.store.execution_by_id(execution_id)
    if record is not None:
        services = services or durable_services(runtime, handlers)
        send = target_sender(services.client, runtime.store.engine, runtime.clock.now)
        status = thread_id.removeprefix(THREAD_PREFIX)
        event = status_event(record, status)
        if deliver(runtime.store.engine, DEFAULT_BUS, event, send):
            # Left unconsumed: the relay sends it again after its lease; the targets
            # already reached start nothing twice (the event's id is the same).
            log.warning("status event %s of %s: left for the relay", event["id"], record.arn)
            return
    with runtime.store.session(execution_id) as session:
        session.consume(MessageKind.EVENT, thread_id, seq)
