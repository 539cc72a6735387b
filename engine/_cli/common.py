"""What the ``stepline`` commands share: the test seams and the steps of a command.

Helpers over the API only (`engine._api.operations.Operations`, which `Client` extends):
read a definition and its problems, create or update a machine, run and await an
execution, page through histories and listings, and report an outcome on stdout/stderr
with the command's exit status.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engine._api.base import given
from engine._api.operations import Operations
from engine._clock import Clock, SystemClock
from engine._composition import read_settings
from engine._errors import ClientError
from engine._interpreter.snapshot import ExecutionStatus
from engine._loading import HandlerModuleError
from engine._loading import import_handler_modules as load_handler_modules
from engine._resources import DEFAULT_REGISTRY, HandlerRegistry

if TYPE_CHECKING:
    from config.settings import Settings

Json = Any
ROLE_ARN = "arn:aws:iam::111111111111:role/stepline-cli"
MACHINE_TYPES = ("STANDARD", "EXPRESS")
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class CliSeams:
    """What a test may replace: ``CliRunner().invoke(main, args, obj=CliSeams(clock))``.

    Attributes:
        clock: the clock local executions run on (a `FakeClock` makes Waits instant).
        settings: the configuration (None: read from ``STEPLINE_*`` and ``.env``).
    """

    clock: Clock = field(default_factory=SystemClock)
    settings: Settings | None = None

    def config(self) -> Settings:
        """The settings the durable commands connect with."""
        return self.settings if self.settings is not None else read_settings()


Waiter = Callable[[Operations, str], dict[str, Json]]
"""How a command awaits an execution's end: at once (local) or by polling (durable)."""


def describe_once(client: Operations, arn: str) -> dict[str, Json]:
    """DescribeExecution, as it is now (a local execution has ended already)."""
    return client.describe_execution(executionArn=arn)


def await_end(client: Operations, arn: str) -> dict[str, Json]:
    """Poll the store until the execution leaves RUNNING (workers advance it)."""
    while (described := describe_once(client, arn))["status"] == ExecutionStatus.RUNNING:
        time.sleep(0.05)
    return described


def execution_name(
    _context: click.Context, _option: click.Parameter, value: str | None
) -> str | None:
    """``--name``, refused when empty (botocore refuses a name under 1 character).

    The API checks the rest of the name (length, characters: ``InvalidName``) on every
    client; an empty one is refused by boto3's checks before it, which a local run skips.
    """
    if value == "":
        raise click.BadParameter("must not be empty: give 1 to 80 characters, or omit it")
    return value


def import_handler_modules(modules: Sequence[str], source: str = "'--handlers'") -> None:
    """Import the modules registering handlers; a broken one is a usage error (exit 2).

    Args:
        modules: dotted module names or paths of ``.py`` files.
        source: where the user named them (the option or the setting), for the message.
    """
    try:
        load_handler_modules(modules)
    except HandlerModuleError as error:
        raise click.BadParameter(str(error), param_hint=source) from None


def read_input(value: str) -> str:
    """The ``--input`` option as JSON text (reads ``@path``), checked to be JSON."""
    text, source = value, "--input"
    if value.startswith("@"):
        path = Path(value[1:])
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else str(exc)
            raise click.BadParameter(
                f"expected JSON text or @FILE naming a readable UTF-8 file, got {value!r} "
                f"({reason})",
                param_hint="'--input'",
            ) from None
        source = str(path)
    try:
        json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(
            f"expected JSON text or @FILE holding JSON, got {excerpt(text)} from {source} ({exc})",
            param_hint="'--input'",
        ) from None
    except RecursionError:
        pass  # too deep for Python's parser: the API judges it (InvalidExecutionInput)
    return text


def definition_warnings(client: Operations, path: Path, text: str, machine_type: str) -> list[str]:
    """``FILE:/pointer: WARNING message`` lines: Task resources nothing here serves (ADR 0024)."""
    if not text:
        return []
    result = client.validate_state_machine_definition(
        definition=text, type=machine_type, severity="WARNING"
    )
    return [
        f"{path}:{d['location'] or '/'}: WARNING {d['message']}"
        for d in result["diagnostics"]
        if d["severity"] == "WARNING"
    ]


def serving_registry() -> HandlerRegistry:
    """The default registry, also serving real AWS when ``STEPLINE_AWS_INTEGRATIONS`` is on."""
    config = read_settings()
    if not config.aws_integrations:
        return DEFAULT_REGISTRY
    from engine._integrations.aws import AwsClients, register_aws_integrations

    registry = HandlerRegistry()
    registry.merge(DEFAULT_REGISTRY)
    register_aws_integrations(registry, AwsClients(endpoint_url=config.aws_endpoint_url or None))
    return registry


