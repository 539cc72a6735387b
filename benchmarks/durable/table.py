"""The Markdown table of the durable targets: stepline beside the floor or DBOS, and ratios."""

from __future__ import annotations

from typing import Any

from benchmarks.stats import summarise

Json = Any
HEADER = "| Target | stepline | floor / peer | ratio (per-round range) | target | met |"


def _cell(values: list[float], digits: int) -> str:
    return summarise(values).show(digits)


def _ratio_row(
    title: str,
    ours: list[float],
    theirs: list[float],
    *,
    at_most: float | None = None,
    at_least: float | None = None,
    digits: int = 2,
    unit: str = "",
) -> str:
    """A target row: medians over the rounds, their ratio, and each round's own ratio."""
    ratio = summarise(ours).median / summarise(theirs).median
    per_round = [a / b for a, b in zip(ours, theirs, strict=False)]
    spread = summarise(per_round)
    shown = f"{ratio:.2f}x" + (f" ({spread.low:.2f}–{spread.high:.2f})" if spread.runs > 1 else "")
    if at_most is not None:
        target, met = f"≤ {at_most:g}x", ratio <= at_most
    else:
        assert at_least is not None
        target, met = f"≥ {at_least:g}x", ratio >= at_least
    return (
        f"| {title} | {_cell(ours, digits)} | {_cell(theirs, digits)}{unit} | {shown} | "
        f"{target} | {'yes' if met else '**no**'} |"
    )


def markdown(results: Json) -> str:
    """One row per target of issue 12's durable part, then what explains them."""
    o = results["options"]
    lat = results["latency_ms"]
    thr = results["transitions_per_s"]
    starts = results["start_ms"]
    dbos = results["dbos"]
    hops, executions, fold = o["hops"], o["executions"], o["fold_states"]
    rows = [HEADER, "| --- | --- | --- | --- | --- | --- |"]
    for kind, label in (("postgres", "PostgreSQL"), ("sqlite", "SQLite")):
        rows.append(
            _ratio_row(
                f"ms per transition, {hops}-state Pass chain, {label} (floor: {hops} hops)",
                lat[kind],
                lat[f"floor_{kind}"],
                at_most=1.1,
            )
        )
    for kind, label in (("postgres", "PostgreSQL"), ("sqlite", "SQLite")):
        rows.append(
            _ratio_row(
                f"transitions/s, {executions} concurrent 5-state executions, {label} "
                f"(floor: {executions} chains of 5 hops)",
                thr[kind],
                thr[f"floor_{kind}"],
                at_least=0.85,
                digits=0,
            )
        )
    for kind, label in (("postgres", "PostgreSQL"), ("sqlite", "SQLite")):
        rows.append(
            _ratio_row(
                f"StartExecution, ms per call, {label} (floor: INSERT + COMMIT + enqueue)",
                starts[kind]["stepline"],
                starts[kind]["floor"],
                at_most=1.5,
            )
        )
    if dbos["ms_per_step"]:
        folded = [1000 / ms for ms in lat["postgres_folded"]]
        dbos_rate = [1000 / ms for ms in dbos["ms_per_step"]]
        rows.append(
            _ratio_row(
                f"steps/s, one execution: {hops}-state Pass chain with STEPLINE_FOLD_STATES="
                f"{fold} vs a DBOS workflow of {o['dbos_steps']} no-op steps, PostgreSQL",
                folded,
                dbos_rate,
                at_least=1.5,
                digits=0,
            )
        )
    if dbos["queue_steps_per_s"]:
        rows.append(
            _ratio_row(
                f"steps/s, concurrent: {executions} 5-state executions with "
                f"STEPLINE_FOLD_STATES={fold} vs {o['dbos_queue_workflows']} DBOS workflows "
                "of 5 no-op steps on a DBOS queue, PostgreSQL",
                thr["postgres_folded"],
                dbos["queue_steps_per_s"],
                at_least=1.5,
                digits=0,
            )
        )
    rows.extend(_info(results))
    return "\n".join(rows)


def _info(results: Json) -> list[str]:
    lat = results["latency_ms"]
    rows = [
        f"| info: ms per transition, PostgreSQL, STEPLINE_FOLD_STATES="
        f"{results['options']['fold_states']} | {_cell(lat['postgres_folded'], 2)} | "
        f"{_cell(lat['floor_postgres'], 2)} (floor) | "
        f"{_median(lat['postgres_folded']) / _median(lat['floor_postgres']):.2f}x | — | info |"
    ]
    for kind in ("postgres", "sqlite"):
        floor, raw = lat[f"floor_{kind}"], lat.get(f"raw_{kind}")
        if raw:
            rows.append(
                f"| info: ms per hop, the floor on {kind} vs a raw Celery hop with no store "
                f"(benchmarks.rawapp), timed turn about | — | {_cell(floor, 2)} vs "
                f"{_cell(raw, 2)} | {_median(floor) / _median(raw):.2f}x | — | info |"
            )
    if results["dbos"]["ms_per_step"]:
        rows.append(
            f"| info: DBOS ms per step (one workflow) | — | "
            f"{_cell(results['dbos']['ms_per_step'], 2)} | — | — | info |"
        )
    durability = results.get("sqlite_durability", {})
    if durability:
        ours, floor = durability["stepline"], durability["floor"]
        same = "same" if ours == floor else "**differ**"
        shown = ", ".join(f"{k} {v}" for k, v in ours.items())
        title = "info: SQLite durability, stepline store vs floor"
        rows.append(f"| {title} | {shown} | {same} | — | — | info |")
    return rows


def _median(values: list[float]) -> float:
    return summarise(values).median
