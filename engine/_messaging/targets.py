"""Where a rule sends an event: a state machine, a queue or a topic.

A state machine ARN is started (StartExecution), an SQS queue ARN gets a message
(SendMessage), an SNS topic ARN a publication (Publish), all on the store.

A target is ``{"Id", "Arn", "Input"?, "InputPath"?, "RoleArn"?}`` as PutTargets takes it.
What the target gets is, as on EventBridge: ``Input`` (JSON text, sent as is) when given,
else the part of the event ``InputPath`` selects, else the whole event.

Delivery is at-least-once per target, and each delivery is keyed by the event id, the
rule and the target: a state machine is started under a name derived from that key (a
second delivery finds the execution and starts nothing), a queue message gets it as its
MessageId (a second send is not sent again), and so does a topic's publication.
``RoleArn`` is accepted and not used: the store has no IAM.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from engine._api.base import given
from engine._dataflow.jsonpath import select
from engine._errors import ExecutionAlreadyExists
from engine._messaging.events import TargetSender

if TYPE_CHECKING:
    from engine._api.operations import Operations

Json = Any
_DELIVERIES = uuid.UUID("6f1d4c1e-2a7b-4b8e-9a55-0e5d1c3f7a22")  # uuid5 namespace of keys


def delivery_key(event_id: str, rule_arn: str, target_id: str) -> str:
    """The key of one event's delivery to one target (a UUID; the same on every retry)."""
    return str(uuid.uuid5(_DELIVERIES, f"{event_id}\n{rule_arn}\n{target_id}"))


def execution_name(rule_name: str, key: str) -> str:
    """The execution name of a delivery: the rule's name (cut to 43) and the key's hex."""
    return f"{rule_name[:43]}-{key.replace('-', '')}"


def target_input(target: dict[str, Json], event: dict[str, Json]) -> str:
    """The JSON text a target gets for ``event`` (its Input, its InputPath, or the event).

    Raises:
        ValueError: the InputPath selects nothing in the event (naming both).
    """
    if "Input" in target:
        return str(target["Input"])
    if target.get("InputPath"):
        try:
            selected = select(target["InputPath"], event)
        except Exception as error:  # the path's own error says what is missing
            raise ValueError(
                f"target {target.get('Id')}: InputPath {target['InputPath']!r} selects "
                f"nothing in event {event.get('id')} ({error})"
            ) from None
        return json.dumps(selected, separators=(",", ":"))
    return json.dumps(event, separators=(",", ":"))


def target_sender(client: Operations, engine: Engine, now: Callable[[], datetime]) -> TargetSender:
    """A `TargetSender` that starts executions through ``client`` and sends to queues.

    Args:
        client: the durable client (its starts are each their own transaction).
        engine: the store (queues live there).
        now: the clock of queue sends.
    """

    def send(rule: dict[str, Json], target: dict[str, Json], event: dict[str, Json]) -> None:
        payload = target_input(target, event)
        key = delivery_key(event["id"], rule["arn"], target["Id"])
        arn = str(target["Arn"])
        if arn.startswith("arn:aws:states:") and ":stateMachine:" in arn:
            start_once(client, arn, execution_name(rule["name"], key), payload)
        elif arn.startswith("arn:aws:sqs:"):
            from engine._messaging.queues import send_message

            send_message(engine, arn, payload, now=now(), message_id=key)
        elif arn.startswith("arn:aws:sns:"):
            from engine._messaging.topics import publish

            publish(engine, arn, payload, now=now(), message_id=key)
        else:
            raise ValueError(
                f"target {target['Id']} of rule {rule['name']}: expected a state machine "
                f"ARN (arn:aws:states:...:stateMachine:NAME), an SQS queue ARN or an SNS "
                f"topic ARN, got {arn!r}"
            )

    return send


def start_once(client: Operations, machine_arn: str, name: str, payload: str) -> None:
    """Start ``name`` unless a delivery before this one did (an ended run of that name)."""
    # ExecutionAlreadyExists: this delivery already happened (its name's run has ended).
    with contextlib.suppress(ExecutionAlreadyExists):
        client.start_execution(**given(stateMachineArn=machine_arn, name=name, input=payload))
