"""``stepline graph FILE|ARN``: a definition, a machine or an execution drawn as a graph.

A FILE is drawn with the validator's diagnostics on its states (checked in-process, no
store needed); a state machine ARN (or version ARN) with its stored definition; an
execution ARN coloured state by state by its history, as the console colours it. Formats:
``text`` (an indented tree for the terminal), ``dot`` (Graphviz), ``mermaid``, ``svg``
(laid out in pure Python) and ``json`` (what the console draws).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from engine._api.operations import Operations
from engine._cli.common import MACHINE_TYPES, CliSeams
from engine._composition import connect

if TYPE_CHECKING:
    from engine._inspect import GraphView

FORMATS = ("text", "dot", "mermaid", "svg", "json")


@click.command()
@click.argument("target")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text (terminal), dot (Graphviz), mermaid, svg or json.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file instead of stdout.",
)
@click.option(
    "--type",
    "machine_type",
    type=click.Choice(MACHINE_TYPES),
    default="STANDARD",
    show_default=True,
    help="Validate FILE as this type of machine.",
)
@click.pass_obj
def graph(
    seams: CliSeams, target: str, output_format: str, output: Path | None, machine_type: str
) -> None:
    """Draw TARGET -- a definition FILE, a state machine ARN or an execution ARN.

    \b
        stepline graph machine.asl.json                 # the states as a tree
        stepline graph machine.asl.json --format svg -o machine.svg
        stepline graph EXECUTION_ARN                    # coloured by the execution
    """  # noqa: D301 -- click's \b keeps the example's lines unwrapped
    view = _view(seams, target, machine_type)
    tty = output is None and sys.stdout.isatty()
    text = _render(view, output_format, tty)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"{output}: {output_format} written", err=True)


def _view(seams: CliSeams, target: str, machine_type: str) -> GraphView:
    from engine._inspect import definition_view, execution_view, machine_view

    if not target.startswith("arn:"):
        path = Path(target)
        if not path.is_file():
            raise click.BadParameter(
                f"expected a definition file or an ARN, got {target!r} (no such file)",
                param_hint="TARGET",
            )
        text = path.read_bytes().decode("utf-8-sig")
        return definition_view(Operations.local(), text, machine_type)
    client = connect(seams.config())
    if ":execution:" in target or ":express:" in target:
        return execution_view(client, target)
    return machine_view(client, target)


def _render(view: GraphView, output_format: str, tty: bool) -> str:
    from engine._graph.render import to_dot, to_json, to_mermaid, to_text

    if output_format == "text":
        return to_text(view.graph, view.run, view.diagnostics, click.style if tty else _plain)
    if output_format == "dot":
        return to_dot(view.graph, view.run, view.diagnostics)
    if output_format == "mermaid":
        return to_mermaid(view.graph, view.run, view.diagnostics)
    if output_format == "svg":
        from engine._graph.svg import to_svg  # grandalf: imported only when drawing SVG

        return to_svg(view.graph, view.run, view.diagnostics)
    return json.dumps(to_json(view.graph, view.run, view.diagnostics), indent=2) + "\n"


def _plain(text: str, **_: object) -> str:
    return text


COMMANDS = (graph,)
"""The commands this module adds to ``stepline``."""
