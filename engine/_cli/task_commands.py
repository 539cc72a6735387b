"""Callbacks from the command line: ``stepline task success|failure|heartbeat TOKEN``.

The token is what a ``.waitForTaskToken`` Task passed on (``$$.Task.Token``) or what
GetActivityTask handed an activity worker. Each command is one SendTask* call on the
configured store; AWS's refusals (TaskDoesNotExist: no task has the token; TaskTimedOut:
its task timed out or was already answered; InvalidOutput) are one line on stderr and exit
status 1, as the ``stepline`` group reports every ClientError.
"""

from __future__ import annotations

import click

from engine._cli.common import CliSeams
from engine._composition import connect


@click.group()
def task() -> None:
    """Answer a task waiting for a callback (SendTaskSuccess/Failure/Heartbeat)."""


@task.command()
@click.argument("token")
@click.option("--output", default="{}", show_default=True, help="The task's result, as JSON text.")
@click.pass_obj
def success(seams: CliSeams, token: str, output: str) -> None:
    """The task waiting on TOKEN succeeded with OUTPUT."""
    connect(seams.config()).send_task_success(taskToken=token, output=output)


@task.command()
@click.argument("token")
@click.option("--error", default=None, help="The error name (Catch/Retry match on it).")
@click.option("--cause", default=None, help="A longer explanation of the failure.")
@click.pass_obj
def failure(seams: CliSeams, token: str, error: str | None, cause: str | None) -> None:
    """The task waiting on TOKEN failed with ERROR and CAUSE."""
    connect(seams.config()).send_task_failure(taskToken=token, error=error, cause=cause)


@task.command()
@click.argument("token")
@click.pass_obj
def heartbeat(seams: CliSeams, token: str) -> None:
    """The task waiting on TOKEN is still being worked on (resets its HeartbeatSeconds)."""
    connect(seams.config()).send_task_heartbeat(taskToken=token)


COMMANDS = (task,)
"""The commands this module adds to ``stepline``."""
