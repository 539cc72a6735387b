"""The ``stepline`` command: validate, run and inspect ASL state machines; run the fleet.

A thin layer over the API, and a process edge: it reads the settings
(``STEPLINE_*``) and gets the durable client from `engine.connect`, or the in-process
one from `Operations.local` with ``run --local`` and ``validate``: the operations behind
`engine.Client` without boto3's surface, whose botocore model a one-shot command would
spend most of its time loading (ADR 0050). The requests are the CLI's own, built from
options it checks itself. ``worker``, ``beat`` and ``flower`` hand
over to Celery. The modules: this one (the group, ``validate``, ``run``, the fleet),
`engine._cli.store_commands` (the API on the store), `engine._cli.common` (the steps they
share), `engine._cli.history` (history lines) and `engine._cli.failures` (one-line errors).

Exit codes: 0 success (also a ``start`` whose execution is stored while the broker is
down: stderr says so); 1 an invalid definition, an execution that did not succeed, a
refused request or a store that cannot be used (one line on stderr); 2 a usage error
(missing or unreadable file, bad ``--input``, a handler module that cannot be imported),
as click reports them; 128 + the signal (130 for Ctrl-C) when a durable ``run`` or ``resume``
is interrupted (`engine._cli.interrupt`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engine._api.operations import Operations
from engine._cli.common import (
    MACHINE_TYPES,
    CliSeams,
    Waiter,
    all_events,
    await_end,
    call,
    definition_problems,
    definition_warnings,
    describe_once,
    execute,
    execution_name,
    import_handler_modules,
    machine_name,
    read_input,
    report,
    serving_registry,
)
from engine._cli.failures import explain
from engine._cli.history import history_lines
from engine._cli.interrupt import interruptible
from engine._composition import connect, read_settings
from engine._interpreter.snapshot import ExecutionStatus
from engine._resources import DEFAULT_REGISTRY

if TYPE_CHECKING:
    from engine._runtime import Runtime


_ELSEWHERE = {
    **dict.fromkeys(
        ("create", "start", "describe", "history", "list", "stop", "redrive"), "store_commands"
    ),
    **dict.fromkeys(("queue", "topic", "consume"), "messaging_commands"),
    "events": "event_commands",
    "task": "task_commands",
    "serve": "serve_command",
    "graph": "graph_command",
    "health": "health_command",
}
"""Command name -> the module of `engine._cli` whose ``COMMANDS`` define it.

