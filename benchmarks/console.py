"""The web console's answer times with 100,000 executions stored (issue 11: within 200 ms).

Not a timed test: a benchmark, run by hand (``python -m benchmarks.console``). It

1. drops and recreates the PostgreSQL database ``--database`` (``stepline_bench_console``)
   and migrates it;
2. stores ``--api-executions`` executions through the real API path (the durable client,
   messages kept in memory instead of a broker; ``--processes`` at once), one simulated
   second apart, over four machines: most stay RUNNING (parked at their first state),
   every 10th is stopped (ABORTED), and every 100th is driven to its end in-process
   (SUCCEEDED or FAILED, with full histories: the order example with its Choice, Map,
   retried Task and Parallel); then copies rows of those up to ``--executions`` (`clone`);
3. starts ``stepline serve`` as a process on that store and asks each console page and
   JSON endpoint ``--requests`` times (after a warm-up) with httpx, one request at a time;
4. prints p50 / p95 / max per endpoint and writes every sample to ``--out``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import psycopg

from benchmarks.fleet import ROLE, ROOT, Services
from engine._api import Client
from engine._backends.durable import DurableBackend
from engine._clock import FakeClock
from engine._resources import DEFAULT_REGISTRY
from engine._runtime import Runtime
from engine._store.db import make_engine
from engine._store.migrate import upgrade
from engine._store.repository import Store
from engine.testing import InMemoryDispatcher

ORDER = ROOT / "examples" / "order_processing.asl.json"
INPUTS = [
    ROOT / "examples" / "order_input.json",
    ROOT / "examples" / "order_input_out_of_stock.json",
]
SIMPLE = {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 86400, "End": True}}}
MACHINES = ("orders", "billing", "shipping", "refunds")
TARGET_MS = 200.0


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    services = Services(database=args.database)
    services.recreate_database()
    url = services.store_url("postgres", Path("."))
    try:
        upgrade(url)
        began = time.monotonic()
        made = min(args.api_executions, args.executions)
        seeded = seed(url, made, args.processes)
        clone(url, args.executions - made)
        seeded["through_the_api"], seeded["copied"] = made, args.executions - made
        seeded["seconds"] = round(time.monotonic() - began, 1)
        print(f"stored: {json.dumps(seeded)}", flush=True)
        results = measure(url, services, seeded, args.requests)
    finally:
        if not args.keep:
            services.drop_database()
    report = {
        "executions": args.executions,
        "requests": args.requests,
        "seeded": seeded,
        "endpoints": results,
        "target_ms": TARGET_MS,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(table(results))
    return 0


def seed(url: str, count: int, processes: int) -> dict[str, Any]:
    """Store ``count`` executions through the durable client, from ``processes`` processes.

    Commits do not wait for the disk while seeding (``synchronous_commit = off`` on the
    benchmark database only, reset before measuring): the store's inserts are what they
    are, only faster to make; the measurement reads.
    """
    _database_setting(url, "synchronous_commit", "off")
    client, _, _ = _client(Store(make_engine(url)), FakeClock())
    arns = {
        name: client.create_state_machine(
            name=name,
            definition=ORDER.read_text() if name == "orders" else json.dumps(SIMPLE),
            roleArn=ROLE,
        )["stateMachineArn"]
        for name in MACHINES
    }
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        parts = list(
            pool.map(_seed_part, [(url, arns, count, k, processes) for k in range(processes)])
        )
    _database_setting(url, "synchronous_commit", "on")
    finished = sorted(arn for part in parts for arn in part["finished"])
    return {"machines": arns, "finished": finished, "running": parts[0]["running"]}


def _seed_part(job: tuple[str, dict[str, str], int, int, int]) -> dict[str, Any]:
    """Executions ``k``, ``k + n``, ``k + 2n``... (one process of `seed`)."""
    url, arns, count, k, n = job
    _load_order_handlers()
    start = FakeClock().now()
    clock = FakeClock(start)
    client, runtime, dispatcher = _client(Store(make_engine(url)), clock)
    finished, running = [], ""
    for index in range(k, count, n):
        clock.sleep_until(max(clock.now(), start + timedelta(seconds=index)))
        machine = MACHINES[index % len(MACHINES)]
        payload = INPUTS[(index // 100) % 2].read_text() if machine == "orders" else "{}"
        arn = client.start_execution(
            stateMachineArn=arns[machine], name=f"{machine}-{index:06d}", input=payload
        )["executionArn"]
        if machine == "orders" and index % 100 == 0:
            dispatcher.join(runtime, DEFAULT_REGISTRY, clock)  # to its end, full history
            finished.append(arn)
        else:
            dispatcher.queue.clear()  # parked: its first message is never delivered
            if index % 10 == 1:
                client.stop_execution(executionArn=arn)
            else:
                running = arn
        if k == 0 and index % 10_000 < n:
            print(f"  {index} of {count} stored", flush=True)
    return {"finished": finished, "running": running}


def _client(store: Store, clock: FakeClock) -> tuple[Client, Runtime, InMemoryDispatcher]:
    dispatcher = InMemoryDispatcher()
    runtime = Runtime(store, dispatcher, clock)
    return (
        Client(DurableBackend(store, runtime, DEFAULT_REGISTRY), clock=clock),
        runtime,
        dispatcher,
    )


CLONE = """
WITH template AS (
    SELECT DISTINCT ON (machine_arn) * FROM executions WHERE status = 'RUNNING'
    ORDER BY machine_arn, id
), numbered AS (
    SELECT template.*, row_number() OVER (ORDER BY machine_arn) - 1 AS k,
           count(*) OVER () AS n
    FROM template
)
INSERT INTO executions (arn, machine_arn, version_arn, alias_arn, name, type, status,
                        start_date, stop_date, definition_hash, header, input, test_case,
                        redrive_count)
