"""The web console in real headless Chromium (Debian's), on a real fleet.

`stepline serve` runs as a process on the fleet's PostgreSQL store, a Celery worker and
beat advance the executions, and Playwright drives ``/usr/bin/chromium`` (never a
downloaded browser). Screenshots go to ``STEPLINE_SCREENSHOTS`` (``docs/console`` when
refreshing the README's pictures), else to the test's temporary folder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Fleet
from tests.integration.test_aws_cli import stepline_serve

CHROMIUM = Path("/usr/bin/chromium")
LAMBDA = "arn:aws:lambda:us-east-1:111111111111:function:"
ORDERS = {
    "Comment": "Reserve and notify in parallel, pack every line, then ship.",
    "StartAt": "Fulfil",
    "States": {
        "Fulfil": {
            "Type": "Parallel",
            "ResultPath": "$.fulfilment",
            "Next": "PackLines",
            "Branches": [
                {
                    "StartAt": "Reserve",
                    "States": {
                        "Reserve": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                            "Parameters": {
                                "FunctionName": "console_hold",
                                "Payload": {
                                    "token.$": "$$.Task.Token",
                                    "execution.$": "$$.Execution.Name",
                                },
                            },
                            "End": True,
                        }
                    },
                },
                {"StartAt": "Notify", "States": {"Notify": {"Type": "Pass", "End": True}}},
            ],
        },
        "PackLines": {
            "Type": "Map",
            "ItemsPath": "$.lines",
            "MaxConcurrency": 1,
            "ResultPath": "$.packed",
            "ItemProcessor": {
                "StartAt": "Pack",
                "States": {
                    "Pack": {"Type": "Wait", "Seconds": 1, "Next": "Label"},
                    "Label": {"Type": "Pass", "End": True},
                },
            },
            "Next": "Express?",
        },
        "Express?": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.express", "BooleanEquals": True, "Next": "Ship"}],
            "Default": "Done",
        },
        "Ship": {"Type": "Task", "Resource": LAMBDA + "console_ship", "End": True},
        "Done": {"Type": "Succeed"},
    },
}


@pytest.fixture
def fleet_settings() -> dict[str, str]:
    """The fleet's workers import the console tests' handlers."""
    return {"STEPLINE_HANDLERS": "tests.integration.console_handlers"}


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright (skipped locally without it)."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where the test's screenshots go."""
    folder = Path(os.environ.get("STEPLINE_SCREENSHOTS", tmp_path / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def tokens_of(fleet: Fleet, executions: set[str]) -> dict[str, str]:
    """The task tokens ``console_hold`` handed over, by execution name (in any order)."""
    tokens: dict[str, str] = {}
    while set(tokens) != executions:
        _, name, token = fleet.next_signal("token:").split(":", 2)
        tokens[name] = token
    return tokens


def node(page: Any, name: str) -> Any:
    return page.locator(f'.graph .node[data-name="{name}"]')


@pytest.mark.celery
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.slow
def test_a_running_execution_is_watched_a_failed_state_opened_and_one_stopped(
    fleet: Fleet, browser: Any, screenshots: Path
) -> None:
    # Given `stepline serve` on the fleet's store, and three executions of a machine with a
    # Parallel and a Map: one to watch, one that will fail, one to stop
    machine = fleet.create("orders", ORDERS)
    lines = {"lines": ["book", "mug", "lamp"]}
    watched = fleet.start_execution(machine, {**lines, "express": False}, "order-1001")
    failing = fleet.start_execution(
        machine, {**lines, "express": True, "order": 1002}, "order-1002"
    )
    stopped = fleet.start_execution(machine, lines, "order-1003")
    tokens = tokens_of(fleet, {"order-1001", "order-1002", "order-1003"})
    with stepline_serve(fleet.env) as url:
        page = browser.new_page(viewport={"width": 1440, "height": 960})
        page.on("dialog", lambda dialog: dialog.accept())

        # When the operator lists the running executions and opens the one to watch
        page.goto(f"{url}/console/executions?status=RUNNING&q=1001")
        page.wait_for_selector("#executions")
        rows = page.locator("#executions tbody tr")
        assert rows.count() == 1
        rows.first.locator("a").first.click()

        # Then the graph shows the Parallel's branch waiting and the Map not started yet
        page.wait_for_selector('.graph .node[data-name="Reserve"][data-status="RUNNING"]')
        assert node(page, "Fulfil").get_attribute("data-status") == "RUNNING"
        assert node(page, "Notify").get_attribute("data-status") == "SUCCEEDED"
        assert node(page, "PackLines").get_attribute("data-status") == "NOT_STARTED"
        page.screenshot(path=screenshots / "execution-running.png")

        # When the reservation comes back (as a service would answer its task token)
        fleet.client.send_task_success(taskToken=tokens["order-1001"], output="{}")

        # Then, without reloading, the states change colour as the execution advances
        page.wait_for_selector('.graph .node[data-name="PackLines"][data-status="RUNNING"]')
        assert node(page, "Reserve").get_attribute("data-status") == "SUCCEEDED"
        page.wait_for_selector('.chip[data-status="SUCCEEDED"]')
        page.evaluate("document.getElementById('graph').scrollIntoView()")
        page.screenshot(path=screenshots / "execution-map.png")
        page.wait_for_selector(
            '.graph .node[data-name="Done"][data-status="SUCCEEDED"]', timeout=60_000
        )
        page.wait_for_selector('.badge[data-status="SUCCEEDED"]')
        assert page.locator("#map-runs .chip").count() == 3
        assert node(page, "Ship").get_attribute("data-status") == "NOT_STARTED"

        # When the failing execution's reservation comes back, and its Ship state fails
        fleet.client.send_task_success(taskToken=tokens["order-1002"], output="{}")
        fleet.await_status(failing)
        page.goto(f"{url}/console/execution?arn={failing}")
        page.wait_for_selector('.graph .node[data-name="Ship"][data-status="FAILED"]')
        node(page, "Ship").click()

        # Then the state's panel shows its error and its cause
        error = page.locator("#panel .state-error")
        assert error.locator("b").inner_text() == "WarehouseEmpty"
        assert "no stock left for order 1002" in error.locator("pre").inner_text()
        assert "WarehouseEmpty" in page.locator("#execution-error").inner_text()
        page.evaluate("document.getElementById('graph').scrollIntoView()")
        page.screenshot(path=screenshots / "execution-failed.png")

        # When the operator stops the third execution from its page
        page.goto(f"{url}/console/execution?arn={stopped}")
        page.wait_for_selector('.graph .node[data-name="Reserve"][data-status="RUNNING"]')
        page.click("#stop")

        # Then it is aborted, in the store and on the page, and its waiting state with it
        page.wait_for_selector('h1 + .badge[data-status="ABORTED"]')
        page.wait_for_selector('.graph .node[data-name="Reserve"][data-status="ABORTED"]')
        assert fleet.client.describe_execution(executionArn=stopped)["status"] == "ABORTED"
        assert fleet.client.describe_execution(executionArn=watched)["status"] == "SUCCEEDED"

        # And the machine's page and the validator draw the definition and its problems
        page.goto(f"{url}/console/machine?arn={machine}")
        page.wait_for_selector('.graph .node[data-name="PackLines"]')
        page.screenshot(path=screenshots / "machine.png")
        broken = json.loads(json.dumps(ORDERS))
        broken["States"]["Express?"]["Default"] = "Nowhere"
        del broken["States"]["Ship"]["End"]
        page.goto(f"{url}/console/validate")
        page.wait_for_selector("#definition")
        page.fill("#definition", json.dumps(broken, indent=2))
        page.click('button.primary:has-text("Validate")')
        page.wait_for_selector('.graph .node.diagnosed[data-name="Ship"]')
        assert page.locator("#diagnostics tbody tr").count() >= 2
        page.screenshot(path=screenshots / "validate.png", full_page=True)

        # And the list of executions shows each one's end
        page.goto(f"{url}/console/executions")
        page.wait_for_selector("#executions")
        statuses = page.locator("#executions .badge").all_inner_texts()
        assert sorted(statuses) == ["Cancelled", "Failed", "Succeeded"]
        page.screenshot(path=screenshots / "executions.png")
