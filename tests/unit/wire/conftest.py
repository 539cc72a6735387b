"""A `stepline serve` app on uvicorn in a thread, in front of `Client.local`, and boto3 on it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from engine._api import Client
from engine._clock import FakeClock
from engine._resources import HandlerRegistry
from engine._wire import SigV4Verifier, WireProtocol, create_app
from tests.wire_server import serving

ACCESS_KEY = "AKIDSTEPLINETEST"
SECRET_KEY = "wire-test-secret"
PASS_MACHINE = '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}'
TASK_MACHINE = (
    '{"StartAt": "Double", "States": {"Double": {"Type": "Task", '
    '"Resource": "arn:aws:lambda:us-east-1:111111111111:function:double", "End": true}}}'
)
ROLE = "arn:aws:iam::111111111111:role/wire-tests"
# A Task that waits for its callback; `double` gets the token in its payload.
CALLBACK = json.dumps(
    {
        "StartAt": "Hold",
        "States": {
            "Hold": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {
                    "FunctionName": "double",
                    "Payload": {"n": 1, "token.$": "$$.Task.Token"},
                },
                "End": True,
            }
        },
    }
)


def local_client() -> Client:
    """An in-process client whose Task ``double`` doubles ``n``; Waits take no time."""
    registry = HandlerRegistry()
    registry.register("double", lambda event, context: {"n": event["n"] * 2})
    return Client.local(registry, clock=FakeClock())


def boto3_client(url: str, *, key: str = ACCESS_KEY, secret: str = SECRET_KEY) -> Any:
    """boto3's own ``stepfunctions`` client on ``url`` (no retries: one answer per call)."""
    return boto3.client(
        "stepfunctions",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        # StartSyncExecution's endpoint is sync-HOST on AWS; one host serves all here.
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, inject_host_prefix=False),
    )


@pytest.fixture
def server_url() -> Iterator[str]:
    """An unauthenticated server (no STEPLINE_ACCESS_KEYS) on a local client."""
    protocol = WireProtocol(local_client(), one_at_a_time=True)
    with serving(create_app(protocol)) as url:
        yield url


@pytest.fixture
def signed_url() -> Iterator[str]:
    """A server that accepts only requests signed with ``ACCESS_KEY`` / ``SECRET_KEY``."""
    verifier = SigV4Verifier({ACCESS_KEY: SECRET_KEY})
    protocol = WireProtocol(local_client(), verifier=verifier, one_at_a_time=True)
    with serving(create_app(protocol)) as url:
        yield url


@pytest.fixture
def sfn(server_url: str) -> Any:
    """boto3 on the unauthenticated server."""
    return boto3_client(server_url)
