"""Runs a job with stepline's local executor through its public, boto3-shaped client.

The timing includes what a user pays: StartExecution (input as a JSON string, the whole run
in-process, AWS-shaped history kept) and DescribeExecution (output as a JSON string).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from common import main

from engine import Client, HandlerRegistry

Json = Any


def prepare(job: Json) -> Any:
    registry = HandlerRegistry()
    registry.register("noop", lambda event, context: event)
    client = Client.local(registry)
    machine = client.create_state_machine(
        name="bench",
        definition=json.dumps(job["definition"]),
        roleArn="arn:aws:iam::111111111111:role/bench",
    )["stateMachineArn"]

    def run(data: Json) -> Json:
        started = client.start_execution(stateMachineArn=machine, input=json.dumps(data))
        described = client.describe_execution(executionArn=started["executionArn"])
        if described["status"] != "SUCCEEDED":
            raise RuntimeError(f"stepline execution ended {described['status']}: {described}")
        return json.loads(described["output"])

    return run


if __name__ == "__main__":
    main(prepare)
