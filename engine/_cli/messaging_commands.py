"""Queues and topics from the command line, on the configured store (ADR 0021).

``stepline queue create|list|send|receive|delete``, ``stepline topic
create|list|subscribe|publish|delete`` and ``stepline consume QUEUE...`` (a service's
consumer: runs the functions registered with ``@engine.consumer`` until interrupted).
Each prints boto3's response as JSON; a missing queue or topic is one line on stderr and
exit status 1.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from typing import Any

import click

from engine._cli.common import CliSeams, import_handler_modules
from engine._composition import connect

Json = Any


def _messaging(seams: CliSeams) -> Any:
    from engine._messaging.consumer import messaging

    return messaging(connect(seams.config()))


def _print(request: Callable[[], Json]) -> None:
    """Print the response as JSON; a refused request is one line on stderr, exit 1."""
    try:
        response = request()
    except ValueError as error:
        click.echo(f"stepline: {error}", err=True)
        sys.exit(1)
    click.echo(json.dumps(response, indent=2, ensure_ascii=False))


@click.group()
def queue() -> None:
    """Manage the store's queues (SQS-shaped)."""


@queue.command("create")
@click.argument("name")
@click.option("--visibility-timeout", type=int, help="Seconds a received message stays hidden.")
@click.pass_obj
def queue_create(seams: CliSeams, name: str, visibility_timeout: int | None) -> None:
    """Create queue NAME; print its URL."""
    attributes = {"VisibilityTimeout": str(visibility_timeout)} if visibility_timeout else None
    _print(lambda: _messaging(seams).create_queue(QueueName=name, Attributes=attributes))


@queue.command("list")
@click.option("--prefix", default="", help="Only queues whose name starts with this.")
@click.pass_obj
def queue_list(seams: CliSeams, prefix: str) -> None:
    """List the queues' URLs."""
    _print(lambda: _messaging(seams).list_queues(QueueNamePrefix=prefix))


@queue.command("send")
@click.argument("name")
@click.argument("body")
@click.pass_obj
def queue_send(seams: CliSeams, name: str, body: str) -> None:
    """Send BODY to queue NAME (a name, URL or ARN)."""
    _print(lambda: _messaging(seams).send_message(QueueUrl=name, MessageBody=body))


@queue.command("receive")
@click.argument("name")
@click.option("--max", "max_messages", type=int, default=1, show_default=True)
@click.option("--wait", "wait_seconds", type=float, default=0, show_default=True)
@click.option("--visibility-timeout", type=int, help="Seconds the messages stay hidden.")
@click.pass_obj
def queue_receive(
    seams: CliSeams, name: str, max_messages: int, wait_seconds: float, visibility_timeout: int
) -> None:
    """Receive up to --max messages of queue NAME (they come back unless deleted)."""
    _print(
        lambda: _messaging(seams).receive_message(
            QueueUrl=name,
            MaxNumberOfMessages=max_messages,
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=visibility_timeout,
        )
    )


@queue.command("delete")
@click.argument("name")
@click.option("--receipt", help="Delete only the message of this receipt handle.")
@click.pass_obj
def queue_delete(seams: CliSeams, name: str, receipt: str | None) -> None:
    """Delete queue NAME and its messages (or one message, with --receipt)."""
    if receipt:
        _print(lambda: _messaging(seams).delete_message(QueueUrl=name, ReceiptHandle=receipt))
    else:
        _print(lambda: _messaging(seams).delete_queue(QueueUrl=name))


@click.group()
def topic() -> None:
    """Manage the store's topics (SNS-shaped)."""


@topic.command("create")
@click.argument("name")
@click.pass_obj
def topic_create(seams: CliSeams, name: str) -> None:
    """Create topic NAME; print its ARN."""
    _print(lambda: _messaging(seams).create_topic(Name=name))


@topic.command("list")
@click.pass_obj
def topic_list(seams: CliSeams) -> None:
    """List the topics' ARNs."""
    _print(lambda: _messaging(seams).list_topics())


@topic.command("subscribe")
@click.argument("name")
@click.argument("queue_name")
@click.option("--raw", is_flag=True, help="RawMessageDelivery: the message, not SNS's envelope.")
@click.pass_obj
def topic_subscribe(seams: CliSeams, name: str, queue_name: str, raw: bool) -> None:
    """Subscribe queue QUEUE_NAME (name, URL or ARN) to topic NAME."""
    attributes = {"RawMessageDelivery": "true"} if raw else None
    _print(
        lambda: _messaging(seams).subscribe(
            TopicArn=name, Protocol="sqs", Endpoint=queue_name, Attributes=attributes
        )
    )


@topic.command("publish")
@click.argument("name")
@click.argument("message")
@click.option("--subject", help="The notification's Subject.")
@click.pass_obj
def topic_publish(seams: CliSeams, name: str, message: str, subject: str | None) -> None:
    """Publish MESSAGE to every queue subscribed to topic NAME."""
    _print(lambda: _messaging(seams).publish(TopicArn=name, Message=message, Subject=subject))


@topic.command("delete")
@click.argument("name")
@click.pass_obj
def topic_delete(seams: CliSeams, name: str) -> None:
    """Delete topic NAME and its subscriptions."""
    _print(lambda: _messaging(seams).delete_topic(TopicArn=name))


@click.command()
@click.argument("queues", nargs=-1, required=True)
@click.option("--handlers", "modules", multiple=True, help="Module registering the consumers.")
@click.pass_obj
def consume(seams: CliSeams, queues: tuple[str, ...], modules: tuple[str, ...]) -> None:
    """Run the @engine.consumer functions of QUEUES until interrupted (a service's worker)."""
    from engine._messaging.consumer import CONSUMERS, serve

    import_handler_modules(list(modules) or list(seams.config().handler_modules))
    missing = [name for name in queues if name not in CONSUMERS]
    if missing:
        raise click.BadParameter(
            f"no @engine.consumer for {missing}; registered: {sorted(CONSUMERS) or 'none'}",
            param_hint="QUEUES",
        )
    client, stop = connect(seams.config()), threading.Event()
    threads = [
        threading.Thread(target=serve, args=(name,), kwargs={"client": client, "stop": stop})
        for name in queues
    ]
    for thread in threads:
        thread.start()
    click.echo(f"stepline: consuming {', '.join(queues)} (Ctrl-C stops)", err=True)
    try:
        for thread in threads:
            thread.join()
    except KeyboardInterrupt:
        stop.set()


COMMANDS = (queue, topic, consume)
"""The commands this module adds to ``stepline``."""
