"""Prometheus metrics and execution logs from a real fleet: the counts match what ran.

A Celery worker (prefork, two children) and beat on Redis + PostgreSQL, and a
``stepline serve`` process in front of the same store. Executions are started and stopped
through boto3 against ``stepline serve``, so the starts and the stop are counted there,
and the steps the workers run are counted by the worker. Prometheus sums the two
targets; so does the test.
"""

from __future__ import annotations

import json
import socket
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import ROLE, Fleet
from tests.integration.test_aws_cli import stepline_serve

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

FN = "arn:aws:lambda:us-east-1:111111111111:function:"
METERED = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Next": "Call"},
        "Call": {"Type": "Task", "Resource": f"{FN}quick", "End": True},
    },
}
FAILING = {
    "StartAt": "Call",
    "States": {"Call": {"Type": "Task", "Resource": f"{FN}fails_until_fixed", "End": True}},
}
NAPPING = {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 600, "End": True}}}
HURRIED = {
    "TimeoutSeconds": 1,
    "StartAt": "Nap",
    "States": {"Nap": {"Type": "Wait", "Seconds": 600, "End": True}},
}
LOG_GROUP = "/aws/vendedlogs/states/metered"
LOGGING = {
    "level": "ALL",
    "includeExecutionData": False,
    "destinations": [
        {
            "cloudWatchLogsLogGroup": {
                "logGroupArn": f"arn:aws:logs:us-east-1:111111111111:log-group:{LOG_GROUP}:*"
            }
        }
    ],
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


METRICS_PORT = _free_port()


@pytest.fixture
def fleet_settings(tmp_path: Path) -> dict[str, str]:
    """The worker serves metrics on a free port and every process appends execution logs."""
    return {
        "STEPLINE_METRICS_PORT": str(METRICS_PORT),
        "STEPLINE_EXECUTION_LOG_FILE": str(tmp_path / "executions.jsonl"),
    }


def _sfn(url: str) -> Any:
    return boto3.client(
        "stepfunctions",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="dummy",
        aws_secret_access_key="dummy",
        config=botocore.config.Config(inject_host_prefix=False, retries={"max_attempts": 1}),
    )


def _scrape(url: str) -> str:
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        return str(response.read().decode())


def _counts(*bodies: str) -> Counter[tuple[str, tuple[tuple[str, str], ...]]]:
    """Every sample of stepline's, summed over the scraped targets (as Prometheus's sum)."""
    summed: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
    for body in bodies:
        for family in text_string_to_metric_families(body):
            for sample in family.samples:
                if sample.name.startswith("stepline_"):
                    summed[(sample.name, tuple(sorted(sample.labels.items())))] += sample.value
    return summed


def test_the_scraped_counts_match_the_executions_the_fleet_ran(
    fleet: Fleet, fleet_settings: dict[str, str]
) -> None:
    with stepline_serve(fleet.env) as url:
        sfn = _sfn(url)
        worker = f"http://127.0.0.1:{METRICS_PORT}"
        # Given four machines: one that succeeds (logging ALL without data), one whose
        # handler fails, one that waits (to be stopped), one that times out
        arns = {
            name: sfn.create_state_machine(
                name=name,
                definition=json.dumps(definition),
                roleArn=ROLE,
                **({"loggingConfiguration": LOGGING} if name == "metered" else {}),
            )["stateMachineArn"]
            for name, definition in [
                ("metered", METERED),
                ("failing", FAILING),
                ("napping", NAPPING),
                ("hurried", HURRIED),
            ]
        }

        # When 3 succeed, 2 fail, 1 is stopped and 1 times out
        runs: dict[str, list[str]] = {name: [] for name in arns}
        for name, count in [("metered", 3), ("failing", 2), ("napping", 1), ("hurried", 1)]:
            for _ in range(count):
                started = sfn.start_execution(stateMachineArn=arns[name], input='{"secret": 1}')
                runs[name].append(started["executionArn"])
        napping = runs["napping"][0]
        fleet.await_event(napping, "WaitStateEntered")
        sfn.stop_execution(executionArn=napping, error="Halt", cause="stopped by the test")
        ended = {arn: fleet.await_status(arn)["status"] for arns_ in runs.values() for arn in arns_}
        assert Counter(ended.values()) == {
            "SUCCEEDED": 3,
            "FAILED": 2,
            "ABORTED": 1,
            "TIMED_OUT": 1,
        }

        # Then the API server's and the worker's scrapes add up to exactly what ran
        histories = {arn: fleet.history(arn) for arn in ended}
        entered = Counter(
            name
            for name, arns_ in runs.items()
            for arn in arns_
            for event in histories[arn]
            if event.type.endswith("StateEntered")
        )
        expected = {
            **{("stepline_executions_started_total", (("state_machine", n),)): c
               for n, c in [("metered", 3), ("failing", 2), ("napping", 1), ("hurried", 1)]},
            **{("stepline_executions_ended_total", (("state_machine", n), ("status", s))): c
               for n, s, c in [("metered", "SUCCEEDED", 3), ("failing", "FAILED", 2),
                               ("napping", "ABORTED", 1), ("hurried", "TIMED_OUT", 1)]},
            **{("stepline_state_transitions_total", (("state_machine", n),)): c
               for n, c in entered.items()},
            ("stepline_integration_errors_total",
             (("error", "NotFixedYet"), ("event", "LambdaFunctionFailed"),
              ("state_machine", "failing"))): 2,
            ("stepline_handler_duration_seconds_count",
             (("handler", "quick"), ("outcome", "succeeded"))): 3,
            ("stepline_handler_duration_seconds_count",
             (("handler", "fails_until_fixed"), ("outcome", "failed"))): 2,
        }  # fmt: skip

        last: list[Counter[tuple[str, tuple[tuple[str, str], ...]]]] = []

        def scraped() -> bool:
            last[:] = [_counts(_scrape(url), _scrape(worker))]
            # the counters move right after each commit: wait until the last one is in
            return all(last[0][key] >= value for key, value in expected.items())

        try:
            fleet.await_condition(scraped, 30, "the counters to reach the runs")
        finally:
            counts = last[0]
            assert {key: counts[key] for key in expected} == expected
        counted = {key for key in counts if key[0] in {k[0] for k in expected} and counts[key]}
        assert counted == set(expected), "a count nothing ran"
        # And both targets read the store's gauges
        assert counts[("stepline_store_up", ())] == 2
        running = ("stepline_executions_running", (("state_machine", "napping"),))
        assert counts[running] == 0

    # And the logged machine's every event is one JSON line, without its data
    lines = Path(fleet_settings["STEPLINE_EXECUTION_LOG_FILE"]).read_text().splitlines()
    records = [json.loads(line) for line in lines]
    metered = runs["metered"]
    assert {r["execution_arn"] for r in records} == set(metered)
    assert sorted((r["execution_arn"], int(r["id"])) for r in records) == sorted(
        (arn, event.id) for arn in metered for event in histories[arn]
    )
    assert not any("input" in r["details"] or "output" in r["details"] for r in records)
    assert "secret" not in "\n".join(lines)
