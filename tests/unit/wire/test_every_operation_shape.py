"""All 37 operations answer in botocore's output shapes: in-process and through the wire.

One scenario calls every operation of the Step Functions model once with a successful
request; each answer is checked with `assert_shape` (members required by the model present,
every value of its shape's type, nothing the model does not define). The same scenario
runs on `Client.local` directly and on boto3 talking to `stepline serve`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from engine._api import Client
from engine._api.boto import operation_names, service_model
from engine._wire import WireProtocol, create_app
from tests.shapes import assert_shape
from tests.unit.wire.conftest import CALLBACK, ROLE, boto3_client, local_client
from tests.wire_server import serving

Json = Any
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
MAP = json.dumps(
    {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Double",
                    "States": {
                        "Double": {
                            "Type": "Task",
                            "Resource": "arn:aws:lambda:us-east-1:111111111111:function:double",
                            "End": True,
                        }
                    },
                },
                "End": True,
            }
        },
    }
)


class Checked:
    """A client whose every call is shape-checked and remembered by operation."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.called: set[str] = set()

    def __getattr__(self, name: str) -> Callable[..., dict[str, Json]]:
        method = getattr(self.client, name)

        def call(**request: Json) -> dict[str, Json]:
            response: dict[str, Json] = method(**request)
            assert_shape(name, response)
            self.called.add(operation_names()[name])
            return response

        return call


def _token(sfn: Checked, execution_arn: str) -> str:
    events = sfn.get_execution_history(executionArn=execution_arn)["events"]
    scheduled = next(e for e in events if e["type"] == "TaskScheduled")
    payload = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])["Payload"]
    return str(payload["token"])


def every_operation(sfn: Checked) -> None:
    """Call each of the model's operations once, successfully."""
    sfn.validate_state_machine_definition(definition=PASS)
    machine = sfn.create_state_machine(
        name="m", definition=PASS, roleArn=ROLE, tags=[{"key": "team", "value": "a"}]
    )["stateMachineArn"]
    sfn.describe_state_machine(stateMachineArn=machine)
    sfn.list_state_machines()
    sfn.update_state_machine(stateMachineArn=machine, definition=PASS, publish=False)
    version = sfn.publish_state_machine_version(stateMachineArn=machine)["stateMachineVersionArn"]
    sfn.list_state_machine_versions(stateMachineArn=machine)
    routing = [{"stateMachineVersionArn": version, "weight": 100}]
    alias = sfn.create_state_machine_alias(name="live", routingConfiguration=routing)
    alias_arn = alias["stateMachineAliasArn"]
    sfn.describe_state_machine_alias(stateMachineAliasArn=alias_arn)
    sfn.update_state_machine_alias(stateMachineAliasArn=alias_arn, description="live")
    sfn.list_state_machine_aliases(stateMachineArn=machine)
    sfn.tag_resource(resourceArn=machine, tags=[{"key": "env", "value": "dev"}])
    sfn.list_tags_for_resource(resourceArn=machine)
    sfn.untag_resource(resourceArn=machine, tagKeys=["env"])
    run = sfn.start_execution(stateMachineArn=alias_arn, input="{}")["executionArn"]
    sfn.describe_execution(executionArn=run)
    sfn.describe_state_machine_for_execution(executionArn=run)
    sfn.list_executions(stateMachineArn=machine)
    sfn.get_execution_history(executionArn=run, includeExecutionData=False)
    express = sfn.create_state_machine(name="x", definition=PASS, roleArn=ROLE, type="EXPRESS")
    sfn.start_sync_execution(stateMachineArn=express["stateMachineArn"], input="{}")
    mapped = sfn.create_state_machine(name="map", definition=MAP, roleArn=ROLE)
    map_run = sfn.start_execution(stateMachineArn=mapped["stateMachineArn"], input="[{}]")
    runs = sfn.list_map_runs(executionArn=map_run["executionArn"])["mapRuns"]
    sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"])
    children = sfn.list_executions(mapRunArn=runs[0]["mapRunArn"])["executions"]
    sfn.describe_execution(executionArn=children[0]["executionArn"])
    sfn.get_execution_history(executionArn=children[0]["executionArn"])
    waiting = sfn.create_state_machine(name="cb", definition=CALLBACK, roleArn=ROLE)
    for answer in ("success", "failure"):
        held = sfn.start_execution(stateMachineArn=waiting["stateMachineArn"], name=answer)
        token = _token(sfn, held["executionArn"])
        sfn.send_task_heartbeat(taskToken=token)
        if answer == "success":
            sfn.send_task_success(taskToken=token, output="{}")
        else:
            sfn.send_task_failure(taskToken=token, error="Boom")
            sfn.redrive_execution(executionArn=held["executionArn"])
    stopped = sfn.start_execution(stateMachineArn=waiting["stateMachineArn"], name="stopped")
    sfn.stop_execution(executionArn=stopped["executionArn"])
    activity = sfn.create_activity(name="act")["activityArn"]
    sfn.describe_activity(activityArn=activity)
    sfn.list_activities()
    sfn.test_state(definition=json.dumps({"Type": "Pass", "End": True}), input="{}")
    sfn.delete_state_machine_alias(stateMachineAliasArn=alias_arn)
    sfn.delete_state_machine_version(stateMachineVersionArn=version)
    sfn.delete_activity(activityArn=activity)
    sfn.delete_state_machine(stateMachineArn=machine)


def _exercise_remaining(sfn: Checked) -> None:
    """The two operations a finished scenario cannot call: a Map Run update, an idle poll."""
    mapped = sfn.create_state_machine(name="held-map", definition=_held_map(), roleArn=ROLE)
    run = sfn.start_execution(stateMachineArn=mapped["stateMachineArn"], input="[{}]")
    map_run = sfn.list_map_runs(executionArn=run["executionArn"])["mapRuns"][0]["mapRunArn"]
    sfn.update_map_run(mapRunArn=map_run, maxConcurrency=5)
    activity = sfn.create_activity(name="idle")["activityArn"]
    sfn.get_activity_task(activityArn=activity)


def _held_map() -> str:
    """A Distributed Map whose one item waits for a callback, so its Map Run stays running."""
    processor = json.loads(CALLBACK)
    return json.dumps(
        {
            "StartAt": "Each",
            "States": {
                "Each": {
                    "Type": "Map",
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                        **processor,
                    },
                    "End": True,
                }
            },
        }
    )


@pytest.mark.parametrize("path", ["in-process", "wire"])
def test_every_operation_answers_in_its_output_shape(path: str) -> None:
    # Given a local client, used directly or through boto3 and `stepline serve`
    client: Client = local_client()
    client.activity_poll_seconds = 0  # the idle poll answers at once
    if path == "in-process":
        sfn = Checked(client)
        # When every operation of the model is called once
        every_operation(sfn)
        _exercise_remaining(sfn)
    else:
        with serving(create_app(WireProtocol(client, one_at_a_time=True))) as url:
            sfn = Checked(boto3_client(url))
            every_operation(sfn)
            _exercise_remaining(sfn)
    # Then each answered in its output shape, and none of the 37 was left out
    assert sfn.called == set(service_model().operation_names)
