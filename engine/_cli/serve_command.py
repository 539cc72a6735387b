"""``stepline serve``: AWS Step Functions' HTTP API (JSON 1.0) in front of a `Client`.

Point boto3, the AWS CLI or any SDK at it (``endpoint_url="http://127.0.0.1:8083"``). By
default it serves the configured store and broker (`engine.connect`: workers advance the
executions it starts); ``--local`` serves an in-process client (nothing stored, executions
run inside the request), as Step Functions Local does. Both read Step Functions Local's
mock config from ``SFN_MOCK_CONFIG`` (or ``STEPLINE_MOCK_CONFIG``; ADR 0029), so
``stateMachineArn=ARN#CASE`` runs a test case. With ``STEPLINE_ACCESS_KEYS`` set every
request must be SigV4-signed with one of those keys (ADR 0032). ``GET /`` serves the web
console, behind a login with the same keys (ADR 0042).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from engine._cli.common import CliSeams, import_handler_modules, serving_registry
from engine._composition import connect


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port", default=8083, show_default=True, type=int, help="Port (Step Functions Local's)."
)
@click.option(
    "--local",
    is_flag=True,
    help="Serve an in-process client: executions run in the request, nothing is stored.",
)
@click.option(
    "--handlers",
    "modules",
    multiple=True,
    metavar="MODULE",
    help="A module registering handlers (with --local; STEPLINE_HANDLERS also counts). Repeatable.",
)
@click.pass_obj
def serve(seams: CliSeams, host: str, port: int, local: bool, modules: tuple[str, ...]) -> None:
    """Serve the Step Functions API (AWS JSON 1.0, SigV4) over HTTP.

    \b
        stepline serve                  # the configured store + Celery workers
        stepline serve --local          # in-process, like Step Functions Local
        aws stepfunctions list-state-machines --endpoint-url http://127.0.0.1:8083
    """  # noqa: D301 -- click's \b keeps the example's lines unwrapped
    from engine._console import ConsoleAuth, console_routes
    from engine._wire import SigV4Verifier, WireProtocol, parse_access_keys, read_only_keys
    from engine._wire import serve as run_server

    config = seams.config()
    try:
        keys = parse_access_keys(config.access_keys)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="STEPLINE_ACCESS_KEYS") from None
    client: Any
    if local:
        from engine._api.client import Client  # the wire calls boto3's operations: its model

        import_handler_modules([*config.handler_modules, *modules])
        client = Client.local(
            serving_registry(), clock=seams.clock, mock_config=config.mock_config or None
        )
    else:
        import_handler_modules(modules)
        client = connect(config)
    verifier = SigV4Verifier(keys) if keys else None
    read_only = read_only_keys(config.access_keys)
    protocol = WireProtocol(client, verifier=verifier, one_at_a_time=local, read_only=read_only)
    if not keys:
        click.echo(
            "stepline serve: STEPLINE_ACCESS_KEYS unset, requests are not authenticated", err=True
        )
    console = console_routes(client, ConsoleAuth(keys, read_only))
    click.echo(f"stepline serve: the web console is at http://{host}:{port}/", err=True)
    run_server(
        protocol,
        host=host,
        port=port,
        metrics=scrape(client, config.metrics_dir),
        extra_routes=console,
    )


def scrape(client: Any, multiprocess_dir: str) -> Callable[[], tuple[bytes, str]]:
    """What ``GET /metrics`` answers: this server's metrics and, durable, the store's gauges.

    ``multiprocess_dir``: prometheus_client's folder, exported before its first import.
    """
    import os

    from engine._observe.metrics import StoreGauges, exposition, metrics_registry

    if multiprocess_dir:
        os.makedirs(multiprocess_dir, exist_ok=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = multiprocess_dir
    store = getattr(client.backend, "store", None)  # None: --local keeps no store
    gauges = StoreGauges(store.backlog, client.clock.now) if store is not None else None
    registry = metrics_registry(multiprocess_dir=multiprocess_dir, gauges=gauges)
    return lambda: exposition(registry)


COMMANDS = (serve,)
"""The commands this module adds to ``stepline``."""
