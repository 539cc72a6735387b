"""``stepline events``: the event bus's rules and events from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from config.settings import Settings
from engine._cli import CliSeams, main


def stepline(home: Path, *args: str) -> Result:
    """Run ``stepline ARGS`` in-process on an embedded store in ``home``."""
    seams = CliSeams(settings=Settings(home=home, database_url=""))
    upgraded = CliRunner().invoke(main, ["db", "upgrade"], obj=seams)
    assert upgraded.exit_code == 0, upgraded.output
    return CliRunner().invoke(main, list(args), obj=seams)


def test_an_event_put_reaches_the_queue_a_rule_targets(tmp_path: Path) -> None:
    # Given a rule on OrderPlaced events targeting a queue, made from the command line
    stepline(tmp_path, "queue", "create", "orders")
    pattern = '{"detail-type": ["OrderPlaced"]}'
    rule = stepline(tmp_path, "events", "put-rule", "orders", "--pattern", pattern)
    assert rule.exit_code == 0, rule.output
    queue_arn = "arn:aws:sqs:us-east-1:111111111111:orders"
    targets = stepline(tmp_path, "events", "put-targets", "orders", queue_arn, "--id", "q")
    assert json.loads(targets.output)["FailedEntryCount"] == 0

    # When an OrderPlaced event is put
    put = stepline(
        tmp_path, "events", "put-events", "--source", "shop", "--detail-type", "OrderPlaced",
        "--detail", '{"order": 7}',
    )  # fmt: skip

    # Then it was accepted, and the queue holds the EventBridge event
    assert put.exit_code == 0, put.output
    event_id = json.loads(put.output)["Entries"][0]["EventId"]
    received = json.loads(stepline(tmp_path, "queue", "receive", "orders").output)
    (message,) = received["Messages"]
    event = json.loads(message["Body"])
    assert (event["id"], event["detail"]) == (event_id, {"order": 7})
    # And list-rules shows the rule
    listed = json.loads(stepline(tmp_path, "events", "list-rules").output)
    assert [r["Name"] for r in listed["Rules"]] == ["orders"]


def test_a_malformed_pattern_is_one_line_naming_the_place_and_exit_1(tmp_path: Path) -> None:
    # Given a pattern whose source is a bare string, not an array
    # When it is put as a rule
    result = stepline(tmp_path, "events", "put-rule", "bad", "--pattern", '{"source": "shop"}')
    # Then stderr says so in one line, with EventBridge's code and the pattern's path
    assert result.exit_code == 1
    assert "InvalidEventPatternException" in result.output
    assert "$.source" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_custom_bus_is_made_used_by_a_rule_and_listed(tmp_path: Path) -> None:
    # Given a bus "shop" made from the command line, with a rule on it
    made = stepline(tmp_path, "events", "create-event-bus", "shop")
    assert made.exit_code == 0, made.output
    pattern = '{"source": ["shop"]}'
    rule = stepline(tmp_path, "events", "put-rule", "r", "--pattern", pattern, "--bus", "shop")
    # When the buses and the bus's rules are listed
    buses = json.loads(stepline(tmp_path, "events", "list-event-buses").output)
    rules = json.loads(stepline(tmp_path, "events", "list-rules", "--bus", "shop").output)
    # Then both show, and the rule's ARN names its bus
    assert [b["Name"] for b in buses["EventBuses"]] == ["default", "shop"]
    assert json.loads(rule.output)["RuleArn"].endswith(":rule/shop/r")
    assert [r["Name"] for r in rules["Rules"]] == ["r"]
