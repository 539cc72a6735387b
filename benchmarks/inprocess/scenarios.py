"""The in-process scenarios: the same ASL definitions for stepline and for each peer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from benchmarks.machines import function, pass_chain

Json = Any
CHAIN_LENGTH = 100


def five_states() -> Json:
    """Pass, Task (no-op handler), Pass, Choice, Succeed: five transitions.

    As the durable benchmark's, but its Choice compares a string: pyaslengine's parser
    accepts only strings for ``NumericEquals``.
    """
    return {
        "StartAt": "Prepare",
        "States": {
            "Prepare": {"Type": "Pass", "Result": {"kind": "a"}, "Next": "Work"},
            "Work": {"Type": "Task", "Resource": function("noop"), "Next": "Tidy"},
            "Tidy": {"Type": "Pass", "Next": "Check"},
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.kind", "StringEquals": "a", "Next": "Done"}],
                "Default": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }


def map_over(iterator: Json) -> Json:
    """An inline Map over ``$.items``, each iteration the one-state machine ``iterator``."""
    return {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "Iterator": {"StartAt": "Item", "States": {"Item": iterator}},
                "End": True,
            }
        },
    }


def chain(length: int, prefix: str) -> Json:
    """``length`` Pass states in a row, named ``{prefix}0``... (unique across branches)."""
    machine = pass_chain(length)
    renamed = {f"{prefix}{name}": state for name, state in machine["States"].items()}
    for state in renamed.values():
        if "Next" in state:
            state["Next"] = f"{prefix}{state['Next']}"
    return {"StartAt": f"{prefix}{machine['StartAt']}", "States": renamed}


def parallel(branches: int, length: int) -> Json:
    """A Parallel of ``branches`` branches, each a chain of ``length`` Pass states."""
    return {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Parallel",
                "Branches": [chain(length, f"B{index}") for index in range(branches)],
                "End": True,
            }
        },
    }


@dataclass(frozen=True)
class Scenario:
    """One definition run ``executions`` times per sample; ``unit`` says how to report it.

    ``unit``: "ms/transition" (per Pass state), "executions/s", or "ms/execution".
    ``engines``: the peers that can run it (stepline runs every scenario).
    """

    key: str
    title: str
    definition: Json
    input: Json
    executions: int
    unit: str
    engines: tuple[str, ...]
    transitions: int = 1

    def job(self, warmup: int) -> Json:
        """What a driver receives: the definition, its input and how often to run it."""
        return {
            "definition": self.definition,
            "input": self.input,
            "executions": self.executions,
            "warmup": warmup,
            "noop": function("noop"),
        }


ITEMS = {"items": [{"i": index} for index in range(1000)]}
BOTH = ("local-workflow-engine", "pyaslengine")

SCENARIOS = (
    Scenario(
        "pass_chain",
        f"Pass chain ({CHAIN_LENGTH} states), ms per transition",
        pass_chain(CHAIN_LENGTH),
        {"x": 1},
        40,
        "ms/transition",
        BOTH,
        transitions=CHAIN_LENGTH,
    ),
    Scenario(
        "five_states",
        "5-state machine (Pass, Task, Pass, Choice, Succeed), executions/s",
        five_states(),
        {"x": 1},
        600,
        "executions/s",
        BOTH,
    ),
    Scenario(
        "map_task",
        "Map over 1,000 items, Task iterator, ms per execution",
        map_over({"Type": "Task", "Resource": function("noop"), "End": True}),
        ITEMS,
        4,
        "ms/execution",
        BOTH,
    ),
    Scenario(
        "map_pass",
        "Map over 1,000 items, Pass iterator, ms per execution",
        map_over({"Type": "Pass", "End": True}),
        ITEMS,
        4,
        "ms/execution",
        BOTH,
    ),
    Scenario(
        "parallel",
        "Parallel 10 branches x 10 Pass states, ms per execution",
        parallel(10, 10),
        {"x": 1},
        40,
        "ms/execution",
        BOTH,
    ),
)
