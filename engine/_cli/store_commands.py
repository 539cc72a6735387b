"""The API from the command line, on the configured store.

``create``, ``start``, ``describe``, ``history``, ``list`` and ``stop``: each is one or two
`engine._api.Client` calls on the client `engine.connect` builds from the settings.
"""

from __future__ import annotations

import json
import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import click

from engine._api.base import given
from engine._cli.common import (
    MACHINE_TYPES,
    CliSeams,
    all_events,
    all_executions,
    await_end,
    call,
    create_or_update,
    definition_problems,
    execution_name,
    machine_arn,
    read_input,
    report,
    standard_machines,
)
from engine._cli.failures import broker_unreachable
from engine._cli.history import history_lines, json_lines
from engine._composition import celery_dispatcher, connect

if TYPE_CHECKING:
    from engine._api.client import Client
    from engine._runtime import Dispatcher
    from engine._store.repository import OutboxMessage


@click.command()
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option(
    "--type",
    "machine_type",
    type=click.Choice(MACHINE_TYPES),
    default="STANDARD",
    show_default=True,
)
@click.option("--publish", is_flag=True, help="Also publish a version.")
@click.pass_obj
def create(seams: CliSeams, name: str, file: Path, machine_type: str, publish: bool) -> None:
    """Create (or update) state machine NAME from FILE in the store; print its ARN."""
    client = connect(seams.config())
    text, problems = definition_problems(client, file, machine_type)
    if problems:
        click.echo("\n".join(problems), err=True)
        sys.exit(1)
    machine = call(lambda: create_or_update(client, name, text, machine_type))
    arn = machine["stateMachineArn"]
    if publish:
        arn = call(lambda: client.publish_state_machine_version(stateMachineArn=arn))[
            "stateMachineVersionArn"
        ]
    click.echo(arn)


@click.command()
@click.argument("machine")
@click.option("--input", "input_text", default="{}", show_default=True, metavar="JSON|@FILE")
@click.option("--name", callback=execution_name, help="The execution name (default: a fresh UUID).")
@click.option("--wait", is_flag=True, help="Wait for the end (running workers advance it).")
@click.option(
    "--progress/--no-progress",
    default=True,
    show_default=True,
    help="With --wait: show states entering and exiting on stderr meanwhile.",
)
@click.pass_obj
def start(
    seams: CliSeams, machine: str, input_text: str, name: str | None, wait: bool, progress: bool
) -> None:
    """Start an execution of MACHINE (a name or an ARN); print its ARN.

    With --wait, print its output (or its error, exit 1) once it ends, showing its states
    entering and exiting on stderr meanwhile (live on a terminal, one line each otherwise).

    When the broker cannot be reached, the execution is stored all the same and runs
    once the broker is back (the beat relay republishes it): a note says so on stderr,
    and the exit status is 0.
    """
    execution_input = read_input(input_text)
    client, dispatcher = _publishing_client(seams)
    arn = machine_arn(client, machine)
    started = call(
        lambda: client.start_execution(
            **given(stateMachineArn=arn, input=execution_input, name=name)
        )
    )
    click.echo(started["executionArn"])
    if not _broker_failed(seams, dispatcher, "the execution") and wait:
        from engine._cli.progress import showing_progress  # rich: only while a run waits

        # An Express execution cannot be described (InvalidArn, as on AWS): one line, exit 1.
        waiter = showing_progress(await_end, seams.clock.now) if progress else await_end
        report(call(partial(waiter, client, started["executionArn"])))


def _publishing_client(seams: CliSeams) -> tuple[Client, NotingDispatcher]:
    """The durable client of a command that publishes, with its noting dispatcher."""
    config = seams.config()
    dispatcher = NotingDispatcher(celery_dispatcher(config))
    return connect(config, dispatcher=dispatcher), dispatcher


