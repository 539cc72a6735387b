"""Ctrl-C and SIGTERM on a durable command: the advice, the exit status, the handlers."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from engine._cli import handler_options
from engine._cli.interrupt import Interrupted, Interruption, interruptible

ARN = "arn:aws:states:us-east-1:111111111111:execution:gate:run-1"


@pytest.fixture(autouse=True)
def default_signal_dispositions() -> Iterator[None]:
    """Python's own SIGINT/SIGTERM handlers, as in a terminal.

    A shell without job control starts background commands with SIGINT ignored, and
    Python keeps that; these tests are about a command run from a terminal.
    """
    saved = {n: signal.getsignal(n) for n in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


def test_the_advice_names_the_execution_and_the_commands_that_continue_or_stop_it() -> None:
    # Given a run of handlers from two modules, interrupted while awaiting its execution
    interruption = Interruption(".stepline/", handler_options(["my handlers.py", "pkg.mod"]))
    interruption.execution_arn = ARN
    # When the advice is written
    advice = interruption.advice()
    # Then it says where the execution stays, and gives both commands ready to paste
    assert advice.splitlines() == [
        f"stepline: interrupted: execution {ARN} is left RUNNING in .stepline/",
        f"  continue it: stepline resume {ARN} --handlers 'my handlers.py' --handlers pkg.mod",
        f"  stop it:     stepline stop {ARN}",
    ]


def test_before_the_execution_started_there_is_nothing_to_resume() -> None:
    # Given an interruption before any execution was awaited
    # When its advice is written
    # Then it says so
    assert Interruption(".stepline/").advice() == (
        "stepline: interrupted before the execution started"
    )


@pytest.mark.parametrize(("number", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_the_exit_status_is_128_plus_the_signal(number: int, code: int) -> None:
    # Given a first signal
    interruption = Interruption(".stepline/")
    interruption.on_signal(number, None)
    # When the command checks for it
    # Then it stops, with the shell's status for that signal
    with pytest.raises(Interrupted):
        interruption.check()
    assert interruption.exit_code == code


def _await_interrupted() -> None:
    with interruptible(".stepline/") as interruption:
        interruption.execution_arn = ARN
        signal.raise_signal(signal.SIGINT)
        interruption.check()


def test_an_interrupted_block_prints_the_advice_and_exits_130(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a block awaiting an execution
    # When SIGINT arrives and the block checks for it
    with pytest.raises(SystemExit) as exited:
        _await_interrupted()
    # Then the command exits 130 with the notice and then the advice on stderr
    assert exited.value.code == 130
    lines = capsys.readouterr().err.splitlines()
    assert "press Ctrl-C again to exit at once" in lines[0]
    assert lines[1] == f"stepline: interrupted: execution {ARN} is left RUNNING in .stepline/"


def test_the_previous_handlers_come_back_and_an_ignored_signal_stays_ignored() -> None:
    # Given SIGTERM ignored by the parent (as a shell ignores SIGINT for a background job)
    before_int = signal.getsignal(signal.SIGINT)
    before_term = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        # When a durable command runs
        with interruptible(".stepline/") as interruption:
            during = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
        # Then it handles SIGINT only, and both handlers are as before afterwards
        assert during == (interruption.on_signal, signal.SIG_IGN)
        assert signal.getsignal(signal.SIGINT) == before_int
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, before_term)


def test_a_local_run_keeps_the_default_handlers() -> None:
    # Given a local run (nothing stored, nothing to resume)
    # When it runs
    with interruptible(".stepline/", enabled=False):
        # Then Ctrl-C is Python's KeyboardInterrupt as usual
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
