"""The real ``aws`` command (PyPI ``awscli``) against a real ``stepline serve`` process.

Each test starts ``stepline serve`` on a free port of 127.0.0.1 -- ``--local``, or on a Celery
fleet over Redis + PostgreSQL -- with Step Functions Local's mock config in
``SFN_MOCK_CONFIG`` (examples/order_mock_config.json), and drives it only through
``aws stepfunctions ... --endpoint-url``: create-state-machine from ``file://``,
start-execution (plain and ``ARN#TestCase``), start-sync-execution, describe-execution polled
until the execution ends, get-execution-history and list-executions with ``--query``. No
handler module is loaded, so a Task answers only when its test case mocks it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import unavailable
from tests.integration.conftest import ROOT, Fleet

pytestmark = [pytest.mark.slow]
EXAMPLES = ROOT / "examples"
DEFINITION = EXAMPLES / "order_processing.asl.json"
ORDER = EXAMPLES / "order_input.json"
MOCK_CONFIG = EXAMPLES / "order_mock_config.json"
ROLE = "arn:aws:iam::111111111111:role/aws-cli-tests"
ACCESS_KEY, SECRET_KEY = "AKIDAWSCLITEST", "aws-cli-test-secret"
STARTUP_SECONDS = 60.0
CLI_SECONDS = 60.0
OPTIONS = ("--region", "us-east-1", "--output", "json")
SUCCEEDED = "events[?type==`ExecutionSucceeded`].executionSucceededEventDetails.output | [0]"


def aws_command() -> str:
    """The ``aws`` of this interpreter's environment (the dev extras install it), else PATH's."""
    beside = Path(sys.executable).parent / "aws"
    found = str(beside) if beside.exists() else shutil.which("aws")
    if found is None:
        unavailable("aws-cli (`pip install -e '.[dev]'` installs it)", FileNotFoundError("aws"))
    return found


@dataclass
class AwsCli:
    """``aws stepfunctions`` on one endpoint, isolated from the user's AWS configuration."""

    command: str
    url: str | None  # None: the endpoint comes from the environment (AWS_ENDPOINT_URL_SFN)
    env: dict[str, str]

    def __call__(self, operation: str, *args: str) -> Any:
        """Run one operation with ``--output json``; its parsed stdout (None when empty)."""
        completed = subprocess.run(
            [self.command, "stepfunctions", operation, *args, *self.endpoint(), *OPTIONS],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=CLI_SECONDS,
            check=False,
        )
        if completed.returncode != 0:
            raise AssertionError(
                f"aws stepfunctions {operation} {' '.join(args)} exited "
                f"{completed.returncode}: {completed.stderr.strip()}"
            )
        return json.loads(completed.stdout) if completed.stdout.strip() else None

    def endpoint(self) -> list[str]:
        """``--endpoint-url URL``, unless the environment names the endpoint."""
        return ["--endpoint-url", self.url] if self.url else []

    def await_end(self, execution_arn: str, timeout: float = 120) -> dict[str, Any]:
        """Poll describe-execution (through the CLI) until the execution leaves RUNNING."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            described: dict[str, Any] = self("describe-execution", "--execution-arn", execution_arn)
            if described["status"] != "RUNNING":
                return described
            time.sleep(0.2)
        raise AssertionError(f"{execution_arn} still RUNNING after {timeout}s")


def cli_env(home: Path, key: str = "dummy-key", secret: str = "dummy-secret") -> dict[str, str]:
    """A minimal environment: dummy credentials, no config or credentials file, no retries."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_CONFIG_FILE": str(home / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_PAGER": "",
        # StartSyncExecution goes to sync-HOST on AWS; one host serves everything here
        "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
    }


