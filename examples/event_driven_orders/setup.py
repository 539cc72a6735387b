"""Create the order system: queues, the notification topic, the workflow and the rule.

``python -m examples.event_driven_orders.setup`` (idempotent: run it again safely). Uses
``engine.connect()``: the embedded default with no settings, or STEPLINE_* (Redis + PostgreSQL).
"""

from __future__ import annotations

import json
from pathlib import Path

import engine

HERE = Path(__file__).parent
ROLE = "arn:aws:iam::111111111111:role/order-system"
QUEUES = ("validation", "payments", "fraud", "inventory", "shipping", "email", "sms")
TOPIC = "order-notifications"
MACHINE = "order-fulfilment"
RULE = "order-placed"


def create(client: engine.Client) -> str:
    """Create everything (or find it); returns the workflow's ARN."""
    messaging = engine.messaging(client)
    for queue in QUEUES:
        messaging.create_queue(QueueName=queue)
    topic = messaging.create_topic(Name=TOPIC)["TopicArn"]
    for queue in ("email", "sms"):
        messaging.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue)
    machine = _machine(client)
    client.events.put_rule(
        Name=RULE,
        EventPattern=json.dumps({"source": ["shop.orders"], "detail-type": ["OrderPlaced"]}),
    )
    client.events.put_targets(Rule=RULE, Targets=[{"Id": "fulfil", "Arn": machine}])
    return machine


def _machine(client: engine.Client) -> str:
    definition = (HERE / "order_fulfilment.asl.json").read_text()
    for listed in client.list_state_machines()["stateMachines"]:
        if listed["name"] == MACHINE:
            arn = str(listed["stateMachineArn"])
            client.update_state_machine(stateMachineArn=arn, definition=definition)
            return arn
    created = client.create_state_machine(name=MACHINE, definition=definition, roleArn=ROLE)
    return str(created["stateMachineArn"])


if __name__ == "__main__":
    print(create(engine.connect()))
