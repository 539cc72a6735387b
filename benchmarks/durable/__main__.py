"""``python -m benchmarks.durable``: stepline's durable path vs its physical floor and DBOS.

Each round runs, in an order that rotates from round to round: stepline and the floor on
PostgreSQL, the same on SQLite (each pair: both fleets up at once on the same store and
Redis db, with a raw Celery worker with no store for reference, timed turn about); stepline
on PostgreSQL with STEPLINE_FOLD_STATES, with DBOS (its own process) timed in between; and
StartExecution vs the floor's start on each store. Latency: a ``hops``-state Pass chain vs a
``hops``-hop floor chain, 3 warm-up runs each, then the median of ``chains`` runs.
Throughput: ``executions`` concurrent 5-state executions vs as many floor chains of 5 hops.
The table gives medians over the rounds, the ratio of those medians, and the range of each
round's own ratio.

Needs Redis (db 11 by default: flushed) and PostgreSQL (databases ``stepline_bench_durable``
and ``stepline_bench_dbos`` are created and dropped). The first run installs DBOS from PyPI
into benchmarks/.peers/dbos.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks import latency, machines, throughput
from benchmarks.durable import dbos_peer, floordb
from benchmarks.durable.floor import floor_fleet
from benchmarks.durable.starts import start_latency
from benchmarks.durable.table import markdown
from benchmarks.fleet import Services, stepline_fleet
from benchmarks.raw import raw_worker
from benchmarks.run import machine
from engine._store.db import make_engine

RESULTS = Path(__file__).resolve().parent.parent / "results" / "durable.json"
REDIS = "redis://127.0.0.1:6379/11"  # benchmarks.run uses db 12: both can run at once
DATABASE = "stepline_bench_durable"
DBOS_DATABASE = "stepline_bench_dbos"
STORES = ("postgres", "sqlite")


@dataclass(frozen=True)
class Options:
    """Sizes and repetitions (every one a flag: ``--hops 50`` ...)."""

    rounds: int = 3
    hops: int = 100  # states of the Pass chain = hops of the floor chain
    chains: int = 5  # timed chain runs per fleet and round (after 3 warm-ups); median
    executions: int = 200  # concurrent 5-state executions = floor chains of 5 hops
    starts: int = 200  # StartExecution calls per side, store and round
    fold_states: int = 10  # STEPLINE_FOLD_STATES of the folded fleet
    dbos_steps: int = 100  # no-op steps of the DBOS workflow
    dbos_runs: int = 3  # timed DBOS workflows per round (median)
    dbos_queue_workflows: int = 200  # workflows of 5 steps enqueued at once (0: skip)


QUICK = Options(
    rounds=1, hops=30, chains=3, executions=40, starts=40, dbos_steps=30, dbos_queue_workflows=40
)
FLOOR_HOPS = 5  # a floor chain in the throughput run: as many hops as the 5-state machine


def parse(argv: list[str]) -> tuple[argparse.Namespace, Options]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.durable", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, one round")
    parser.add_argument("--out", type=Path, default=None, help=f"default {RESULTS}")
    parser.add_argument("--redis-url", default=REDIS)
    parser.add_argument("--postgres-url", default=Services.postgres, help="admin URL")
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--dbos-database", default=DBOS_DATABASE)
    parser.add_argument("--no-dbos", action="store_true", help="skip the DBOS peer")
    for option in fields(Options):
        flag = "--" + option.name.replace("_", "-")
        parser.add_argument(flag, type=int, default=None, help=f"default {option.default}")
    args = parser.parse_args(argv)
    options = QUICK if args.quick else Options()
    chosen = {f.name: getattr(args, f.name) for f in fields(Options)}
    options = replace(options, **{k: v for k, v in chosen.items() if v is not None})
    if args.out is None:
        quick = Path(tempfile.gettempdir()) / "stepline-durable-quick.json"
        args.out = quick if args.quick else RESULTS
    return args, options


@dataclass
class Samples:
    """One value per round for every figure."""

    latency_ms: dict[str, list[float]]
    transitions_per_s: dict[str, list[float]]
    start_ms: dict[str, dict[str, list[float]]]
    dbos: dict[str, list[float]]
    details: dict[str, list[Any]]


def pair_group(services: Services, kind: str, options: Options, samples: Samples) -> None:
    """stepline and the floor on the same ``kind`` store, timed turn about.

    Both fleets, and a raw Celery worker with no store for reference, are up at once (the
    idle ones only wait on Redis); each chain run of one is followed by one of each other,
    so the latencies of a round are measured within seconds of each other, and so are the
    two throughput runs.
    """
    with stepline_fleet(services, kind) as ours:
        url = ours.store.engine.url.render_as_string(hide_password=False)
        chain = ours.create("chain", machines.pass_chain(options.hops))
        with floor_fleet(services, url) as floor, raw_worker(services, flush=False) as raw:
            runs: dict[str, Callable[[], float]] = {
                kind: partial(latency.chain_ms, ours, chain, options.hops),
                f"floor_{kind}": partial(floor.chain_ms, options.hops),
                f"raw_{kind}": partial(raw.hops, options.hops),
            }
            shift = len(samples.latency_ms[kind]) % len(runs)  # who goes first: by round
            order = list(runs)[shift:] + list(runs)[:shift]
            timings: dict[str, list[float]] = {name: [] for name in runs}
            for index in range(WARM_UP_RUNS + options.chains):
                for name in order:
                    value = runs[name]()
                    if index >= WARM_UP_RUNS:
                        timings[name].append(value)
            rates = {
                kind: partial(throughput.transitions_per_second, ours, options.executions),
                f"floor_{kind}": partial(
                    floor.transitions_per_second, options.executions, FLOOR_HOPS
                ),
            }
            first = len(samples.transitions_per_s[kind]) % 2  # alternates by round
            for name in list(rates)[first:] + list(rates)[:first]:
                detail = rates[name]()
                samples.transitions_per_s[name].append(detail["transitions_per_s"])
                samples.details[name].append(detail)
    for name, values in timings.items():
        samples.latency_ms[name].append(statistics.median(values))
        samples.details[f"{name}_chain_ms"].append(values)


WARM_UP_RUNS = 3  # chains run untimed first: definitions parsed, statements prepared, WAL grown


def folded_group(
    services: Services, dbos_services: Services | None, options: Options, samples: Samples
) -> None:
    """stepline on PostgreSQL with STEPLINE_FOLD_STATES, and DBOS timed in between.

    The folded chain runs, then DBOS's process (its own database on the same server) while
    the fleet idles, then the folded throughput run: the two sides of each DBOS ratio are
    measured within seconds of each other.
    """
    name = "postgres_folded"
    with stepline_fleet(services, "postgres", fold_states=options.fold_states) as fleet:
        chain = fleet.create("chain", machines.pass_chain(options.hops))
        once = partial(latency.chain_ms, fleet, chain, options.hops)
        for _ in range(WARM_UP_RUNS):
            once()
        samples.latency_ms[name].append(statistics.median(once() for _ in range(options.chains)))
        if dbos_services is not None:
            dbos_sample(dbos_services, options, samples)
        detail = throughput.transitions_per_second(fleet, options.executions)
    samples.transitions_per_s[name].append(detail["transitions_per_s"])
    samples.details[name].append(detail)


def starts_group(services: Services, kind: str, options: Options, samples: Samples) -> None:
    measured = start_latency(services, kind, options.starts)
    for side, figures in measured.items():
        samples.start_ms[kind][side].append(figures["median_ms"])
    samples.details[f"starts_{kind}"].append(measured)


def dbos_sample(services: Services, options: Options, samples: Samples) -> None:
    result = dbos_peer.measure(
        services, options.dbos_steps, options.dbos_runs, options.dbos_queue_workflows, 5
    )
    samples.dbos["ms_per_step"].append(result["ms_per_step"])
    if "queue_steps_per_s" in result:
        samples.dbos["queue_steps_per_s"].append(result["queue_steps_per_s"])
    samples.details["dbos"].append(result)


def groups(
    args: argparse.Namespace, services: Services, dbos_services: Services, options: Options
) -> dict[str, Callable[[Samples], None]]:
    """Every measurement of a round, by name."""
    chosen: dict[str, Callable[[Samples], None]] = {}
    for kind in STORES:
        chosen[kind] = partial(pair_group, services, kind, options)
    peer = None if args.no_dbos else dbos_services
    chosen["postgres_folded"] = partial(folded_group, services, peer, options)
    for kind in STORES:
        chosen[f"starts_{kind}"] = partial(starts_group, services, kind, options)
    return chosen


def sqlite_durability(services: Services) -> dict[str, dict[str, Any]]:
    """The pragmas stepline's SQLite store and the floor's connection report: must match."""
    with tempfile.TemporaryDirectory(prefix="stepline-bench-pragmas-") as folder:
        url = services.store_url("sqlite", Path(folder))
        engine = make_engine(url)
        with engine.connect() as connection:
            raw = connection.connection.driver_connection
            assert raw is not None
            ours = {
                name: raw.execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("journal_mode", "synchronous", "busy_timeout")
            }
        engine.dispose()
        floor = floordb.connect(url)
        theirs = floordb.settings_of(floor)
        floor.close()
    return {"stepline": ours, "floor": theirs}


def main(argv: list[str] | None = None) -> int:
    args, options = parse(sys.argv[1:] if argv is None else argv)
    services = Services(args.postgres_url, args.redis_url, args.database)
    dbos_services = Services(args.postgres_url, args.redis_url, args.dbos_database)
    if not args.no_dbos:
        dbos_peer.install()
    plan = groups(args, services, dbos_services, options)
    samples = Samples(
        latency_ms={
            k: []
            for k in ("raw_postgres", "raw_sqlite", "floor_postgres", "floor_sqlite", *_STEPLINE)
        },
        transitions_per_s={k: [] for k in ("floor_postgres", "floor_sqlite", *_STEPLINE)},
        start_ms={kind: {"stepline": [], "floor": []} for kind in STORES},
        dbos={"ms_per_step": [], "queue_steps_per_s": []},
        details=defaultdict(list),
    )
    results: dict[str, Any] = {
        "machine": machine(services),
        "options": asdict(options),
        "floor": "benchmarks/durable/floordb.py: SELECT FOR UPDATE, UPDATE, INSERT, COMMIT",
        "sqlite_durability": sqlite_durability(services),
        "dbos_requirement": dbos_peer.DBOS.requirement,
    }
    print(f"options: {asdict(options)}", flush=True)
    started = time.monotonic()
    names = list(plan)
    try:
        for index in range(options.rounds):
            shift = index % len(names)
            for name in names[shift:] + names[:shift]:
                began = time.monotonic()
                plan[name](samples)
                print(f"round {index + 1}: {name} in {time.monotonic() - began:.0f} s", flush=True)
            print(f"round {index + 1}: {_line(samples)}", flush=True)
    finally:
        services.drop_database()
        dbos_services.drop_database()
    samples.details = dict(samples.details)  # asdict cannot rebuild a defaultdict
    results.update(asdict(samples))
    results["total_seconds"] = time.monotonic() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, default=str))
    print(markdown(results))
    print(f"\ntotal {results['total_seconds']:.0f} s; samples in {args.out}")
    return 0


_STEPLINE = ("postgres", "sqlite", "postgres_folded")


def _line(samples: Samples) -> str:
    ms = ", ".join(f"{k} {v[-1]:.2f}" for k, v in samples.latency_ms.items() if v)
    rates = ", ".join(f"{k} {v[-1]:.0f}" for k, v in samples.transitions_per_s.items() if v)
    return f"ms/transition: {ms}; transitions/s: {rates}"


if __name__ == "__main__":
    raise SystemExit(main())