@contextmanager
def stepline_serve(env: dict[str, str], *options: str) -> Iterator[str]:
    """``stepline serve OPTIONS`` as a process on a free port; yields its URL once it listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = Path(env["STEPLINE_HOME"]) / f"serve-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "engine._cli", "serve", "--port", str(port), *options],
            cwd=ROOT,
            env={**env, "PYTHONPATH": str(ROOT)},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _await_listening(process, port, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _await_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Poll the port until the server accepts connections; fail with its log if it exits."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"stepline serve exited {process.returncode}: {log.read_text()}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"stepline serve did not listen on {port}: {log.read_text()}")


def create_order_machine(aws: AwsCli) -> str:
    """create-state-machine OrderProcessing from the example's file; its ARN."""
    created = aws(
        "create-state-machine",
        "--name",
        "OrderProcessing",
        "--definition",
        f"file://{DEFINITION}",
        "--role-arn",
        ROLE,
    )
    return str(created["stateMachineArn"])


def start(aws: AwsCli, machine_arn: str, name: str) -> str:
    """start-execution with the example order as input (``file://``); the execution ARN."""
    started = aws(
        "start-execution",
        "--state-machine-arn",
        machine_arn,
        "--name",
        name,
        "--input",
        f"file://{ORDER}",
    )
    return str(started["executionArn"])


@pytest.fixture
def aws_home(tmp_path: Path) -> Path:
    """A HOME (and STEPLINE_HOME) of the test's own: no ~/.aws of the user is read."""
    home = tmp_path / "home"
    home.mkdir()
    return home


def test_given_serve_local_with_a_mock_config_when_the_aws_cli_drives_it_then_test_cases_answer(
    aws_home: Path,
) -> None:
    # Given `stepline serve --local` requiring SigV4 and reading SFN_MOCK_CONFIG, no handlers
    server_env = {
        **os.environ,
        "STEPLINE_HOME": str(aws_home),
        "SFN_MOCK_CONFIG": str(MOCK_CONFIG),
        "STEPLINE_ACCESS_KEYS": f"{ACCESS_KEY}:{SECRET_KEY}",
    }
    server_env.pop("STEPLINE_MOCK_CONFIG", None)
    with stepline_serve(server_env, "--local") as url:
        aws = AwsCli(aws_command(), url, cli_env(aws_home, ACCESS_KEY, SECRET_KEY))
        machine = create_order_machine(aws)

        # When the happy path and the declined card run as test cases, and the plain machine
        happy = start(aws, f"{machine}#HappyPath", "happy-path")
        declined = start(aws, f"{machine}#CardDeclined", "card-declined")
        plain = start(aws, machine, "no-test-case")

        # Then the happy path ships with the mocked charge and reservation
        described = aws.await_end(happy)
        assert described["status"] == "SUCCEEDED", described
        assert described["stateMachineArn"] == machine
        output = json.loads(
            aws("get-execution-history", "--execution-arn", happy, "--query", SUCCEEDED)
        )
        assert output["chargeId"] == "ch_mocked"
        assert output["reservation"] == {"reservationId": "res_mocked", "lines": 3}
        # And the mocked gateway timeout was retried once
        failures = aws(
            "get-execution-history",
            "--execution-arn",
            happy,
            "--query",
            "events[?type==`LambdaFunctionFailed`].lambdaFunctionFailedEventDetails.error",
        )
        assert failures == ["PaymentGatewayTimeout"]
        # And the declined card is compensated by the mocked refund
        assert aws.await_end(declined)["error"] == "Order.Failed"
        # And without a test case the Tasks are really called, and nothing serves them
        assert aws.await_end(plain)["error"] == "Lambda.ResourceNotFoundException"
        # And list-executions sees all three, by name and status
        listed = aws(
            "list-executions",
            "--state-machine-arn",
            machine,
            "--query",
            "sort_by(executions, &name)[].[name, status]",
        )
        assert listed == [
            ["card-declined", "FAILED"],
            ["happy-path", "SUCCEEDED"],
            ["no-test-case", "FAILED"],
        ]


