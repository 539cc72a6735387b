"""Distributed Map ItemReader / ResultWriter through the local client, against moto's S3."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from engine._api import Client
from engine._integrations.aws import AwsClients, register_aws_integrations
from engine._resources import HandlerRegistry
from tests.aws_moto import FAKE_CREDENTIALS, moto_server

Json = Any
ROLE = "arn:aws:iam::111111111111:role/stepline-tests"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in FAKE_CREDENTIALS.items():
            patch.setenv(name, value)
        with moto_server() as url:
            yield url


@pytest.fixture
def s3(endpoint: str) -> Any:
    return boto3.session.Session(region_name="us-east-1").client("s3", endpoint_url=endpoint)


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"maps-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    return name


def run(endpoint: str, map_state: dict[str, Json], payload: Json) -> dict[str, Json]:
    """Run a machine of one Distributed Map (its child a Pass) in the AWS mode on moto."""
    registry = HandlerRegistry()
    register_aws_integrations(registry, AwsClients(endpoint_url=endpoint))
    client = Client.local(registry)
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Echo",
        "States": {"Echo": {"Type": "Pass", "End": True}},
    }
    state = {"Type": "Map", "ItemProcessor": processor, "End": True, **map_state}
    definition = {"StartAt": "Map", "States": {"Map": state}}
    machine = client.create_state_machine(
        name="s3map", definition=json.dumps(definition), roleArn=ROLE
    )
    started = client.start_execution(
        stateMachineArn=machine["stateMachineArn"], input=json.dumps(payload)
    )
    return client.describe_execution(executionArn=started["executionArn"])


def test_a_csv_read_from_s3_is_mapped_and_the_results_are_written_back(
    endpoint: str, s3: Any, bucket: str
) -> None:
    # Given a CSV in moto's S3, and a Map reading it and writing its results to the bucket
    s3.put_object(Bucket=bucket, Key="in/orders.csv", Body=b"id,total\no-1,10\no-2,20\n")
    map_state = {
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
            "Parameters": {"Bucket.$": "$.bucket", "Key": "in/orders.csv"},
        },
        "ResultWriter": {
            "Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket.$": "$.bucket", "Prefix": "out"},
        },
    }
    # When it runs through the local client
    described = run(endpoint, map_state, {"bucket": bucket})
    # Then the output points at the manifest, which lists the SUCCEEDED file of both rows
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    details = output["ResultWriterDetails"]
    assert details["Bucket"] == bucket
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=details["Key"])["Body"].read())
    assert manifest["MapRunArn"] == output["MapRunArn"]
    (results_file,) = manifest["ResultFiles"]["SUCCEEDED"]
    results = json.loads(s3.get_object(Bucket=bucket, Key=results_file["Key"])["Body"].read())
    assert [json.loads(entry["Output"]) for entry in results] == [
        {"id": "o-1", "total": "10"},
        {"id": "o-2", "total": "20"},
    ]
    assert details["Key"] == f"out/{output['MapRunArn'].rsplit(':', 1)[1]}/manifest.json"


def test_listed_objects_are_the_items_with_aws_fields(endpoint: str, s3: Any, bucket: str) -> None:
    # Given two objects under a prefix
    for key in ("logs/a.log", "logs/b.log"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"12345")
    map_state = {
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:listObjectsV2",
            "Parameters": {"Bucket": bucket, "Prefix": "logs/"},
        }
    }
    # When a Map lists them
    described = run(endpoint, map_state, {})
    # Then each item carries the object's Key, Etag, LastModified (text), Size, StorageClass
    items = json.loads(described["output"])
    assert [item["Key"] for item in items] == ["logs/a.log", "logs/b.log"]
    assert set(items[0]) == {"Etag", "Key", "LastModified", "Size", "StorageClass"}
    assert items[0]["Size"] == 5
    assert items[0]["StorageClass"] == "STANDARD"
    assert isinstance(items[0]["LastModified"], str)


def test_a_missing_object_fails_the_map_with_item_reader_failed(endpoint: str, bucket: str) -> None:
    # Given a reader naming an object that does not exist
    map_state = {
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSON"},
            "Parameters": {"Bucket": bucket, "Key": "nothing.json"},
        }
    }
    # When the Map runs
    described = run(endpoint, map_state, {})
    # Then it fails with States.ItemReaderFailed, the cause naming S3's error
    assert described["status"] == "FAILED"
    assert described["error"] == "States.ItemReaderFailed"
    assert described["cause"].startswith("S3.NoSuchKeyException")
