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


def test_a_distributed_map_reads_a_csv_from_s3_and_writes_its_results(
    aws_mode: str, fleet: Fleet
) -> None:
    # Given a CSV in moto's S3, and a Distributed Map reading it, calling a Pass per row
    # (two rows a batch) and writing its results back to the bucket
    s3 = boto3.session.Session(region_name="us-east-1").client("s3", endpoint_url=aws_mode)
    s3.create_bucket(Bucket="fleet-maps")
    s3.put_object(Bucket="fleet-maps", Key="in/orders.csv", Body=b"id,total\na,1\nb,2\nc,3\n")
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Count",
        "States": {
            "Count": {
                "Type": "Pass",
                "Parameters": {"n.$": "States.ArrayLength($.Items)"},
                "End": True,
            }
        },
    }
    states = {
        "Map": {"Type": "Map", "ItemProcessor": processor, "End": True,
                "ItemBatcher": {"MaxItemsPerBatch": 2},
                "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                               "ReaderConfig": {"InputType": "CSV"},
                               "Parameters": {"Bucket": "fleet-maps", "Key": "in/orders.csv"}},
                "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                                 "Parameters": {"Bucket": "fleet-maps", "Prefix": "out"}}},
    }  # fmt: skip
    machine = fleet.create("s3-map", {"StartAt": "Map", "States": states})
    # When it runs on the fleet
    arn = fleet.start_execution(machine, {}, "s3-map")
    described = fleet.await_status(arn, timeout=120)
    # Then its output names the manifest, whose SUCCEEDED file holds both batches' outputs
    assert described["status"] == "SUCCEEDED", described
    details = json.loads(described["output"])["ResultWriterDetails"]
    manifest = json.loads(s3.get_object(Bucket="fleet-maps", Key=details["Key"])["Body"].read())
    (results_file,) = manifest["ResultFiles"]["SUCCEEDED"]
    results = s3.get_object(Bucket="fleet-maps", Key=results_file["Key"])["Body"].read()
    assert [json.loads(entry["Output"]) for entry in json.loads(results)] == [{"n": 2}, {"n": 1}]
    assert details["Key"].startswith("out/")
