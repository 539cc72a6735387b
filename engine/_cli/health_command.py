"""``stepline health``: what a supervisor's or an orchestrator's probe runs.

Each check exits 0 with ``ok: ...`` on stdout when the part answers, or 1 with one line on
stderr saying why not -- never a traceback, never a password. ``store`` and ``broker`` are
readiness checks (a worker without them cannot work, but restarting it will not help);
``worker`` and ``api`` are liveness checks (the process itself must be restarted).
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import click

from engine._cli.common import CliSeams
from engine._cli.failures import first_line, hide_password

DEFAULT_TIMEOUT = 5.0
_timeout = click.option(
    "--timeout",
    type=float,
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds to wait for an answer.",
)


@click.group()
def health() -> None:
    """Probe a part of the fleet: exit 0 if it answers, 1 (one line on stderr) if not."""


@health.command()
@_timeout
@click.pass_obj
def store(seams: CliSeams, timeout: float) -> None:
    """The store (STEPLINE_DATABASE_URL) answers SELECT 1."""
    url = seams.config().store_url
    _report("store", hide_password(url), _within(timeout, lambda: _select_one(url)), url)


@health.command()
@_timeout
@click.pass_obj
def broker(seams: CliSeams, timeout: float) -> None:
    """The broker (STEPLINE_BROKER_URL) accepts a connection and answers."""
    from tasks.probes import check_broker

    config = seams.config()
    url = config.celery_broker_url
    problem = _within(timeout, lambda: check_broker(config, timeout))
    _report("broker", hide_password(url), problem, url)


@health.command()
@click.option(
    "--url",
    default="http://127.0.0.1:8083",
    show_default=True,
    help="Where `stepline serve` listens.",
)
@_timeout
def api(url: str, timeout: float) -> None:
    """`stepline serve` answers GET /health with 200."""
    from engine._wire import HEALTH_PATH

    target = url.rstrip("/") + HEALTH_PATH
    _report("api", target, _within(timeout, lambda: _get_ok(target, timeout)), url)


@health.command()
@click.option(
    "--max-age",
    type=float,
    default=30.0,
    show_default=True,
    help="Oldest heartbeat accepted, in seconds (the worker touches it every 5).",
)
@click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The heartbeat file (default: STEPLINE_HEARTBEAT_FILE).",
)
@click.pass_obj
def worker(seams: CliSeams, max_age: float, path: Path | None) -> None:
    """The worker's main process touched its heartbeat file within --max-age seconds.

    The worker touches STEPLINE_HEARTBEAT_FILE once it is ready, then every few seconds
    whether or not the store and broker answer: a stale file means a dead or hung process.
    """
    file = path or (Path(name) if (name := seams.config().heartbeat_file) else None)
    if file is None:
        raise click.UsageError(
            "expected STEPLINE_HEARTBEAT_FILE (set on the worker too) or --file, got neither"
        )
    _report("worker", str(file), _heartbeat_problem(file, max_age), "")


def _heartbeat_problem(file: Path, max_age: float) -> str | None:
    """Why the heartbeat in ``file`` is not fresh, or None when it is."""
    try:
        age = time.time() - file.stat().st_mtime
    except FileNotFoundError:
        return "no heartbeat yet (the worker is not ready, or STEPLINE_HEARTBEAT_FILE differs)"
    except OSError as error:
        return f"cannot read the heartbeat ({error.strerror})"
    if age > max_age:
        return f"last heartbeat {age:.0f}s ago, more than --max-age {max_age:g}s"
    return None


def _select_one(url: str) -> None:
    from sqlalchemy import text

    from engine._store.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    finally:
        engine.dispose()


def _get_ok(url: str, timeout: float) -> None:
    import urllib.error  # with urllib.request: http.client, ssl, email; only this check
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except urllib.error.URLError as error:  # e.g. connection refused: say that, not urllib's
        raise ConnectionError(str(error.reason)) from None
    if status != 200:
        raise ConnectionError(f"expected HTTP 200, got {status}")


def _within(seconds: float, check: Callable[[], None]) -> str | None:
    """Run ``check`` with a deadline: None if it returned, else why it failed or hung.

    A driver may wait far longer than a probe allows (a host that drops packets), so the
    check runs on a daemon thread that the process leaves behind when it gives up.
    """
    outcome: queue.Queue[str | None] = queue.Queue(maxsize=1)

    def run() -> None:
        try:
            check()
        except Exception as error:  # SQLAlchemy wraps the driver's error: say the driver's
            outcome.put(first_line(getattr(error, "orig", None) or error))
        else:
            outcome.put(None)

    threading.Thread(target=run, daemon=True, name="health-check").start()
    try:
        return outcome.get(timeout=seconds)
    except queue.Empty:
        return f"no answer within {seconds:g}s"


def _report(part: str, where: str, problem: str | None, secret_source: str) -> None:
    if problem is None:
        click.echo(f"ok: {part} at {where}")
        return
    _fail(f"stepline health {part}: {where}: {problem}", secret_source)


def _fail(line: str, url: str) -> NoReturn:
    """One line on stderr, with the URL's password (if a driver echoed it) hidden; exit 1."""
    password = _password(url)
    click.echo(line.replace(password, "***") if password else line, err=True)
    sys.exit(1)


def _password(url: str) -> str | None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        password = make_url(url).password
    except (ArgumentError, ValueError):
        return None
    return str(password) if password else None


COMMANDS = (health,)
"""The commands this module adds to ``stepline``."""
