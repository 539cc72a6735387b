"""The state machines the benchmarks run."""

from __future__ import annotations

from typing import Any

Json = Any
YEAR_SECONDS = 365 * 24 * 3600


def function(name: str) -> str:
    """The Task resource of handler ``name``."""
    return f"arn:aws:lambda:us-east-1:111111111111:function:{name}"


def pass_chain(length: int) -> Json:
    """``length`` Pass states in a row: one transition each, no handler."""
    states: dict[str, Json] = {}
    for index in range(length):
        state: Json = {"Type": "Pass"}
        if index == length - 1:
            state["End"] = True
        else:
            state["Next"] = f"P{index + 1}"
        states[f"P{index}"] = state
    return {"StartAt": "P0", "States": states}


def five_states() -> Json:
    """Pass, Task (no-op handler), Pass, Choice, Succeed: five transitions."""
    return {
        "StartAt": "Prepare",
        "States": {
            "Prepare": {"Type": "Pass", "Result": {"n": 1}, "Next": "Work"},
            "Work": {"Type": "Task", "Resource": function("noop"), "Next": "Tidy"},
            "Tidy": {"Type": "Pass", "Next": "Check"},
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "Done"}],
                "Default": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }


def parked() -> Json:
    """Waits a year first (far beyond the timer horizon: a timer row, no message)."""
    return {
        "StartAt": "Park",
        "States": {
            "Park": {"Type": "Wait", "Seconds": YEAR_SECONDS, "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }


def distributed_map(max_concurrency: int) -> Json:
    """A Distributed Map over ``$.items``: each iteration is one tracked no-op Task.

    Distributed, not inline: an inline Map of 10,000 iterations writes about 50,000
    events into the parent's history, past AWS's 25,000-event limit (which stepline
    enforces as AWS does); a Distributed Map's iterations are child executions.
    """
    return {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": max_concurrency,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Touch",
                    "States": {
                        "Touch": {"Type": "Task", "Resource": function("tracked"), "End": True}
                    },
                },
                "ResultSelector": {"count.$": "States.ArrayLength($)"},
                "End": True,
            }
        },
    }
