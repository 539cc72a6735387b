"""Run the benchmark suite: ``python -m benchmarks.run [--quick] [--only a,b,c,d] ...``.

Needs Redis and PostgreSQL (see --redis-url / --postgres-url). Creates its own database
(dropped at the end) and uses its own Redis database (flushed before and after each
fleet). Prints progress, then a Markdown table; writes every sample as JSON (--out).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from dataclasses import asdict, fields, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import redis

from benchmarks import latency, mapping, parked, throughput
from benchmarks.fleet import Services
from benchmarks.options import QUICK, Options
from benchmarks.report import table

SUITE = {"a": latency.run, "b": throughput.run, "c": parked.run, "d": mapping.run}
PACKAGES = ("celery", "kombu", "billiard", "redis", "SQLAlchemy", "sqlmodel", "psycopg")


def parse(argv: list[str]) -> tuple[argparse.Namespace, Options]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each")
    parser.add_argument("--only", default="a,b,c,d", help="benchmarks to run, e.g. a,b")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results.json"))
    parser.add_argument("--redis-url", default=Services.redis)
    parser.add_argument("--postgres-url", default=Services.postgres, help="admin URL")
    parser.add_argument("--database", default=Services.database)
    for option in fields(Options):
        flag = "--" + option.name.replace("_", "-")
        parser.add_argument(flag, type=int, default=None, help=f"default {option.default}")
    args = parser.parse_args(argv)
    options = QUICK if args.quick else Options()
    chosen = {f.name: getattr(args, f.name) for f in fields(Options)}
    return args, replace(options, **{k: v for k, v in chosen.items() if v is not None})


def machine(services: Services) -> dict[str, Any]:
    """Where and with what the numbers were taken."""
    versions = {name: metadata.version(name) for name in PACKAGES}
    server = redis.Redis.from_url(services.redis).info("server")
    with open("/proc/cpuinfo") as cpuinfo:
        lines = [line for line in cpuinfo if line.startswith("model name")]
    models = [line.split(":", 1)[1].strip() for line in lines]
    with open("/proc/loadavg") as loadavg:
        load = loadavg.read().split()[:3]
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": len(models),
        "cpu": models[0] if models else "",
        "redis": server["redis_version"],
        "load_at_start": load,
        "commit": _git("rev-parse", "--short", "HEAD"),
        "uncommitted_in_engine_tasks_config": bool(
            _git("status", "--porcelain", "--", "engine", "tasks", "config")
        ),
        "versions": versions,
    }


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    return done.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    args, options = parse(sys.argv[1:] if argv is None else argv)
    services = Services(args.postgres_url, args.redis_url, args.database)
    results: dict[str, Any] = {"machine": machine(services), "options": asdict(options)}
    print(f"options: {asdict(options)}", flush=True)
    started = time.monotonic()
    try:
        for key in args.only.split(","):
            began = time.monotonic()
            results[key] = SUITE[key](services, options, log=_log)
            results[key]["suite_seconds"] = time.monotonic() - began
            _log(f"({key}) done in {results[key]['suite_seconds']:.0f} s")
    finally:
        services.drop_database()
    results["total_seconds"] = time.monotonic() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str))
    print(table(results))
    print(f"\ntotal {results['total_seconds']:.0f} s; samples in {args.out}")
    return 0


def _log(message: str) -> None:
    print(message, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