def _broker_failed(seams: CliSeams, dispatcher: NotingDispatcher, what: str) -> bool:
    """Say in one line on stderr that ``what`` waits for the broker, if a publish failed."""
    if dispatcher.failure is None:
        return False
    line = broker_unreachable(seams.config().celery_broker_url, dispatcher.failure, what)
    click.echo(f"stepline: {line}", err=True)
    return True


class NotingDispatcher:
    """Publishes through ``inner`` and keeps a failure instead of raising it.

    The runtime would log a failed publish with its traceback; the outbox keeps the
    messages either way (the relay republishes them), so the CLI only has to say so.
    """

    def __init__(self, inner: Dispatcher) -> None:
        self.inner = inner
        self.failure: Exception | None = None

    def publish(self, messages: list[OutboxMessage]) -> None:
        """Publish ``messages``; remember why not, when the broker refuses."""
        try:
            self.inner.publish(messages)
        except Exception as error:  # any broker or network failure: the relay resends
            self.failure = error


@click.command()
@click.argument("execution_arn")
@click.pass_obj
def describe(seams: CliSeams, execution_arn: str) -> None:
    """Print DescribeExecution's response as JSON."""
    client = connect(seams.config())
    described = call(lambda: client.describe_execution(executionArn=execution_arn))
    click.echo(json.dumps(described, indent=2, default=str, ensure_ascii=False))


@click.command()
@click.argument("execution_arn")
@click.option("--reverse", is_flag=True, help="Newest event first.")
@click.option("--json", "as_json", is_flag=True, help="One boto3-shaped event per line.")
@click.pass_obj
def history(seams: CliSeams, execution_arn: str, reverse: bool, as_json: bool) -> None:
    """Print an execution's event history."""
    client = connect(seams.config())
    events = call(lambda: all_events(client, execution_arn))
    if reverse:
        events.reverse()
    lines = json_lines(events) if as_json else history_lines(events)
    for line in lines:
        click.echo(line)


@click.command(name="list")
@click.argument("machine", required=False)
@click.option("--status", default=None, help="Only executions with this status.")
@click.pass_obj
def list_executions(seams: CliSeams, machine: str | None, status: str | None) -> None:
    """List executions (of MACHINE, or of every machine), newest first."""
    client = connect(seams.config())
    machines = [machine_arn(client, machine)] if machine else standard_machines(client)
    items = [
        item for arn in machines for item in call(partial(all_executions, client, arn, status))
    ]
    # One list across machines, newest first like each ListExecutions page (stable on ties).
    for item in sorted(items, key=lambda item: item["startDate"], reverse=True):
        started = item["startDate"].strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"{item['status']:<10} {started}  {item['executionArn']}")


@click.command()
@click.argument("execution_arn")
@click.option("--error", default=None, help="The error the execution ends with.")
@click.option("--cause", default=None, help="Its cause.")
@click.pass_obj
def stop(seams: CliSeams, execution_arn: str, error: str | None, cause: str | None) -> None:
    """Stop a running execution: it ends ABORTED."""
    client, dispatcher = _publishing_client(seams)
    call(
        lambda: client.stop_execution(**given(executionArn=execution_arn, error=error, cause=cause))
    )
    click.echo(f"stopped {execution_arn}")
    _broker_failed(seams, dispatcher, "the stop")


@click.command()
@click.argument("execution_arn")
@click.option("--client-token", default=None, help="Makes a repeated call idempotent (15 min).")
@click.pass_obj
def redrive(seams: CliSeams, execution_arn: str, client_token: str | None) -> None:
    """Redrive an ended execution: it continues from its unsuccessful states."""
    client, dispatcher = _publishing_client(seams)
    call(
        lambda: client.redrive_execution(
            **given(executionArn=execution_arn, clientToken=client_token or None)
        )
    )
    click.echo(f"redriven {execution_arn}")
    _broker_failed(seams, dispatcher, "the redrive")


COMMANDS = (create, start, describe, history, list_executions, stop, redrive)
