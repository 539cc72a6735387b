"""The AWS mode on a real fleet: a worker with STEPLINE_AWS_INTEGRATIONS calls moto via boto3."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from tests.aws_moto import FAKE_CREDENTIALS, moto_server
from tests.integration.conftest import Fleet

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def aws_mode(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's server, and the environment a fleet started after it inherits: the AWS mode."""
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    with moto_server() as url:
        monkeypatch.setenv("STEPLINE_AWS_INTEGRATIONS", "true")
        monkeypatch.setenv("STEPLINE_AWS_ENDPOINT_URL", url)
        yield url


# aws_mode comes first: the fleet's processes inherit the environment it sets.
def test_a_worker_in_the_aws_mode_calls_dynamodb_and_sqs(aws_mode: str, fleet: Fleet) -> None:
    # Given a moto table and queue, and a machine putting an item, then sending a message,
    # then putting the item again on a condition that fails (caught)
    session = boto3.session.Session(region_name="us-east-1")
    dynamodb = session.client("dynamodb", endpoint_url=aws_mode)
    dynamodb.create_table(
        TableName="fleet-orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    sqs = session.client("sqs", endpoint_url=aws_mode)
    queue = sqs.create_queue(QueueName="fleet-queue")["QueueUrl"]
    put = {
        "TableName": "fleet-orders",
        "Item": {"id": {"S.$": "$.id"}},
        "ConditionExpression": "attribute_not_exists(id)",
    }
    states = {
        "Put": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": put, "ResultPath": None, "Next": "Send"},
        "Send": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                 "Parameters": {"QueueUrl": queue, "MessageBody.$": "$"},
                 "ResultPath": "$.sent", "Next": "Again"},
        "Again": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem",
                  "Parameters": put, "End": True,
                  "Catch": [{"ErrorEquals": ["DynamoDb.ConditionalCheckFailedException"],
                             "ResultPath": "$.error", "Next": "Duplicate"}]},
        "Duplicate": {"Type": "Pass", "End": True},
    }  # fmt: skip
    machine = fleet.create("aws-mode", {"StartAt": "Put", "States": states})
    # When it runs on the fleet
    arn = fleet.start_execution(machine, {"id": "o-9"}, "aws-mode")
    described = fleet.await_status(arn, timeout=120)
    # Then the item is in the table, the message in the queue, and the duplicate was caught
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output["error"]["Error"] == "DynamoDb.ConditionalCheckFailedException"
    item = dynamodb.get_item(TableName="fleet-orders", Key={"id": {"S": "o-9"}})
    assert item["Item"] == {"id": {"S": "o-9"}}
    received = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=5)["Messages"]
    assert json.loads(received[0]["Body"]) == {"id": "o-9"}
    assert received[0]["MessageId"] == output["sent"]["MessageId"]
