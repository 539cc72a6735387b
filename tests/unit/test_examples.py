"""The runnable examples in examples/: they validate, run as documented, and show the model off."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from engine._cli import CliSeams, main
from engine._clock import FakeClock
from tests.unit.interpreter.support import T0

Json = Any
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
ORDER = ["examples/order_processing.asl.json", "--handlers", "examples/order_handlers.py"]
SHIPPED = {
    "orderId": "ord-1001",
    "status": "SHIPPED",
    "chargeId": "ch_ord-1001",
    "amountCents": 6950,
    "lines": [
        {"line": 0, "sku": "BOOK-ASL", "quantity": 2, "unitCents": 2500, "subtotalCents": 5000},
        {"line": 1, "sku": "MUG-STEP", "quantity": 1, "unitCents": 1200, "subtotalCents": 1200},
        {"line": 2, "sku": "STICKER", "quantity": 5, "unitCents": 150, "subtotalCents": 750},
    ],
    "reservation": {"reservationId": "res_ord-1001", "lines": 3},
    "notified": True,
}


@pytest.fixture(autouse=True)
def _in_repository_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """The examples' commands use paths relative to the repository root."""
    monkeypatch.chdir(ROOT)


def stepline(*args: str) -> Result:
    """``stepline ARGS`` in-process, on a fake clock so Waits and backoffs take no time
    (``run`` locally: the durable default's output is the same, its history order is not)."""
    argv = list(args)
    if argv[:1] == ["run"] and "--local" not in argv:
        argv.insert(1, "--local")
    return CliRunner().invoke(main, argv, obj=CliSeams(clock=FakeClock(T0)))


def history(result: Result) -> list[tuple[str, str]]:
    """(event type, state name) of each ``--history`` line."""
    rows = [line.split(maxsplit=3) for line in result.stdout.splitlines()]
    return [(row[1], row[2]) for row in rows if row and row[0].isdigit()]


def order(**changes: Json) -> str:
    """examples/order_input.json with ``changes`` applied, as JSON text."""
    data = json.loads((EXAMPLES / "order_input.json").read_text())
    return json.dumps(data | changes)


def test_every_example_definition_validates() -> None:
    # Given every definition in examples/
    files = sorted(str(p.relative_to(ROOT)) for p in EXAMPLES.glob("*.asl.*"))

    # When they are validated
    result = stepline("validate", *files)

    # Then each one is OK (JSON and YAML alike)
    assert result.exit_code == 0
    assert result.output.splitlines() == [f"{f}: OK" for f in files]
    assert any(f.endswith(".yaml") for f in files)


def test_order_example_ships_the_order_with_the_documented_output() -> None:
    # When the README's command runs
    result = stepline("run", *ORDER, "--input", "@examples/order_input.json")

    # Then the execution succeeded with the summary
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == SHIPPED


def test_order_example_history_shows_the_retry_of_the_flaky_payment() -> None:
    # When the order runs with --history
    result = stepline("run", *ORDER, "--input", "@examples/order_input.json", "--history")

    # Then ChargePayment's first attempt failed with the transient error and was retried
    charge = [kind for kind, state in history(result) if state == "ChargePayment"]
    assert charge == [
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionFailed",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
        "TaskStateExited",
    ]
    failed = next(line for line in result.stdout.splitlines() if "LambdaFunctionFailed" in line)
    assert '"error":"PaymentGatewayTimeout"' in failed


def test_order_example_visits_every_kind_of_state() -> None:
    # When the order runs with --history
    result = stepline("run", *ORDER, "--input", "@examples/order_input.json", "--history")

    # Then its path went through a Choice, a Map, a Task, a Parallel, a Wait, a Pass and a Succeed
    entered = {kind for kind, _state in history(result) if kind.endswith("StateEntered")}
    assert entered == {
        f"{kind}StateEntered"
        for kind in ("Choice", "Map", "Task", "Parallel", "Wait", "Pass", "Succeed")
    }


def test_order_example_prices_at_most_two_lines_at_a_time() -> None:
    # Given an order with five lines
    items = [{"sku": "STICKER", "quantity": n} for n in range(1, 6)]

    # When it runs with --history
    result = stepline("run", *ORDER, "--input", order(items=items), "--history")

    # Then MaxConcurrency 2 held: never more than two iterations in flight
    in_flight, peak = 0, 0
    for kind, _state in history(result):
        in_flight += {"MapIterationStarted": 1, "MapIterationSucceeded": -1}.get(kind, 0)
        peak = max(peak, in_flight)
    assert result.exit_code == 0
    assert peak == 2


def test_order_example_compensates_a_declined_card() -> None:
    # Given a card the gateway declines (after the first attempt's timeout)
    declined = order(payment={"card": "tok_declined_0002"})

    # When the order runs
    result = stepline("run", *ORDER, "--input", declined, "--history")

    # Then ChargePayment's Catch ran the refund and the execution failed as the Fail state says
    assert result.exit_code == 1
    assert ("LambdaFunctionSucceeded", "CompensatePayment") in history(result)
    assert "FulfilOrder" not in {state for _kind, state in history(result)}
    assert result.stderr.splitlines()[:2] == ["status: FAILED", "error: Order.Failed"]


def test_order_example_compensates_an_order_out_of_stock() -> None:
    # When the out-of-stock order runs
    result = stepline(
        "run", *ORDER, "--input", "@examples/order_input_out_of_stock.json", "--history"
    )

    # Then the Parallel failed, its Catch refunded the payment, and the order failed
    events = history(result)
    assert ("TaskFailed", "ReserveInventory") in events
    assert ("LambdaFunctionSucceeded", "CompensatePayment") in events
    assert events[-1] == ("ExecutionFailed", "-")
    assert result.exit_code == 1
    assert "error: Order.Failed" in result.stderr


def test_order_example_rejects_an_order_without_items() -> None:
    # When an order without items runs
    result = stepline("run", *ORDER, "--input", order(items=[]))

    # Then the Choice sent it to RejectOrder
    assert result.exit_code == 1
    assert "error: Order.Invalid" in result.stderr


def _console_examples() -> list[Any]:
    """(command, expected output) of every complete ``$ stepline`` block in examples/README.md."""
    text = (EXAMPLES / "README.md").read_text()
    blocks = re.findall(r"```console\n\$ (stepline [^\n]*)\n(.*?)```", text, re.DOTALL)
    complete = [(c, out) for c, out in blocks if "\n...\n" not in f"\n{out}"]
    return [pytest.param(command, output, id=command) for command, output in complete]


@pytest.mark.parametrize(("command", "expected"), _console_examples())
def test_readme_commands_print_what_the_readme_shows(command: str, expected: str) -> None:
    # When a command of examples/README.md runs
    result = stepline(*shlex.split(command)[1:])

    # Then it prints exactly what the README shows
    assert result.output == expected


def test_readme_shows_the_order_command() -> None:
    # Then the command users are told to run is among the checked ones
    commands = [example.values[0] for example in _console_examples()]
    assert (
        "stepline run --local examples/order_processing.asl.json "
        "--input @examples/order_input.json --handlers examples/order_handlers.py"
    ) in commands
