"""The event bus from the command line, on the configured store (ADR 0022).

``stepline events put-rule|put-targets|remove-targets|delete-rule|list-rules|describe-rule|
put-events|create-event-bus|list-event-buses|delete-event-bus``: each prints boto3's
``events`` response as JSON; a refused request (a malformed pattern, a missing rule) is one
line on stderr and exit status 1, as the ``stepline`` group reports every ClientError.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from engine._cli.common import CliSeams
from engine._composition import connect

Json = Any


def _events(seams: CliSeams) -> Any:
    return connect(seams.config()).events


def _print(request: Callable[[], Json]) -> None:
    response = request()
    click.echo(json.dumps(response if response is not None else {}, indent=2, ensure_ascii=False))


@click.group()
def events() -> None:
    """Manage the event bus's rules and put events (EventBridge-shaped)."""


@events.command("put-rule")
@click.argument("name")
@click.option("--pattern", required=True, help="The EventPattern, as JSON text.")
@click.option("--state", type=click.Choice(["ENABLED", "DISABLED"]), default="ENABLED")
@click.option("--description", default=None)
@click.option("--bus", default=None, help="The event bus (default: default).")
@click.pass_obj
def put_rule(
    seams: CliSeams, name: str, pattern: str, state: str, description: str | None, bus: str | None
) -> None:
    """Create or update rule NAME; print its ARN."""
    _print(
        lambda: _events(seams).put_rule(
            Name=name, EventPattern=pattern, State=state, Description=description, EventBusName=bus
        )
    )


@events.command("put-targets")
@click.argument("rule")
@click.argument("arn")
@click.option("--id", "target_id", default="1", show_default=True, help="The target's Id.")
@click.option("--input", "input_text", default=None, help="Constant input (JSON text).")
@click.option("--input-path", default=None, help="JSONPath of the event to send instead.")
@click.option("--bus", default=None, help="The rule's event bus (default: default).")
@click.pass_obj
def put_targets(
    seams: CliSeams,
    rule: str,
    arn: str,
    target_id: str,
    input_text: str | None,
    input_path: str | None,
    bus: str | None,
) -> None:
    """Send RULE's events to ARN (a state machine or an SQS queue ARN)."""
    target: dict[str, Json] = {"Id": target_id, "Arn": arn}
    if input_text is not None:
        target["Input"] = input_text
    if input_path is not None:
        target["InputPath"] = input_path
    _print(lambda: _events(seams).put_targets(Rule=rule, Targets=[target], EventBusName=bus))


@events.command("remove-targets")
@click.argument("rule")
@click.argument("ids", nargs=-1, required=True)
@click.pass_obj
def remove_targets(seams: CliSeams, rule: str, ids: tuple[str, ...]) -> None:
    """Remove the targets IDS of RULE."""
    _print(lambda: _events(seams).remove_targets(Rule=rule, Ids=list(ids)))


@events.command("delete-rule")
@click.argument("name")
@click.pass_obj
def delete_rule(seams: CliSeams, name: str) -> None:
    """Delete rule NAME (remove its targets first, as on AWS)."""
    _print(lambda: _events(seams).delete_rule(Name=name))


@events.command("list-rules")
@click.option("--prefix", default=None, help="Only rules whose name starts with this.")
@click.option("--bus", default=None, help="The event bus (default: default).")
@click.pass_obj
def list_rules(seams: CliSeams, prefix: str | None, bus: str | None) -> None:
    """List a bus's rules."""
    _print(lambda: _events(seams).list_rules(NamePrefix=prefix, EventBusName=bus))


@events.command("describe-rule")
@click.argument("name")
@click.pass_obj
def describe_rule(seams: CliSeams, name: str) -> None:
    """Describe rule NAME."""
    _print(lambda: _events(seams).describe_rule(Name=name))


@events.command("put-events")
@click.option("--source", required=True)
@click.option("--detail-type", required=True)
@click.option("--detail", default="{}", show_default=True, help="The detail, as JSON text.")
@click.option("--bus", default=None, help="The event bus (default: default).")
@click.pass_obj
def put_events(
    seams: CliSeams, source: str, detail_type: str, detail: str, bus: str | None
) -> None:
    """Put one event on the bus; it reaches the matching rules' targets at once."""
    entry = {"Source": source, "DetailType": detail_type, "Detail": detail}
    if bus:
        entry["EventBusName"] = bus
    _print(lambda: _events(seams).put_events(Entries=[entry]))


@events.command("create-event-bus")
@click.argument("name")
@click.option("--description", default=None)
@click.pass_obj
def create_event_bus(seams: CliSeams, name: str, description: str | None) -> None:
    """Create event bus NAME; print its ARN."""
    _print(lambda: _events(seams).create_event_bus(Name=name, Description=description))


@events.command("list-event-buses")
@click.pass_obj
def list_event_buses(seams: CliSeams) -> None:
    """List the event buses (default first)."""
    _print(lambda: _events(seams).list_event_buses())


@events.command("delete-event-bus")
@click.argument("name")
@click.pass_obj
def delete_event_bus(seams: CliSeams, name: str) -> None:
    """Delete event bus NAME (delete its rules first, as on AWS)."""
    _print(lambda: _events(seams).delete_event_bus(Name=name))


COMMANDS = (events,)
"""The commands this module adds to ``stepline``."""