def test_given_serve_requiring_signatures_when_the_aws_cli_signs_with_an_unknown_key_then_refused(
    aws_home: Path,
) -> None:
    # Given `stepline serve --local` that accepts only ACCESS_KEY's signatures
    server_env = {
        **os.environ,
        "STEPLINE_HOME": str(aws_home),
        "STEPLINE_ACCESS_KEYS": f"{ACCESS_KEY}:{SECRET_KEY}",
    }
    with stepline_serve(server_env, "--local") as url:
        # When the CLI signs with a key the server does not know
        aws = AwsCli(aws_command(), url, cli_env(aws_home, "AKIDUNKNOWN", "wrong"))

        # Then the CLI reports AWS's error code
        with pytest.raises(AssertionError, match="UnrecognizedClientException"):
            aws("list-state-machines")


def test_given_the_endpoint_in_the_environment_when_the_cli_runs_a_sync_express_then_it_answers(
    aws_home: Path,
) -> None:
    # Given `stepline serve --local`, and the CLI told its endpoint by AWS_ENDPOINT_URL_SFN
    with stepline_serve({**os.environ, "STEPLINE_HOME": str(aws_home)}, "--local") as url:
        aws = AwsCli(aws_command(), None, {**cli_env(aws_home), "AWS_ENDPOINT_URL_SFN": url})
        hello = aws(
            "create-state-machine",
            "--name",
            "hello",
            "--type",
            "EXPRESS",
            "--definition",
            f"file://{EXAMPLES / 'hello.asl.yaml'}",
            "--role-arn",
            ROLE,
        )["stateMachineArn"]

        # When the CLI runs it with start-sync-execution (no --endpoint-url)
        answer = aws(
            "start-sync-execution",
            "--state-machine-arn",
            hello,
            "--input",
            '{"name": "Ada"}',
            "--query",
            "[status, output]",
        )

        # Then the execution's status and output come back in the response
        assert answer == ["SUCCEEDED", '{"greeting":"Hello, Ada!"}']


@pytest.fixture
def fleet_settings() -> dict[str, str]:
    """The fleet's workers answer test cases from the example's mock config."""
    return {"STEPLINE_MOCK_CONFIG": str(MOCK_CONFIG)}


@pytest.mark.celery
@pytest.mark.redis
@pytest.mark.postgres
def test_given_a_celery_fleet_when_the_aws_cli_starts_a_test_case_then_workers_run_it(
    fleet: Fleet, aws_home: Path
) -> None:
    # Given `stepline serve` on the fleet's store and broker, reading SFN_MOCK_CONFIG
    server_env = {**fleet.env, "SFN_MOCK_CONFIG": str(MOCK_CONFIG)}
    server_env.pop("STEPLINE_MOCK_CONFIG")
    with stepline_serve(server_env) as url:
        aws = AwsCli(aws_command(), url, cli_env(aws_home))
        machine = create_order_machine(aws)

        # When the CLI starts the happy path test case
        arn = start(aws, f"{machine}#HappyPath", "happy-path-on-celery")

        # Then the workers run it to success (polled through describe-execution)
        described = aws.await_end(arn)
        assert described["status"] == "SUCCEEDED", described
        output = json.loads(
            aws("get-execution-history", "--execution-arn", arn, "--query", SUCCEEDED)
        )
        assert (output["status"], output["chargeId"]) == ("SHIPPED", "ch_mocked")
        # And the history is AWS's: the Map's three mocked iterations, the retried charge
        scheduled = aws(
            "get-execution-history",
            "--execution-arn",
            arn,
            "--query",
            "length(events[?type==`LambdaFunctionScheduled`])",
        )
        assert scheduled == 3 + 2 + 1  # PriceLine x3, ChargePayment x2, NotifyCustomer
        # And list-executions reports it
        listed = aws(
            "list-executions", "--state-machine-arn", machine, "--query", "executions[].status"
        )
        assert listed == ["SUCCEEDED"]
