"""``stepline queue``/``topic``: the store's queues and topics from the command line."""

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


def test_a_queue_is_created_sent_to_received_and_deleted(tmp_path: Path) -> None:
    # Given a queue made from the command line
    created = stepline(tmp_path, "queue", "create", "work")
    assert created.exit_code == 0, created.output
    url = json.loads(created.output)["QueueUrl"]
    # When a message is sent and received
    assert stepline(tmp_path, "queue", "send", url, "hello").exit_code == 0
    received = json.loads(stepline(tmp_path, "queue", "receive", "work").output)
    # Then it is the message sent, and listing shows the queue
    assert [m["Body"] for m in received["Messages"]] == ["hello"]
    assert json.loads(stepline(tmp_path, "queue", "list").output) == {"QueueUrls": [url]}
    # And deleting the queue empties the list
    assert stepline(tmp_path, "queue", "delete", "work").exit_code == 0
    assert json.loads(stepline(tmp_path, "queue", "list").output) == {"QueueUrls": []}


def test_a_topic_publishes_to_its_subscribed_queue(tmp_path: Path) -> None:
    # Given a topic with a queue subscribed for raw delivery
    stepline(tmp_path, "queue", "create", "inbox")
    stepline(tmp_path, "topic", "create", "news")
    assert stepline(tmp_path, "topic", "subscribe", "news", "inbox", "--raw").exit_code == 0
    # When a message is published
    assert stepline(tmp_path, "topic", "publish", "news", "extra!").exit_code == 0
    # Then the queue has it as is
    received = json.loads(stepline(tmp_path, "queue", "receive", "inbox").output)
    assert [m["Body"] for m in received["Messages"]] == ["extra!"]


def test_a_missing_queue_is_one_line_naming_it_and_exit_1(tmp_path: Path) -> None:
    # Given no queue "nowhere"
    # When a message is sent to it
    result = stepline(tmp_path, "queue", "send", "nowhere", "x")
    # Then stderr says so in one line, naming the queue
    assert result.exit_code == 1
    assert "'nowhere'" in result.output
    assert len(result.output.strip().splitlines()) == 1
