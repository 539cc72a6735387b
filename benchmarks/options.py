"""Sizes and repetitions of the suite (``python -m benchmarks.run --help``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Options:
    """What to run, how big, how many times."""

    runs: int = 3  # repetitions of (b) and (d); (a) runs ``latency_runs`` rounds
    latency_runs: int = 5
    hops: int = 100  # (a) states in the Pass chain = raw self-enqueues
    executions: int = 200  # (b) concurrent executions of the five-state machine
    noops: int = 2000  # (b) raw no-op tasks
    parked: int = 100_000  # (c) executions parked in a one-year Wait
    raw_parked: int = 10_000  # (c) raw tasks held with a one-year countdown
    starters: int = 4  # (c) processes starting executions in parallel
    map_items: int = 10_000  # (d) Map items
    map_concurrency: int = 100  # (d) MaxConcurrency
    map_runs: int = 1  # (d) repetitions (each takes minutes at full size)
    fold_states: int = 10  # (a), (b) also run with STEPLINE_FOLD_STATES at this budget


QUICK = Options(
    runs=1,
    latency_runs=2,
    hops=50,
    executions=40,
    noops=400,
    parked=2_000,
    raw_parked=2_000,
    map_items=300,
    map_concurrency=20,
)
