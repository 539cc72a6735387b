"""``stepline graph``: a file, a stored machine and an execution, in every format."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from click.testing import CliRunner, Result

from config.settings import Settings
from engine._cli import CliSeams, main
from engine._composition import connect
from tests.unit.graph.support import ORDER, ROLE

INVALID = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}


def stepline(*args: str, settings: Settings | None = None) -> Result:
    return CliRunner().invoke(main, list(args), obj=CliSeams(settings=settings))


def test_a_file_is_drawn_as_a_tree_with_its_diagnostics_on_the_states(tmp_path: Path):
    # Given a definition whose state points nowhere
    path = tmp_path / "bad.asl.json"
    path.write_text(json.dumps(INVALID))

    # When drawn in the terminal
    result = stepline("graph", str(path))

    # Then the state is listed with the validator's message under it
    assert result.exit_code == 0, result.output
    assert "○ A  Pass" in result.output
    assert "! ERROR MISSING_TRANSITION_TARGET at /States/A/Next:" in result.output


def test_every_format_renders_the_example(tmp_path: Path):
    # Given the order example
    # When drawn in each format
    outputs = {
        fmt: stepline("graph", str(ORDER), "--format", fmt) for fmt in ("dot", "mermaid", "json")
    }
    svg_path = tmp_path / "order.svg"
    svg = stepline("graph", str(ORDER), "--format", "svg", "-o", str(svg_path))

    # Then each is what its consumer reads
    assert outputs["dot"].output.startswith("digraph stepline {")
    assert outputs["mermaid"].output.startswith("flowchart TD")
    assert (
        len(json.loads(outputs["json"].output)["nodes"]) == 13 + 4 * 2
    )  # states + start and end of 4 scopes
    assert svg.exit_code == 0, svg.output
    assert ElementTree.parse(svg_path).getroot().tag.endswith("svg")


def test_an_execution_arn_is_coloured_by_its_history(tmp_path: Path):
    # Given an execution started on a store (no worker: it stays in its first state)
    settings = Settings(home=tmp_path)
    client = connect(settings)
    machine = client.create_state_machine(
        name="orders", definition=ORDER.read_text(), roleArn=ROLE
    )["stateMachineArn"]
    execution = client.start_execution(stateMachineArn=machine, input="{}")["executionArn"]

    # When the execution and the machine are drawn
    run = stepline("graph", execution, settings=settings)
    plain = stepline("graph", machine, "--format", "json", settings=settings)

    # Then the execution's graph shows its status; the machine's shows none
    assert run.exit_code == 0, run.output
    assert "ValidateOrder  Choice  " in run.output
    statuses = {n["status"] for n in json.loads(plain.output)["nodes"]}
    assert statuses == {"NOT_STARTED"}


def test_a_target_that_is_neither_a_file_nor_an_arn_is_refused():
    # When the target names nothing
    result = stepline("graph", "no-such-file.json")

    # Then the command says what it expected and got
    assert result.exit_code == 2
    assert "expected a definition file or an ARN, got 'no-such-file.json'" in result.output
