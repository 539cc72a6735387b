"""(a) Per-transition latency: a Pass chain vs a raw task that enqueues itself.

Each round starts a fresh raw worker, a fresh stepline fleet on PostgreSQL and one on
SQLite (in that order, so the machine's background load hits all three alike) and runs
the same chain of ``hops`` transitions 3 + 3 times on each: three warm-up runs (the first
is reported apart: each worker process parses a machine's definition once, on its first
step), then the median of three is the steady-state latency the target is about. stepline's time
runs from the StartExecution call to the ``stopDate`` the worker committed; raw Celery's
from the first ``apply_async`` to the last hop's clock reading.

The same chain driven in-process (the step transactions alone, no broker, no worker)
shows how much of a transition is the store and how much is the Celery hop.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks import machines
from benchmarks.fleet import ROLE, Services, SteplineFleet, stepline_fleet
from benchmarks.options import Options
from benchmarks.raw import raw_worker
from benchmarks.stats import summarise
from engine import connect
from engine._resources import HandlerRegistry
from engine._store.db import make_engine
from engine._store.repository import Store
from engine.testing import InMemoryDispatcher

STORES = ("postgres", "sqlite")


def variants(options: Options) -> dict[str, tuple[str, int]]:
    """The stepline fleets timed: each store by default, and PostgreSQL with folding."""
    return {
        "postgres": ("postgres", 0),
        "sqlite": ("sqlite", 0),
        FOLDED: ("postgres", options.fold_states),
    }


FOLDED = "postgres_folded"


def run(services: Services, options: Options, log: Any = print) -> dict[str, Any]:
    """Median ms per transition for raw Celery and stepline on each store."""
    fleets = variants(options)
    samples: dict[str, list[float]] = {"raw": [], **{name: [] for name in fleets}}
    first_runs: dict[str, list[float]] = {name: [] for name in samples}
    for round_number in range(options.latency_runs):
        with raw_worker(services) as worker:
            first_runs["raw"].append(_warm_up(partial(worker.hops, options.hops)))
            samples["raw"].append(_steady(partial(worker.hops, options.hops)))
        for name, (kind, fold_states) in fleets.items():
            with stepline_fleet(services, kind, fold_states=fold_states) as fleet:
                machine = fleet.create("chain", machines.pass_chain(options.hops))
                first_runs[name].append(_warm_up(partial(chain_ms, fleet, machine, options.hops)))
                samples[name].append(_steady(partial(chain_ms, fleet, machine, options.hops)))
        log(f"(a) round {round_number + 1}: " + _line(samples, -1))
    in_process = {kind: in_process_ms(services, kind, options.hops) for kind in STORES}
    return {
        "hops": options.hops,
        "fold_states": options.fold_states,
        "ms_per_transition": {k: summarise(v).as_dict() for k, v in samples.items()},
        "samples": samples,
        "first_run_ms_per_transition": {k: summarise(v).as_dict() for k, v in first_runs.items()},
        "in_process_ms_per_step": in_process,
    }


WARM_UP_RUNS = 3
STEADY_RUNS = 3


def _warm_up(run_once: Any) -> float:
    """Run the chain ``WARM_UP_RUNS`` times; returns the first run's time.

    A fresh fleet takes a few runs to settle: each process parses the definition and
    compiles its statements once, and a new SQLite store's write-ahead log grows to its
    working size (appending to a growing file costs more than rewriting one).
    """
    first = run_once()
    for _ in range(WARM_UP_RUNS - 1):
        run_once()
    return float(first)


def _steady(run_once: Any) -> float:
    """The median of a few runs once warm: the latency a running fleet has."""
    return statistics.median(run_once() for _ in range(STEADY_RUNS))


def _line(samples: dict[str, list[float]], index: int) -> str:
    return ", ".join(f"{k} {v[index]:.2f} ms" for k, v in samples.items())


def chain_ms(fleet: SteplineFleet, machine: str, hops: int) -> float:
    """Time one execution of the ``hops``-state Pass chain ``machine``; ms per transition."""
    started = time.time()
    described = fleet.await_done(fleet.start(machine, {}))
    assert described["status"] == "SUCCEEDED", described
    return float(described["stopDate"].timestamp() - started) * 1000 / hops


def in_process_ms(services: Services, kind: str, hops: int) -> float:
    """ms per step of the same chain driven in this process (store only, no broker)."""
    with tempfile.TemporaryDirectory(prefix="stepline-bench-") as folder:
        if kind == "postgres":
            services.recreate_database()
        store = Store(make_engine(services.store_url(kind, Path(folder))))
        store.create_schema()
        dispatcher = InMemoryDispatcher()
        client = connect(store=store, dispatcher=dispatcher)
        runtime = client.backend.runtime  # type: ignore[attr-defined]
        definition = json.dumps(machines.pass_chain(hops))
        machine = client.create_state_machine(name="c", definition=definition, roleArn=ROLE)
        arn = machine["stateMachineArn"]
        timings = []
        for _ in range(4):  # the first one warms caches and the connection pool
            started = time.perf_counter()
            client.start_execution(stateMachineArn=arn, input="{}")
            steps = dispatcher.run_all(runtime, HandlerRegistry())
            timings.append((time.perf_counter() - started) * 1000 / steps)
        store.engine.dispose()
    return summarise(timings[1:]).median
