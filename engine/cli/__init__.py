"""The ``stepline`` command: validate, run and inspect ASL state machines; run the fleet.

A thin layer over `engine.api.Client`, and a process edge: it reads the settings
(``STEPLINE_*``) and gets the durable client from `engine.connect`, or the in-process
one from `Client.local` with ``run --local``. ``worker``, ``beat`` and ``flower`` hand
over to Celery. History lines are `engine.cli.history`'s; one-line explanations of what
went wrong are `engine.cli.failures`'.

Exit codes: 0 success (also a ``start`` whose execution is stored while the broker is
down: stderr says so); 1 an invalid definition, an execution that did not succeed, a
refused request or a store that cannot be used (one line on stderr); 2 a usage error
(missing or unreadable file, bad ``--input``, a handler module that cannot be imported),
as click reports them.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engine.api import Client
from engine.cli.failures import broker_unreachable, explain
from engine.cli.history import history_lines, json_lines
from engine.clock import Clock, SystemClock
from engine.composition import celery_dispatcher, connect, read_settings
from engine.errors import ClientError
from engine.interpreter.snapshot import ExecutionStatus
from engine.loading import HandlerModuleError
from engine.loading import import_handler_modules as load_handler_modules
from engine.resources import DEFAULT_REGISTRY

if TYPE_CHECKING:
    from config.settings import Settings
    from engine.runtime import Dispatcher
    from engine.store.repository import OutboxMessage

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


class _Stepline(click.Group):
    """The command group: a problem the user can fix is one line on stderr and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; explain what it raised in one line, when that is not a bug."""
        try:
            return super().invoke(ctx)
        except Exception as error:
            line = explain(error)
            if line is None:
                raise
            click.echo(f"stepline: {line}", err=True)
            ctx.exit(1)


@click.group(cls=_Stepline, context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(ctx: click.Context) -> None:
    """Validate and run Amazon States Language state machines (JSON or YAML).

    The durable commands use the store and broker of the STEPLINE_* settings (none set:
    SQLite files under .stepline/). A problem they cannot get past -- an unreachable or
    unmigrated database, a refused request -- is one line on stderr and exit status 1.
    """
    ctx.ensure_object(CliSeams)


@main.command()
@click.argument(
    "files",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
)
@click.option(
    "--type",
    "machine_type",
    type=click.Choice(MACHINE_TYPES),
    default="STANDARD",
    show_default=True,
    help="Validate as a STANDARD or an EXPRESS state machine.",
)
def validate(files: tuple[Path, ...], machine_type: str) -> None:
    """Check definition FILEs (JSON or YAML) and report every problem.

    Prints 'FILE: OK', or one 'FILE:/json/pointer: message' line per problem.
    Exits 1 if any file is invalid.
    """
    client = Client.local()
    invalid = False
    for path in files:
        _text, problems = _problems(client, path, machine_type)
        invalid = invalid or bool(problems)
        for line in problems or [f"{path}: OK"]:
            click.echo(line)
    if invalid:
        sys.exit(1)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option(
    "--input",
    "input_text",
    default="{}",
    show_default=True,
    metavar="JSON|@FILE",
    help="The execution input: JSON text, or @path of a file holding it.",
)
@click.option(
    "--handlers",
    "modules",
    multiple=True,
    metavar="MODULE",
    help="A module registering handlers with @engine.handler('name'): a dotted module "
    "name (importable from the current directory) or a path to a .py file. Repeatable.",
)
@click.option("--history", is_flag=True, help="Print the event history before the result.")
@click.option("--name", help="The execution name (default: a fresh UUID).")
@click.option(
    "--type",
    "machine_type",
    type=click.Choice(MACHINE_TYPES),
    default="STANDARD",
    show_default=True,
    help="Run as a STANDARD or an EXPRESS state machine.",
)
@click.option(
    "--local",
    is_flag=True,
    help="Run in-process with the local executor: no store, no broker, no worker.",
)
@click.pass_obj
def run(
    seams: CliSeams,
    file: Path,
    input_text: str,
    modules: tuple[str, ...],
    history: bool,
    name: str | None,
    machine_type: str,
    local: bool,
) -> None:
    """Run the state machine in FILE once and print its output as JSON.

    By default it runs durably on the configured store and broker -- with no
    configuration, SQLite files under .stepline/ -- served by an in-process Celery
    worker; the execution ARN is printed on stderr, for `stepline history ARN` later.
    With --local it runs in-process with nothing stored.

    Task resources arn:aws:lambda:REGION:ACCOUNT:function:NAME and
    arn:aws:states:::lambda:invoke (FunctionName) call the handler registered as NAME.
    Register handlers in a module passed with --handlers, for example:

    \b
        import engine
        @engine.handler("charge_card")
        def charge_card(event, context):
            return {"charged": event["amount"]}

    Exits 0 when the execution SUCCEEDED; otherwise prints its error and cause to
    stderr and exits 1.
    """  # noqa: D301 -- click's \b (a real backspace) keeps the example's lines unwrapped
    execution_input = _input_text(input_text)
    import_handler_modules(modules)
    with session(seams, local=local) as (client, wait):
        text, problems = _problems(client, file, machine_type)
        if problems:
            click.echo("\n".join(problems), err=True)
            sys.exit(1)
        described = _execute(
            client, wait, _machine_name(file), text, machine_type, execution_input, name
        )
        if not local:
            click.echo(f"execution: {described['executionArn']}", err=True)
        if history:
            for line in history_lines(_events(client, described["executionArn"])):
                click.echo(line)
    _report(described)


Waiter = Callable[[Client, str], dict[str, Json]]


@contextmanager
def session(seams: CliSeams, *, local: bool) -> Iterator[tuple[Client, Waiter]]:
    """The client ``stepline run`` uses and how it awaits an execution's end.

    The one place the backend is chosen: local (in-process, synchronous) or durable (the
    configured store and broker, with an in-process Celery worker and beat loop serving
    this run's queues).
    """
    if local:
        yield Client.local(DEFAULT_REGISTRY, clock=seams.clock), _describe
        return
    from engine.backends.durable import DurableBackend
    from tasks import wiring
    from tasks.app import app, serving_queues
    from tasks.embedded import beat_loop, embedded_worker

    config = seams.config()
    client = connect(config)
    assert isinstance(client.backend, DurableBackend)  # connect's, always
    runtime = client.backend.runtime
    wiring.set_runtime(runtime)  # the embedded worker's tasks drive this run's runtime
    with embedded_worker(app, serving_queues(config)), beat_loop(runtime, 0.2):
        yield client, _await_end


def _describe(client: Client, arn: str) -> dict[str, Json]:
    return client.describe_execution(executionArn=arn)


def _await_end(client: Client, arn: str) -> dict[str, Json]:
    """Poll the store until the execution leaves RUNNING (workers advance it)."""
    while (described := _describe(client, arn))["status"] == ExecutionStatus.RUNNING:
        time.sleep(0.05)
    return described


def import_handler_modules(modules: Sequence[str]) -> None:
    """Import the modules registering handlers; a broken one is a usage error (exit 2)."""
    try:
        load_handler_modules(modules)
    except HandlerModuleError as error:
        raise click.BadParameter(str(error), param_hint="'--handlers'") from None


def _input_text(value: str) -> str:
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
            f"expected JSON text or @FILE holding JSON, got {_excerpt(text)} from {source} ({exc})",
            param_hint="'--input'",
        ) from None
    except RecursionError:
        pass  # too deep for Python's parser: the API judges it (InvalidExecutionInput)
    return text


def _problems(client: Client, path: Path, machine_type: str) -> tuple[str, list[str]]:
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


def _execute(
    client: Client,
    wait: Waiter,
    machine_name: str,
    definition: str,
    machine_type: str,
    execution_input: str,
    name: str | None,
) -> dict[str, Json]:
    """Create the machine, run it once, and describe the execution."""
    try:
        machine = _create_or_update(client, machine_name, definition, machine_type)
        arn = machine["stateMachineArn"]
        if machine_type == "EXPRESS":
            return client.start_sync_execution(
                stateMachineArn=arn, input=execution_input, name=name
            )
        started = client.start_execution(stateMachineArn=arn, input=execution_input, name=name)
        return wait(client, started["executionArn"])
    except ClientError as exc:  # e.g. an invalid --name or an input over the size limit
        raise click.UsageError(f"{exc.code}: {exc.message}") from None


def _create_or_update(
    client: Client, name: str, definition: str, machine_type: str
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


def _events(client: Client, execution_arn: str) -> list[dict[str, Json]]:
    """The whole history, page by page."""
    events: list[dict[str, Json]] = []
    token: str | None = None
    while True:
        page = client.get_execution_history(executionArn=execution_arn, nextToken=token)
        events.extend(page["events"])
        token = page.get("nextToken")
        if token is None:
            return events


def _report(described: dict[str, Json]) -> None:
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


def _machine_name(path: Path) -> str:
    """A state machine name from a file name: ``orders.asl.json`` → ``orders``."""
    stem = path.name.split(".", 1)[0]
    return _NAME_UNSAFE.sub("-", stem)[:80] or "machine"


def _excerpt(text: str, limit: int = 40) -> str:
    """``text`` quoted, shortened to ``limit`` characters."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


# --- the API from the command line (durable store) -----------------------------------------


@main.command()
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
    text, problems = _problems(client, file, machine_type)
    if problems:
        click.echo("\n".join(problems), err=True)
        sys.exit(1)
    machine = _call(lambda: _create_or_update(client, name, text, machine_type))
    arn = machine["stateMachineArn"]
    if publish:
        arn = _call(lambda: client.publish_state_machine_version(stateMachineArn=arn))[
            "stateMachineVersionArn"
        ]
    click.echo(arn)


@main.command()
@click.argument("machine")
@click.option("--input", "input_text", default="{}", show_default=True, metavar="JSON|@FILE")
@click.option("--name", help="The execution name (default: a fresh UUID).")
@click.option("--wait", is_flag=True, help="Wait for the end (running workers advance it).")
@click.pass_obj
def start(seams: CliSeams, machine: str, input_text: str, name: str | None, wait: bool) -> None:
    """Start an execution of MACHINE (a name or an ARN); print its ARN.

    When the broker cannot be reached, the execution is stored all the same and runs
    once the broker is back (the beat relay republishes it): a note says so on stderr,
    and the exit status is 0.
    """
    execution_input = _input_text(input_text)
    config = seams.config()
    dispatcher = NotingDispatcher(celery_dispatcher(config))
    client = connect(config, dispatcher=dispatcher)
    arn = _machine_arn(client, machine)
    started = _call(
        lambda: client.start_execution(stateMachineArn=arn, input=execution_input, name=name)
    )
    click.echo(started["executionArn"])
    if dispatcher.failure is not None:
        line = broker_unreachable(config.celery_broker_url, dispatcher.failure)
        click.echo(f"stepline: {line}", err=True)
    elif wait:
        _report(_await_end(client, started["executionArn"]))


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


@main.command()
@click.argument("execution_arn")
@click.pass_obj
def describe(seams: CliSeams, execution_arn: str) -> None:
    """Print DescribeExecution's response as JSON."""
    client = connect(seams.config())
    described = _call(lambda: client.describe_execution(executionArn=execution_arn))
    click.echo(json.dumps(described, indent=2, default=str, ensure_ascii=False))


@main.command()
@click.argument("execution_arn")
@click.option("--reverse", is_flag=True, help="Newest event first.")
@click.option("--json", "as_json", is_flag=True, help="One boto3-shaped event per line.")
@click.pass_obj
def history(seams: CliSeams, execution_arn: str, reverse: bool, as_json: bool) -> None:
    """Print an execution's event history."""
    client = connect(seams.config())
    events = _call(lambda: _events(client, execution_arn))
    if reverse:
        events.reverse()
    lines = json_lines(events) if as_json else history_lines(events)
    for line in lines:
        click.echo(line)


@main.command(name="list")
@click.argument("machine", required=False)
@click.option("--status", default=None, help="Only executions with this status.")
@click.pass_obj
def list_executions(seams: CliSeams, machine: str | None, status: str | None) -> None:
    """List executions (of MACHINE, or of every machine), newest first."""
    client = connect(seams.config())
    machines = (
        [_machine_arn(client, machine)]
        if machine
        else [m["stateMachineArn"] for m in client.list_state_machines()["stateMachines"]]
    )
    for arn in machines:
        for item in _call(partial(_all_executions, client, arn, status)):
            started = item["startDate"].strftime("%Y-%m-%d %H:%M:%S")
            click.echo(f"{item['status']:<10} {started}  {item['executionArn']}")


@main.command()
@click.argument("execution_arn")
@click.option("--error", default=None, help="The error the execution ends with.")
@click.option("--cause", default=None, help="Its cause.")
@click.pass_obj
def stop(seams: CliSeams, execution_arn: str, error: str | None, cause: str | None) -> None:
    """Stop a running execution: it ends ABORTED."""
    client = connect(seams.config())
    _call(lambda: client.stop_execution(executionArn=execution_arn, error=error, cause=cause))
    click.echo(f"stopped {execution_arn}")


# --- the fleet ----------------------------------------------------------------------------

_PASS_THROUGH = {"ignore_unknown_options": True, "allow_extra_args": True}


@main.command(context_settings=_PASS_THROUGH)
@click.pass_context
def worker(ctx: click.Context) -> None:
    """Run a Celery worker for state steps and the handlers of STEPLINE_HANDLERS.

    Extra arguments go to ``celery worker`` (e.g. ``--concurrency 4``).
    """
    _exec_celery(["worker", "--task-events", "--loglevel", _log_level(), *ctx.args])


@main.command(context_settings=_PASS_THROUGH)
@click.pass_context
def beat(ctx: click.Context) -> None:
    """Run celery beat: relays unsent messages and fires due timers (run exactly one)."""
    _exec_celery(["beat", "--loglevel", _log_level(), *ctx.args])


@main.command(context_settings=_PASS_THROUGH)
@click.pass_context
def flower(ctx: click.Context) -> None:
    """Run Flower, the Celery dashboard, behind basic authentication."""
    config = read_settings()
    if not config.flower_basic_auth:
        raise click.UsageError(
            "Flower needs STEPLINE_FLOWER_BASIC_AUTH=user:password: its API shows every "
            "task and must not be open"
        )
    arguments = [f"--port={config.flower_port}", f"--basic-auth={config.flower_basic_auth}"]
    _exec_celery(["flower", *arguments, *ctx.args])


@main.group()
def db() -> None:
    """The store's schema migrations."""


@db.command()
@click.pass_obj
def upgrade(seams: CliSeams) -> None:
    """Migrate the store (STEPLINE_DATABASE_URL) to the latest schema."""
    from engine.store.migrate import current
    from engine.store.migrate import upgrade as migrate

    url = seams.config().store_url
    migrate(url)
    click.echo(f"store at revision {current(url)}")


@db.command(name="current")
@click.pass_obj
def current_revision(seams: CliSeams) -> None:
    """Print the store's schema revision and the latest one."""
    from engine.store.migrate import current, head

    click.echo(f"{current(seams.config().store_url)} (latest: {head()})")


def _exec_celery(arguments: list[str]) -> None:
    from celery.bin.celery import main as celery_main

    sys.argv = ["celery", "-A", "tasks.app", *arguments]
    sys.exit(celery_main())


def _log_level() -> str:
    return read_settings().log_level


def _machine_arn(client: Client, machine: str) -> str:
    if machine.startswith("arn:"):
        return machine
    return f"arn:aws:states:{client.region}:{client.account}:stateMachine:{machine}"


def _all_executions(client: Client, arn: str, status: str | None) -> list[dict[str, Json]]:
    items: list[dict[str, Json]] = []
    token: str | None = None
    while True:
        page = client.list_executions(stateMachineArn=arn, statusFilter=status, nextToken=token)
        items.extend(page["executions"])
        token = page.get("nextToken")
        if token is None:
            return items


def _call(request: Callable[[], Any]) -> Any:
    """Run an API request; a refusal (boto3 error code) is one line on stderr, exit 1."""
    try:
        return request()
    except ClientError as exc:
        click.echo(f"{exc.code}: {exc.message}", err=True)
        sys.exit(1)
