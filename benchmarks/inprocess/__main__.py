"""``python -m benchmarks.inprocess``: stepline's local executor vs the peers, one table.

Every engine runs every scenario it can in its own subprocess (a peer in its own virtualenv),
in interleaved rounds, so background load hits every engine about equally; the table gives
medians over the rounds and the speed-ups measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.inprocess.cli_cpu import cli_cpu_ms
from benchmarks.inprocess.peers import PEERS, STEPLINE, Engine, ensure_installed
from benchmarks.inprocess.scenarios import SCENARIOS, Scenario
from benchmarks.inprocess.table import markdown
from benchmarks.stats import summarise

Json = Any
RESULTS = Path(__file__).resolve().parent.parent / "results" / "inprocess.json"


def measure(engine: Engine, scenario: Scenario, warmup: int, scale: float) -> float:
    """One sample: the scenario's figure (in its unit) for ``engine``, from a fresh process."""
    job = scenario.job(warmup)
    job["executions"] = max(1, round(scenario.executions * scale))
    done = subprocess.run(
        [str(engine.python), str(engine.driver)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{engine.name} on {scenario.key} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout)
    if result["output"] != expected_output(scenario):
        raise RuntimeError(f"{engine.name} on {scenario.key}: unexpected output")
    per_execution = result["seconds"] / result["executions"]
    if scenario.unit == "executions/s":
        return 1 / per_execution
    return per_execution * 1000 / scenario.transitions


def expected_output(scenario: Scenario) -> Json:
    """What every engine must answer, so none is timed doing less than the others."""
    return {
        "pass_chain": {"x": 1},
        "five_states": {"kind": "a"},
        "map_task": scenario.input.get("items"),
        "map_pass": scenario.input.get("items"),
        "parallel": [{"x": 1}] * 10,
    }[scenario.key]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2, help="untimed executions per sample")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies executions")
    parser.add_argument("--quick", action="store_true", help="one round, small sizes")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.scale, args.warmup = 1, 0.25, 1
    for peer in PEERS:
        ensure_installed(peer)
    samples: dict[str, dict[str, list[float]]] = {s.key: {} for s in SCENARIOS}
    cli: list[float] = []
    for index in range(args.rounds):
        print(f"round {index + 1}/{args.rounds}", file=sys.stderr)
        for scenario in SCENARIOS:
            engines = [STEPLINE, *(p for p in PEERS if p.name in scenario.engines)]
            for engine in engines[index % len(engines) :] + engines[: index % len(engines)]:
                value = measure(engine, scenario, args.warmup, args.scale)
                samples[scenario.key].setdefault(engine.name, []).append(value)
        cli.append(cli_cpu_ms())
    summaries = {k: {e: summarise(v) for e, v in by.items()} for k, by in samples.items()}
    print(markdown(summaries, summarise(cli)))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(record(samples, cli, args), indent=1))


def record(samples: Json, cli: list[float], args: argparse.Namespace) -> Json:
    """Every sample with the machine and the commit, for benchmarks/results/."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "commit": commit,
        "python": platform.python_version(),
        "machine": platform.processor() or platform.machine(),
        "arguments": vars(args),
        "samples": samples,
        "cli_cpu_ms": cli,
        "peers": [peer.requirement for peer in PEERS],
    }


if __name__ == "__main__":
    main()
