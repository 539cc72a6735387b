"""Real AWS integrations through boto3, in-process, against moto's server on 127.0.0.1."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from engine._api import Client
from engine._integrations.aws import AwsClients, register_aws_integrations
from engine._integrations.aws_names import boto3_service, exception_name, sdk_error_prefix
from engine._resources import HandlerRegistry
from tests.aws_moto import FAKE_CREDENTIALS, moto_server

Json = Any
ROLE = "arn:aws:iam::111111111111:role/stepline-tests"
CATCH_ALL = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}]


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in FAKE_CREDENTIALS.items():
            patch.setenv(name, value)
        with moto_server() as url:
            yield url


@pytest.fixture
def aws(endpoint: str) -> Any:
    """A boto3 session on moto, to arrange and inspect what the tasks did."""
    session = boto3.session.Session(region_name="us-east-1")
    return lambda service: session.client(service, endpoint_url=endpoint)


@pytest.fixture
def table(aws: Any) -> str:
    name = f"orders-{uuid.uuid4().hex[:8]}"
    aws("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def run(endpoint: str, states: dict[str, Json], payload: Json = None) -> dict[str, Json]:
    """Run a machine (StartAt the first state) with the AWS integrations registered."""
    registry = HandlerRegistry()
    register_aws_integrations(registry, AwsClients(endpoint_url=endpoint))
    client = Client.local(registry)
    definition = {"StartAt": next(iter(states)), "States": states}
    machine = client.create_state_machine(
        name="aws", definition=json.dumps(definition), roleArn=ROLE
    )
    started = client.start_execution(
        stateMachineArn=machine["stateMachineArn"], input=json.dumps(payload or {})
    )
    return client.describe_execution(executionArn=started["executionArn"])


def task(resource: str, parameters: Json, **fields: Json) -> dict[str, Json]:
    return {"Type": "Task", "Resource": resource, "Parameters": parameters, **fields}


CAUGHT = {"Caught": {"Type": "Pass", "End": True}}


def test_dynamodb_put_get_and_a_failed_condition_caught(endpoint: str, table: str) -> None:
    # Given a machine that puts an item, reads it, then updates it on a condition that fails
    key = {"id": {"S": "o-1"}}
    states = {
        "Put": task(
            "arn:aws:states:::dynamodb:putItem",
            {"TableName": table, "Item": {**key, "amount": {"N": "5"}}},
            ResultPath=None,
            Next="Get",
        ),
        "Get": task(
            "arn:aws:states:::dynamodb:getItem",
            {"TableName": table, "Key": key},
            ResultSelector={"Item.$": "$.Item"},
            ResultPath="$.read",
            Next="Update",
        ),
        "Update": task(
            "arn:aws:states:::dynamodb:updateItem",
            {
                "TableName": table,
                "Key": key,
                "UpdateExpression": "SET amount = :t",
                "ConditionExpression": "amount = :old",
                "ExpressionAttributeValues": {":t": {"N": "7"}, ":old": {"N": "99"}},
            },
            Catch=CATCH_ALL,
            End=True,
        ),
        **CAUGHT,
    }
    # When it runs
    described = run(endpoint, states)
    # Then the item was read back, and the failed condition was caught under AWS's name
    output = json.loads(described["output"])
    assert output["read"] == {"Item": {"id": {"S": "o-1"}, "amount": {"N": "5"}}}
    assert output["error"]["Error"] == "DynamoDB.ConditionalCheckFailedException"
    assert "Status Code: 400" in output["error"]["Cause"]


def test_aws_sdk_names_its_errors_after_the_sdk_service(endpoint: str, table: str) -> None:
    # Given aws-sdk:dynamodb:putItem twice, the second only if the item does not exist
    put = {
        "TableName": table,
        "Item": {"id": {"S": "o-2"}},
        "ConditionExpression": "attribute_not_exists(id)",
    }
    states = {
        "First": task("arn:aws:states:::aws-sdk:dynamodb:putItem", put, Next="Again"),
        "Again": task(
            "arn:aws:states:::aws-sdk:dynamodb:putItem",
            put,
            ResultPath="$.second",
            Catch=CATCH_ALL,
            End=True,
        ),
        **CAUGHT,
    }
    # When it runs
    described = run(endpoint, states)
    # Then the first result is PutItem's response without ResponseMetadata (empty), and the
    # second failed as aws-sdk names it: DynamoDb.ConditionalCheckFailedException
    output = json.loads(described["output"])
    assert "ResponseMetadata" not in output
    assert "SdkHttpMetadata" not in output
    assert output["error"]["Error"] == "DynamoDb.ConditionalCheckFailedException"


def test_sqs_send_message_sends_a_json_body_as_its_text(endpoint: str, aws: Any) -> None:
    # Given a moto queue and a machine sending a JSON MessageBody to it
    queue_url = aws("sqs").create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    states = {
        "Send": task(
            "arn:aws:states:::sqs:sendMessage",
            {"QueueUrl": queue_url, "MessageBody": {"order": 42}},
            End=True,
        )
    }
    # When it runs
    described = run(endpoint, states)
    # Then the queue holds the body as JSON text, and the result is AWS's optimized shape
    output = json.loads(described["output"])
    assert set(output) >= {
        "MessageId",
        "MD5OfMessageBody",
        "SdkHttpMetadata",
        "SdkResponseMetadata",
    }
    assert output["SdkHttpMetadata"]["HttpStatusCode"] == 200
    received = aws("sqs").receive_message(QueueUrl=queue_url, WaitTimeSeconds=5)["Messages"]
    assert json.loads(received[0]["Body"]) == {"order": 42}
    assert received[0]["MessageId"] == output["MessageId"]


def test_sqs_to_a_missing_queue_fails_with_an_sqs_error(endpoint: str) -> None:
    # Given a machine sending to a queue that does not exist
    missing = f"{endpoint}/111111111111/no-such-queue"
    states = {
        "Send": task(
            "arn:aws:states:::sqs:sendMessage",
            {"QueueUrl": missing, "MessageBody": "x"},
            Catch=CATCH_ALL,
            End=True,
        ),
        **CAUGHT,
    }
    # When it runs
    described = run(endpoint, states)
    # Then the error is SQS's, named as the optimized integration names it
    error = json.loads(described["output"])["error"]["Error"]
    assert error.startswith("SQS.")
    assert error.endswith("Exception")
    assert "QueueDoesNotExist" in error or "NonExistentQueue" in error


def test_s3_put_object_then_get_object_returns_the_body_as_text(endpoint: str, aws: Any) -> None:
    # Given a bucket, and a machine writing then reading an object (optimized, then aws-sdk)
    bucket = f"b-{uuid.uuid4().hex[:8]}"
    aws("s3").create_bucket(Bucket=bucket)
    where = {"Bucket": bucket, "Key": "hello.txt"}
    states = {
        "Put": task(
            "arn:aws:states:::s3:putObject", {**where, "Body": "hello"}, ResultPath=None, Next="Get"
        ),
        "Get": task(
            "arn:aws:states:::aws-sdk:s3:getObject", where, ResultPath="$.got", Next="Missing"
        ),
        "Missing": task(
            "arn:aws:states:::aws-sdk:s3:getObject",
            {**where, "Key": "nope"},
            Catch=CATCH_ALL,
            End=True,
        ),
        **CAUGHT,
    }
    # When it runs
    described = run(endpoint, states)
    # Then GetObject's Body is the text written, dates are ISO text, and a missing key fails
    # as aws-sdk names S3's NoSuchKey: S3.NoSuchKeyException
    output = json.loads(described["output"])
    assert output["got"]["Body"] == "hello"
    assert isinstance(output["got"]["LastModified"], str)
    assert output["error"]["Error"] == "S3.NoSuchKeyException"


def test_an_unknown_sdk_action_fails_naming_it(endpoint: str) -> None:
    # Given aws-sdk:dynamodb:putThing, which the DynamoDB API does not have
    states = {
        "T": task("arn:aws:states:::aws-sdk:dynamodb:putThing", {}, Catch=CATCH_ALL, End=True),
        **CAUGHT,
    }
    # When it runs
    error = json.loads(run(endpoint, states)["output"])["error"]
    # Then it failed as States.TaskFailed naming the action and the API
    assert error["Error"] == "States.TaskFailed"
    assert "'putThing'" in error["Cause"]
    assert "dynamodb" in error["Cause"]


@pytest.mark.parametrize(
    ("service_id", "prefix"),
    [("DynamoDB", "DynamoDb"), ("ACM PCA", "AcmPca"), ("SQS", "Sqs"), ("S3", "S3"), ("EC2", "Ec2"),
     ("EventBridge", "EventBridge"), ("SFN", "Sfn"), ("Lambda", "Lambda")],
)  # fmt: skip
def test_sdk_error_prefixes_are_the_java_sdk_v2_service_names(service_id: str, prefix: str) -> None:
    # Given a boto3 service id / When it is named as aws-sdk errors name it / Then
    assert sdk_error_prefix(service_id) == prefix


def test_error_codes_end_in_exception_and_sdk_services_map_to_boto3() -> None:
    # Given wire codes and ASL service names / When mapped / Then as AWS's guide names them
    assert exception_name("NoSuchKey") == "NoSuchKeyException"
    assert exception_name("ConditionalCheckFailedException") == "ConditionalCheckFailedException"
    assert exception_name("AWS.SimpleQueueService.NonExistentQueue") == "NonExistentQueueException"
    available = ["acm-pca", "dynamodb", "events", "stepfunctions"]
    assert boto3_service("acmpca", available) == "acm-pca"
    assert boto3_service("sfn", available) == "stepfunctions"
    assert boto3_service("eventbridge", available) == "events"
    assert boto3_service("nosuch", available) is None


def test_sns_publish_sends_a_json_message_as_its_text(endpoint: str, aws: Any) -> None:
    # Given a topic with a queue subscribed (raw delivery), and a machine publishing JSON
    topic = aws("sns").create_topic(Name=f"t-{uuid.uuid4().hex[:8]}")["TopicArn"]
    queue_url = aws("sqs").create_queue(QueueName=f"s-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = aws("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    aws("sns").subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn["Attributes"]["QueueArn"],
        Attributes={"RawMessageDelivery": "true"},
    )
    states = {
        "Publish": task(
            "arn:aws:states:::sns:publish", {"TopicArn": topic, "Message": {"n": 1}}, End=True
        )
    }
    # When it runs
    output = json.loads(run(endpoint, states)["output"])
    # Then the subscriber got the JSON text, and the result has the MessageId and SDK metadata
    assert "MessageId" in output
    assert "SdkResponseMetadata" in output
    received = aws("sqs").receive_message(QueueUrl=queue_url, WaitTimeSeconds=5)["Messages"]
    assert json.loads(received[0]["Body"]) == {"n": 1}


def test_events_put_events_sends_detail_as_text_and_adds_the_execution_arns(
    endpoint: str, aws: Any
) -> None:
    # Given a rule on the default bus sending every event from "orders" to a queue
    queue_url = aws("sqs").create_queue(QueueName=f"e-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = aws("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    rule = f"r-{uuid.uuid4().hex[:8]}"
    aws("events").put_rule(Name=rule, EventPattern=json.dumps({"source": ["orders"]}))
    target = {"Id": "q", "Arn": queue_arn["Attributes"]["QueueArn"]}
    aws("events").put_targets(Rule=rule, Targets=[target])
    entry = {"Source": "orders", "DetailType": "Placed", "Detail": {"id": 7}}
    states = {"Put": task("arn:aws:states:::events:putEvents", {"Entries": [entry]}, End=True)}
    # When it runs
    output = json.loads(run(endpoint, states)["output"])
    # Then the entry was accepted, and the event carries the JSON detail and the ARNs
    assert output["FailedEntryCount"] == 0
    received = aws("sqs").receive_message(QueueUrl=queue_url, WaitTimeSeconds=5)["Messages"]
    event = json.loads(received[0]["Body"])
    assert event["detail"] == {"id": 7}
    assert any(":stateMachine:aws" in arn for arn in event["resources"])
    assert any(":execution:aws:" in arn for arn in event["resources"])
