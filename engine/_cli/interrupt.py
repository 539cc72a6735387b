"""Ctrl-C (SIGINT) and SIGTERM on a durable ``stepline run`` or ``stepline resume``.

The first signal asks for a graceful stop: the command stops waiting, its worker finishes
the tasks it has started and hands back the messages it holds, and the execution stays
RUNNING in the store for ``stepline resume``. A second signal exits at once (what the
worker held is sent again by the resume). Either way the command says on stderr how to
continue or stop the execution, and exits 128 + the signal number: 130 for Ctrl-C, 143 for
SIGTERM.

The handlers only note the signal, and the command polls for it: an exception raised from
a handler could land inside library code that swallows it (SQLAlchemy, Celery).
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Any

import click

from engine._api.operations import Operations
from engine._cli.common import describe_once
from engine._interpreter.snapshot import ExecutionStatus

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(Exception):
    """The command was asked to stop (raised by `Interruption.check`, never by a handler)."""


class Interruption:
    """What a durable command knows when a signal asks it to stop.

    Attributes:
        where: where the execution stays, for the advice (``.stepline/``, the store).
        resume_options: the ``stepline resume`` options that serve it (``--handlers ...``).
        execution_arn: the execution being awaited (None until it has started).
        signal_number: the first signal received (None: none yet).
    """

    def __init__(self, where: str, resume_options: Sequence[str] = ()) -> None:
        self.where = where
        self.resume_options = list(resume_options)
        self.execution_arn: str | None = None
        self.signal_number: int | None = None
        self._signalled = threading.Event()
        self._noticed = False

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process ended by a signal: 128 + its number."""
        return 128 + (self.signal_number or signal.SIGINT)

    def check(self) -> None:
        """Raise `Interrupted` if a signal asked to stop, saying so once on stderr."""
        if self.signal_number is None:
            return
        if not self._noticed:  # said here, not in the handler: the stop begins right now
            self._noticed = True
            click.echo(
                "stepline: interrupted: finishing the tasks this run's worker has started "
                "(press Ctrl-C again to exit at once)",
                err=True,
            )
        raise Interrupted

    def await_end(self, client: Operations, arn: str) -> dict[str, Any]:
        """Poll until the execution leaves RUNNING, or until a signal asks to stop."""
        self.execution_arn = arn
        while (described := describe_once(client, arn))["status"] == ExecutionStatus.RUNNING:
            self.check()
            self._signalled.wait(0.05)  # a signal ends the pause at once
        return described

    def advice(self) -> str:
        """What became of the execution, and the commands that continue or stop it."""
        if self.execution_arn is None:
            return "stepline: interrupted before the execution started"
        arn = shlex.quote(self.execution_arn)
        resume = " ".join(["stepline", "resume", arn, *map(shlex.quote, self.resume_options)])
        return (
            f"stepline: interrupted: execution {self.execution_arn} is left RUNNING in "
            f"{self.where}\n"
            f"  continue it: {resume}\n"
            f"  stop it:     stepline stop {arn}"
        )

    def on_signal(self, number: int, _frame: FrameType | None) -> None:
        """First signal: note it (the command stops gracefully). Second: exit at once."""
        if self.signal_number is None:
            self.signal_number = number
            self._signalled.set()
            return
        # The main thread may be inside a buffered write: write around it, unbuffered.
        os.write(2, f"{self.advice()}\n".encode())
        os._exit(self.exit_code)  # the worker threads would hold a normal exit up


@contextmanager
def interruptible(
    where: str, resume_options: Sequence[str] = (), *, enabled: bool = True
) -> Iterator[Interruption]:
    """Handle SIGINT and SIGTERM for the block; an `Interrupted` inside ends the command.

    The advice is printed once the block's cleanup (the worker's graceful stop) is done,
    and the command exits with `Interruption.exit_code`. Not ``enabled`` (a local run), or
    off the main thread, signals keep their handlers; an ignored signal stays ignored.
    """
    interruption = Interruption(where, resume_options)
    install = enabled and threading.current_thread() is threading.main_thread()
    previous = {number: signal.getsignal(number) for number in SIGNALS} if install else {}
    # A signal the parent ignores (a shell's background job ignores SIGINT) stays ignored.
    previous = {n: handler for n, handler in previous.items() if handler != signal.SIG_IGN}
    for number in previous:
        signal.signal(number, interruption.on_signal)
    try:
        yield interruption
    except Interrupted:
        click.echo(interruption.advice(), err=True)
        sys.exit(interruption.exit_code)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
