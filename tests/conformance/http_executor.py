"""The conformance runner's ``--executor http``: boto3 over HTTP to `stepline serve`.

The Celery environment of ``--executor celery`` (a real worker on Redis, the PostgreSQL
store) stays behind the server: `stepline serve`'s app runs on uvicorn in a thread in
front of the durable client, and every case talks to it through boto3's own
``stepfunctions`` client, so each request and answer crosses the wire protocol (JSON 1.0,
SigV4-signed, AWS's error bodies) exactly as an SDK's would.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config

from engine._wire import SigV4Verifier, WireProtocol, create_app
from tests.conformance.celery_executor import CASE_TIMEOUT_SECONDS, CeleryCases, celery_environment
from tests.wire_server import serving

ACCESS_KEY = "AKIDCONFORMANCE"
SECRET_KEY = "conformance-secret"


@contextmanager
def http_environment() -> Iterator[HttpCases]:
    """The Celery environment, served over HTTP; yield the case runner."""
    with celery_environment() as cases:
        verifier = SigV4Verifier({ACCESS_KEY: SECRET_KEY})
        protocol = WireProtocol(cases.durable_client, verifier=verifier)
        with serving(create_app(protocol)) as url:
            yield HttpCases(cases, sfn_client(url))


def sfn_client(url: str) -> Any:
    """boto3's client on ``url``: signed, one attempt per call, patient with slow cases."""
    return boto3.client(
        "stepfunctions",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(
            retries={"max_attempts": 1, "mode": "standard"},
            read_timeout=CASE_TIMEOUT_SECONDS,
            # StartSyncExecution's host is sync-HOST on AWS; one server answers everything here.
            inject_host_prefix=False,
        ),
    )


class HttpCases:
    """Runs cases through boto3 against the server in front of the Celery environment."""

    def __init__(self, cases: CeleryCases, sfn: Any) -> None:
        self._cases = cases
        self._sfn = sfn

    @property
    def sfn(self) -> Any:
        """boto3's client on the server (validation cases need no handlers)."""
        return self._sfn

    def client(self, handlers: Any) -> Any:
        """boto3's client; ``handlers`` become the worker's registry (as for Celery)."""
        self._cases.client(handlers)
        return self._sfn

    def wait(self, client: Any, execution_arn: str) -> None:
        """Block until the execution ends, asking the server (``client`` is boto3's)."""
        self._cases.wait(client, execution_arn)