def definition_problems(client: Operations, path: Path, machine_type: str) -> tuple[str, list[str]]:
    """The text of ``path`` and its problems, as ``FILE:/pointer: message`` lines."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return "", [
            f"{path}:/: expected UTF-8 text, got byte 0x{exc.object[exc.start]:02x} "
            f"at offset {exc.start}"
        ]
    except OSError as exc:
        raise click.UsageError(f"cannot read {path}: {exc.strerror}") from None
    result = client.validate_state_machine_definition(definition=text, type=machine_type)
    lines = [f"{path}:{d['location'] or '/'}: {d['message']}" for d in result["diagnostics"]]
    return text, lines


def execute(
    client: Operations,
    wait: Waiter,
    machine_name: str,
    definition: str,
    machine_type: str,
    execution_input: str,
    name: str | None,
) -> dict[str, Json]:
    """Create the machine, run it once, and describe the execution."""
    try:
        machine = create_or_update(client, machine_name, definition, machine_type)
        arn = machine["stateMachineArn"]
        if machine_type == "EXPRESS":
            return client.start_sync_execution(
                **given(stateMachineArn=arn, input=execution_input, name=name)
            )
        started = client.start_execution(
            **given(stateMachineArn=arn, input=execution_input, name=name)
        )
        return wait(client, started["executionArn"])
    except ClientError as exc:  # e.g. an invalid --name or an input over the size limit
        raise click.UsageError(f"{exc.code}: {exc.message}") from None


def create_or_update(
    client: Operations, name: str, definition: str, machine_type: str
) -> dict[str, Json]:
    """The machine called ``name`` with ``definition`` (a durable store may know it)."""
    arn = f"arn:aws:states:{client.region}:{client.account}:stateMachine:{name}"
    try:
        return client.create_state_machine(
            name=name, definition=definition, roleArn=ROLE_ARN, type=machine_type
        )
    except ClientError as exc:
        if exc.code != "StateMachineAlreadyExists":
            raise
        client.update_state_machine(stateMachineArn=arn, definition=definition)
        return {"stateMachineArn": arn}


def all_events(client: Operations, execution_arn: str) -> list[dict[str, Json]]:
    """The whole history, page by page."""
    events: list[dict[str, Json]] = []
    token: str | None = None
    while True:
        page = client.get_execution_history(**given(executionArn=execution_arn, nextToken=token))
        events.extend(page["events"])
        token = page.get("nextToken")
        if token is None:
            return events


def report(described: dict[str, Json]) -> None:
    """Print the output (exit 0), or the status, error and cause on stderr (exit 1)."""
    status = described["status"]
    if status == ExecutionStatus.SUCCEEDED:
        output = json.loads(described["output"])
        click.echo(json.dumps(output, indent=2, ensure_ascii=False))
        return
    if status == ExecutionStatus.RUNNING:
        click.echo(
            "status: RUNNING (waiting for a task token callback, which a local run cannot get)",
            err=True,
        )
    else:
        click.echo(f"status: {status}", err=True)
    for key in ("error", "cause"):
        if key in described:
            click.echo(f"{key}: {described[key]}", err=True)
    sys.exit(1)


def machine_name(path: Path) -> str:
    """A state machine name from a file name: ``orders.asl.json`` → ``orders``."""
    stem = path.name.split(".", 1)[0]
    return _NAME_UNSAFE.sub("-", stem)[:80] or "machine"


def excerpt(text: str, limit: int = 40) -> str:
    """``text`` quoted, shortened to ``limit`` characters."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def machine_arn(client: Operations, machine: str) -> str:
    """The ARN of MACHINE given as a name or as an ARN."""
    if machine.startswith("arn:"):
        return machine
    return f"arn:aws:states:{client.region}:{client.account}:stateMachine:{machine}"


def standard_machines(client: Operations) -> list[str]:
    """The ARN of every STANDARD machine, page by page (AWS lists no Express executions)."""
    arns: list[str] = []
    token: str | None = None
    while True:
        page = client.list_state_machines(**given(nextToken=token))
        arns += [m["stateMachineArn"] for m in page["stateMachines"] if m["type"] == "STANDARD"]
        token = page.get("nextToken")
        if token is None:
            return arns


def all_executions(client: Operations, arn: str, status: str | None) -> list[dict[str, Json]]:
    """Every execution of machine ``arn`` (with ``status``), page by page."""
    items: list[dict[str, Json]] = []
    token: str | None = None
    while True:
        page = client.list_executions(
            **given(stateMachineArn=arn, statusFilter=status, nextToken=token)
        )
        items.extend(page["executions"])
        token = page.get("nextToken")
        if token is None:
            return items


def call(request: Callable[[], Any]) -> Any:
    """Run an API request; a refusal (boto3 error code) is one line on stderr, exit 1."""
    try:
        return request()
    except ClientError as exc:
        click.echo(f"{exc.code}: {exc.message}", err=True)
        sys.exit(1)