SELECT replace(t.arn, ':' || t.name, ':' || c.name), t.machine_arn, t.version_arn,
       t.alias_arn, c.name, t.type, c.status,
       TIMESTAMPTZ '2023-12-01 00:00:00+00' + g * INTERVAL '1 second',
       CASE WHEN c.status = 'RUNNING' THEN NULL
            ELSE TIMESTAMPTZ '2023-12-01 00:00:05+00' + g * INTERVAL '1 second' END,
       t.definition_hash, t.header, t.input, t.test_case, 0
FROM generate_series(1, %(count)s) AS g
JOIN numbered AS t ON t.k = g %% t.n
CROSS JOIN LATERAL (
    SELECT split_part(t.name, '-', 1) || '-old-' || lpad(g::text, 6, '0') AS name,
           CASE WHEN g %% 20 = 0 THEN 'FAILED' WHEN g %% 20 = 1 THEN 'SUCCEEDED'
                WHEN g %% 10 = 2 THEN 'ABORTED' ELSE 'RUNNING' END AS status
) AS c
"""


def clone(url: str, count: int) -> None:
    """Copy ``count`` older execution rows from the API-made ones, in one INSERT ... SELECT.

    Storing 100,000 executions through the API takes about an hour on this shared 2-core
    machine, so the older ones are copies: the same columns and the same JSON header as a
    RUNNING execution of each machine, with their own ARN, name, status (5 % FAILED, 5 %
    SUCCEEDED, 10 % ABORTED, the rest RUNNING) and start date, a second apart, before the
    API-made ones. They have no history: the listings read them, the execution pages read
    the API-made ones. ANALYZE afterwards, as autovacuum would.
    """
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(CLONE.encode(), {"count": count})
        connection.execute(b"ANALYZE executions")


def _database_setting(url: str, name: str, value: str) -> None:
    database = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0].replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'ALTER DATABASE "{database}" SET {name} = {value}'.encode())


def measure(
    url: str, services: Services, seeded: dict[str, Any], requests: int
) -> list[dict[str, Any]]:
    """p50/p95/max of every console page and JSON endpoint, against `stepline serve`."""
    orders = seeded["machines"]["orders"]
    finished = seeded["finished"][-1]
    endpoints = [
        ("page: state machines (/)", "/"),
        ("page: executions", "/console/executions"),
        ("page: an execution", "/console/execution?" + urlencode({"arn": finished})),
        ("json: state machines", "/console/api/machines"),
        ("json: a machine (versions, aliases, graph)", _q("/console/api/machine", arn=orders)),
        ("json: executions, newest 50 of all", "/console/api/executions"),
        ("json: executions, status FAILED", _q("/console/api/executions", status="FAILED")),
        ("json: executions, status ABORTED", _q("/console/api/executions", status="ABORTED")),
        ("json: executions of one machine", _q("/console/api/executions", machine=orders)),
        ("json: executions, name search (1 match)", _q("/console/api/executions", q="-004321")),
        (
            "json: executions, name search (no match)",
            _q("/console/api/executions", q="no-such-name"),
        ),
        (
            "json: a finished execution (graph, history overlay)",
            _q("/console/api/execution", arn=finished),
        ),
        ("json: a running execution", _q("/console/api/execution", arn=seeded["running"])),
    ]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "STEPLINE_DATABASE_URL": url,
        "STEPLINE_BROKER_URL": services.redis,
        "STEPLINE_HOME": "/tmp/stepline-bench",
    }
    port = 18083
    server = subprocess.Popen(
        [sys.executable, "-m", "engine._cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            _await_up(http)
            next_page = http.get("/console/api/executions").json()["nextToken"]
            endpoints.append(
                (
                    "json: executions, page 2 (keyset token)",
                    _q("/console/api/executions", token=next_page),
                )
            )
            return [_time(http, label, path, requests) for label, path in endpoints]
    finally:
        server.terminate()
        server.wait(timeout=20)


def _time(http: httpx.Client, label: str, path: str, requests: int) -> dict[str, Any]:
    for _ in range(5):
        http.get(path).raise_for_status()
    samples = []
    for _ in range(requests):
        began = time.perf_counter()
        response = http.get(path)
        samples.append((time.perf_counter() - began) * 1000)
        response.raise_for_status()
    ordered = sorted(samples)
    result = {
        "endpoint": label,
        "path": path[:120],
        "bytes": len(response.content),
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
        "max_ms": round(ordered[-1], 1),
        "samples_ms": [round(s, 2) for s in samples],
    }
    print(f"  {label}: p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms", flush=True)
    return result


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| endpoint | p50 ms | p95 ms | max ms | bytes | within 200 ms (p95) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        met = "yes" if r["p95_ms"] <= TARGET_MS else "**no**"
        lines.append(
            f"| {r['endpoint']} | {r['p50_ms']} | {r['p95_ms']} | {r['max_ms']} | "
            f"{r['bytes']} | {met} |"
        )
    return "\n".join(lines)


def _q(path: str, **params: str) -> str:
    return f"{path}?{urlencode(params)}"


def _await_up(http: httpx.Client) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if http.get("/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("stepline serve did not come up within 60 s")


def _load_order_handlers() -> None:
    spec = importlib.util.spec_from_file_location(
        "order_handlers", ROOT / "examples" / "order_handlers.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--processes", type=int, default=2, help="seeding processes")
    parser.add_argument(
        "--api-executions",
        type=int,
        default=2_000,
        help="of --executions, how many are made through the API (the rest are copies)",
    )
    parser.add_argument("--database", default="stepline_bench_console")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "console.json"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(main())