Imported when the command is named, or listed by ``--help`` (click's lazily loaded
subcommands): ``run --local`` does not build the other commands (ADR 0050).
"""


class _Stepline(click.Group):
    """The command group: a problem the user can fix is one line on stderr and exit 1.

    The commands of `_ELSEWHERE` are added when first named or listed.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, sorted (click's order), those not imported yet too."""
        return sorted({*self.commands, *_ELSEWHERE})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name``, importing its module on first use."""
        if cmd_name not in self.commands and cmd_name in _ELSEWHERE:
            module = import_module(f"engine._cli.{_ELSEWHERE[cmd_name]}")
            for command in module.COMMANDS:
                self.add_command(command)
        return super().get_command(ctx, cmd_name)

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
    client = Operations.local(serving_registry())
    invalid = False
    for path in files:
        text, problems = definition_problems(client, path, machine_type)
        invalid = invalid or bool(problems)
        # Warnings never change the verdict: a valid file still ends with its OK line.
        lines = problems + definition_warnings(client, path, text, machine_type)
        for line in lines if problems else [*lines, f"{path}: OK"]:
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
@click.option("--name", callback=execution_name, help="The execution name (default: a fresh UUID).")
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
@click.option(
    "--progress/--no-progress",
    default=True,
    show_default=True,
    help="Show states entering and exiting on stderr while a durable run goes on.",
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
    progress: bool,
) -> None:
    """Run the state machine in FILE once and print its output as JSON.

    By default it runs durably on the configured store and broker -- with no
    configuration, SQLite files under .stepline/ -- served by an in-process Celery
    worker; the execution ARN is printed on stderr, for `stepline history ARN` later.
    With --local it runs in-process with nothing stored. While a durable run goes on,
    its states are shown entering and exiting on stderr (live on a terminal, one line
    each otherwise; --no-progress: not at all).

    Task resources arn:aws:lambda:REGION:ACCOUNT:function:NAME and
    arn:aws:states:::lambda:invoke (FunctionName) call the handler registered as NAME.
    Register handlers in a module passed with --handlers, for example:

    \b
        import engine
        @engine.handler("charge_card")
        def charge_card(event, context):
            return {"charged": event["amount"]}

    Exits 0 when the execution SUCCEEDED; otherwise prints its error and cause to
    stderr and exits 1. Ctrl-C (or SIGTERM) stops a durable run once its worker has
    finished the tasks it started, leaves the execution RUNNING and prints the
    `stepline resume` command that continues it; exits 130 (143 on SIGTERM).
    """  # noqa: D301 -- click's \b (a real backspace) keeps the example's lines unwrapped
    execution_input = read_input(input_text)
    import_handler_modules(modules)
    where = "" if local else stored_where(seams)  # a local run stores nothing: no settings read
    with (
        interruptible(where, handler_options(modules), enabled=not local) as stop,
        session(seams, local=local, wait=stop.await_end) as (client, wait),
    ):
        stop.check()  # a signal while the worker started: nothing was started yet
        text, problems = definition_problems(client, file, machine_type)
        if problems:
            click.echo("\n".join(problems), err=True)
            sys.exit(1)
        if progress and not local:
            from engine._cli.progress import showing_progress  # rich: only while a run waits

            wait = showing_progress(wait, seams.clock.now)
        described = execute(
            client, wait, machine_name(file), text, machine_type, execution_input, name
        )
        if not local:
            click.echo(f"execution: {described['executionArn']}", err=True)
        if history:
            for line in history_lines(all_events(client, described["executionArn"])):
                click.echo(line)
    report(described)


@main.command()
@click.argument("execution_arn")
@click.option(
    "--handlers",
    "modules",
    multiple=True,
    metavar="MODULE",
    help="A module registering the execution's handlers, as given to `run`. Repeatable.",
)
@click.option("--history", is_flag=True, help="Print the event history before the result.")
@click.pass_obj
def resume(seams: CliSeams, execution_arn: str, modules: tuple[str, ...], history: bool) -> None:
    """Serve a RUNNING execution until it ends, then print its output like `run`.

    For an execution an interrupted `stepline run` left in the store: run it in the same
    folder with the same --handlers. An in-process worker and beat loop serve it; the
    messages it was waiting for are sent again at once (a queue no handler loaded here
    serves is named on stderr). An execution that has ended is reported as it is. Exits
    like `run`.
    """
    import_handler_modules(modules)
    with interruptible(stored_where(seams), handler_options(modules)) as stop:
        client = durable_client(seams)
        described = call(lambda: client.describe_execution(executionArn=execution_arn))
        if described["status"] == ExecutionStatus.RUNNING:
            sent = resend_pending(client, execution_arn)
            click.echo(f"resuming {execution_arn} ({sent} message(s) sent again)", err=True)
            warn_unserved(seams, client, execution_arn)
            with serving(seams, client):
                described = stop.await_end(client, execution_arn)
        if history:
            for line in history_lines(all_events(client, execution_arn)):
                click.echo(line)
    report(described)


@contextmanager
def session(
    seams: CliSeams, *, local: bool, wait: Waiter = await_end
) -> Iterator[tuple[Operations, Waiter]]:
    """The client ``stepline run`` uses and how it awaits an execution's end.

    The one place the backend is chosen: local (in-process, synchronous) or durable (the
    configured store and broker, with an in-process Celery worker and beat loop serving
    this run's queues, awaited with ``wait``).
    """
    if local:
        yield Operations.local(DEFAULT_REGISTRY, clock=seams.clock), describe_once
        return
    client = durable_client(seams)
    with serving(seams, client):
        yield client, wait


def durable_client(seams: CliSeams) -> Operations:
    """The durable client on the configured store, driving the embedded worker's tasks."""
    from engine._backends.durable import DurableBackend
    from tasks import wiring

    client = connect(seams.config())
    assert isinstance(client.backend, DurableBackend)  # connect's, always
    wiring.set_runtime(client.backend.runtime)  # the embedded worker's tasks drive this one
    return client


def durable_runtime(client: Operations) -> Runtime:
    """The runtime behind a client of `durable_client`."""
    from engine._backends.durable import DurableBackend

    assert isinstance(client.backend, DurableBackend)  # durable_client's, always
    return client.backend.runtime


@contextmanager
def serving(seams: CliSeams, client: Operations) -> Iterator[None]:
    """An in-process Celery worker and beat loop serving this process's queues (ADR 0036).

    On the embedded SQLite broker the queues are declared under a lock in STEPLINE_HOME,
    so several runs in one folder can start together.
    """
    from tasks.app import app, serving_queues
    from tasks.embedded import BROKER_LOCK, beat_loop, embedded_worker

    config = seams.config()
    lock = config.home / BROKER_LOCK if config.celery_broker_url.startswith("sqla+") else None
    # The worker is stopped first: an interrupted run stops taking messages at once.
    with (
        beat_loop(durable_runtime(client), 0.2),
        embedded_worker(app, serving_queues(config), lock=lock),
    ):
        yield


def resend_pending(client: Operations, execution_arn: str) -> int:
    """Make the execution's unconsumed messages due now, for the beat loop to send."""
    runtime = durable_runtime(client)
    execution_id = runtime.store.execution_id(execution_arn)
    if execution_id is None:  # a Map Run child: its parent's messages serve it
        return 0
    return runtime.store.due_execution(execution_id, runtime.clock.now())


def warn_unserved(seams: CliSeams, client: Operations, execution_arn: str) -> None:
    """Say which of the execution's due messages no queue of this process would take."""
    from tasks.app import serving_queues

    runtime = durable_runtime(client)
    execution_id = runtime.store.execution_id(execution_arn)
    served = set(serving_queues(seams.config()))
    due = runtime.store.due_outbox(runtime.clock.now(), 500)
    queues = {message.queue for message in due if message.execution_id == execution_id}
    unserved = sorted(queue for queue in queues if queue is not None and queue not in served)
    if unserved:  # without its handlers the execution would wait here forever
        click.echo(
            f"stepline: warning: no handler loaded here serves {', '.join(unserved)}: "
            "pass the --handlers the run was given",
            err=True,
        )


def stored_where(seams: CliSeams) -> str:
    """Where executions are kept, as the interruption advice names it."""
    config = seams.config()
    if config.database_url:
        return "the store (STEPLINE_DATABASE_URL)"
    return f"{config.home}/"


def handler_options(modules: Sequence[str]) -> list[str]:
    """``--handlers M`` for each module: how `resume` loads what `run` loaded."""
    return [option for module in modules for option in ("--handlers", module)]


_PASS_THROUGH = {"ignore_unknown_options": True, "allow_extra_args": True}


@main.command(context_settings=_PASS_THROUGH)
@click.pass_context
def worker(ctx: click.Context) -> None:
    """Run a Celery worker for state steps and the handlers of STEPLINE_HANDLERS.

    Extra arguments go to ``celery worker`` (e.g. ``--concurrency 4``). A handler module
    that cannot be imported is a usage error (exit 2) before Celery starts.
    """
    config = ctx.ensure_object(CliSeams).config()
    import_handler_modules(config.handler_modules, source="STEPLINE_HANDLERS")
    _exec_celery(["worker", "--task-events", "--loglevel", _log_level(), *ctx.args])


@main.command(context_settings=_PASS_THROUGH)
@click.pass_context
def beat(ctx: click.Context) -> None:
    """Run celery beat: a fallback for the duties workers run themselves (run at most one).

    Its schedule file lives in STEPLINE_HOME (not the working folder) unless
    ``--schedule`` says otherwise.
    """
    arguments = list(ctx.args)
    if not any(a == "-s" or a.startswith("--schedule") for a in arguments):
        home = ctx.ensure_object(CliSeams).config().home
        home.mkdir(parents=True, exist_ok=True)
        arguments += ["--schedule", str(home / "celerybeat-schedule")]
    _exec_celery(["beat", "--loglevel", _log_level(), *arguments])


@main.command(context_settings=_PASS_THROUGH)
@click.pass_context
def flower(ctx: click.Context) -> None:
    """Run Flower, the Celery dashboard, behind basic authentication.

    It listens on 127.0.0.1 unless told otherwise (``--address=0.0.0.0`` in a container).
    """
    config = ctx.ensure_object(CliSeams).config()
    if not config.flower_basic_auth:
        raise click.UsageError(
            "Flower needs STEPLINE_FLOWER_BASIC_AUTH=user:password: its API shows every "
            "task and must not be open"
        )
    arguments = [f"--port={config.flower_port}", f"--basic-auth={config.flower_basic_auth}"]
    if not _names_address(ctx.args):
        arguments.append(f"--address={FLOWER_ADDRESS}")
    _exec_celery(["flower", *arguments, *ctx.args])


FLOWER_ADDRESS = "127.0.0.1"
"""Where Flower listens unless ``--address`` (or Flower's ``FLOWER_ADDRESS``) says otherwise;
Flower's own default is every interface."""


def _names_address(arguments: list[str]) -> bool:
    """Whether the user chose Flower's address, on the command line or in its environment."""
    given = any(a == "--address" or a.startswith("--address=") for a in arguments)
    return given or bool(os.environ.get("FLOWER_ADDRESS"))


@main.group()
def db() -> None:
    """The store's schema migrations."""


@db.command()
@click.pass_obj
def upgrade(seams: CliSeams) -> None:
    """Migrate the store (STEPLINE_DATABASE_URL) to the latest schema."""
    from engine._store.migrate import current
    from engine._store.migrate import upgrade as migrate

    url = seams.config().store_url
    migrate(url)
    click.echo(f"store at revision {current(url)}")


@db.command(name="current")
@click.pass_obj
def current_revision(seams: CliSeams) -> None:
    """Print the store's schema revision and the latest one."""
    from engine._store.migrate import current, head

    click.echo(f"{current(seams.config().store_url)} (latest: {head()})")


def _exec_celery(arguments: list[str]) -> None:
    from celery.bin.celery import main as celery_main

    sys.argv = ["celery", "-A", "tasks.app", *arguments]
    sys.exit(celery_main())


def _log_level() -> str:
    return read_settings().log_level


__all__ = ["CliSeams", "history_lines", "main"]
