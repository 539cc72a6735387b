"""The wave: ~200 executions of mixed shapes, all started at once.

Task chains, Waits of a few seconds, a Parallel, a Retry with backoff over a handler that
fails its first attempt, executions that end FAILED, and two Maps of 50 items at
MaxConcurrency 5. Names and inputs are fixed, so two waves (a control and a fault run)
can be compared execution by execution.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FN = "arn:aws:lambda:us-east-1:111111111111:function:"


def _work(name: str, next_state: str | None) -> dict[str, Any]:
    state: dict[str, Any] = {"Type": "Task", "Resource": FN + "chaos_work"}
    return {**state, "Next": next_state} if next_state else {**state, "End": True}


CHAIN = {
    "StartAt": "Reserve",
    "States": {
        "Reserve": _work("Reserve", "Charge"),
        "Charge": _work("Charge", "Ship"),
        "Ship": _work("Ship", None),
    },
}

WAIT = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Next": "Pause"},
        "Pause": {"Type": "Wait", "Seconds": 3, "Next": "Notify"},
        "Notify": _work("Notify", None),
    },
}

PARALLEL = {
    "StartAt": "FanOut",
    "States": {
        "FanOut": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": f"Branch{i}", "States": {f"Branch{i}": _work(f"Branch{i}", None)}}
                for i in range(3)
            ],
            "Next": "Join",
        },
        "Join": {"Type": "Pass", "End": True},
    },
}

RETRY = {
    "StartAt": "Flaky",
    "States": {
        "Flaky": {
            "Type": "Task",
            "Resource": FN + "chaos_flaky",
            "Retry": [
                {
                    "ErrorEquals": ["FirstAttemptFails"],
                    "IntervalSeconds": 1,
                    "BackoffRate": 2.0,
                    "MaxAttempts": 3,
                }
            ],
            "Next": "After",
        },
        "After": _work("After", None),
    },
}

FAILING = {
    "StartAt": "Broken",
    "States": {
        "Broken": {
            "Type": "Task",
            "Resource": FN + "chaos_broken",
            "Retry": [{"ErrorEquals": ["AlwaysFails"], "IntervalSeconds": 1, "MaxAttempts": 1}],
            "End": True,
        }
    },
}

MAP = {
    "StartAt": "Items",
    "States": {
        "Items": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "MaxConcurrency": 5,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Item",
                "States": {"Item": _work("Item", None)},
            },
            "End": True,
        }
    },
}


@dataclass(frozen=True)
class Shape:
    """One kind of execution in the wave: its machine, how many, and each one's input."""

    name: str
    definition: dict[str, Any]
    count: int
    work: float = 0.05

    def payload(self, index: int) -> dict[str, Any]:
        """The input of execution ``index`` of this shape."""
        if self.definition is MAP:
            return {"items": [{"n": i, "work": self.work} for i in range(50)]}
        return {"n": index, "work": self.work}


WAVE = (
    Shape("chain", CHAIN, 110),
    Shape("wait", WAIT, 40),
    Shape("parallel", PARALLEL, 20),
    Shape("retry", RETRY, 18),
    Shape("failing", FAILING, 10),
    Shape("map", MAP, 2, work=0.02),
)
"""200 executions; a control run and every fault run start exactly these."""


def execution_names() -> list[tuple[Shape, str]]:
    """Every execution of the wave with its name (``shape-index``), in start order."""
    # Interleaved, so every shape is in flight when a fault strikes.
    longest = max(shape.count for shape in WAVE)
    return [
        (shape, f"{shape.name}-{index}")
        for index in range(longest)
        for shape in WAVE
        if index < shape.count
    ]
