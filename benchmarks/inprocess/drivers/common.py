"""Shared by every driver: read the job, run it, print the timing (standard library only).

A driver runs in its engine's own interpreter (a peer's virtualenv), so it imports nothing
from stepline's benchmarks package: this file is loaded beside it by path.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

Json = Any


def main(prepare: Callable[[Json], Callable[[Json], Json]]) -> None:
    """Read the job from stdin; ``prepare(job)`` returns ``run(input) -> output``.

    Prints ``{"seconds": ..., "executions": ..., "output": ...}``: the wall time of the timed
    executions only (after ``warmup`` untimed ones), and the last output, which the
    benchmark compares across engines so that no engine is timed doing something else.
    """
    job = json.load(sys.stdin)
    run = prepare(job)
    for _ in range(job["warmup"]):
        run(job["input"])
    output = None
    started = time.perf_counter()
    for _ in range(job["executions"]):
        output = run(job["input"])
    seconds = time.perf_counter() - started
    json.dump({"seconds": seconds, "executions": job["executions"], "output": output}, sys.stdout)
