"""The Markdown results table of a suite run (also pasted into benchmarks/README.md)."""

from __future__ import annotations

from typing import Any

from benchmarks.stats import Summary

Row = tuple[str, str, str, str, str, str]
HEADER: Row = ("Benchmark", "stepline", "raw Celery", "ratio", "target", "met")


def table(results: dict[str, Any]) -> str:
    rows: list[Row] = [HEADER, ("---", "---", "---", "---", "---", "---")]
    for key, build in (("a", _latency), ("b", _throughput), ("c", _parked), ("d", _map)):
        if key in results:
            rows.extend(build(results[key]))
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def _summary(data: dict[str, float]) -> Summary:
    return Summary(data["median"], data["low"], data["high"], int(data["runs"]))


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _latency(result: dict[str, Any]) -> list[Row]:
    ms = result["ms_per_transition"]
    raw = _summary(ms["raw"])
    rows = []
    labels = {
        "postgres": "PostgreSQL store",
        "sqlite": "SQLite store",
        "postgres_folded": f"PostgreSQL, STEPLINE_FOLD_STATES={result.get('fold_states')}",
    }
    for kind, label in labels.items():
        if kind not in ms:
            continue
        ours = _summary(ms[kind])
        ratio = ours.median / raw.median
        rows.append(
            (
                f"(a) ms per transition, {result['hops']}-state Pass chain, {label}",
                ours.show(2),
                raw.show(2) + " ms/hop",
                f"{ratio:.2f}x",
                "≤ 1.5x",
                _met(ratio <= 1.5),
            )
        )
    first = result.get("first_run_ms_per_transition")
    if first:
        shown = ", ".join(f"{kind} {_summary(data).median:.2f}" for kind, data in first.items())
        rows.append(
            (
                "(a) first run of a new machine (definition parsed once per process), ms",
                shown,
                "—",
                "—",
                "—",
                "info",
            )
        )
    steps = result["in_process_ms_per_step"]
    rows.append(
        (
            "(a) the step transaction alone, in-process (no broker), ms",
            f"postgres {steps['postgres']:.2f}, sqlite {steps['sqlite']:.2f}",
            "—",
            "—",
            "—",
            "info",
        )
    )
    return rows


def _throughput(result: dict[str, Any]) -> list[Row]:
    raw = _summary(result["raw_tasks_per_s"])
    rows: list[Row] = []
    labels = {
        "postgres": "PostgreSQL store",
        "sqlite": "SQLite store",
        "postgres_folded": f"PostgreSQL, STEPLINE_FOLD_STATES={result['fold_states']}",
    }
    for name, data in result["transitions_per_s"].items():
        label = f", {labels.get(name, name)}"
        ours = _summary(data)
        ratio = ours.median / raw.median
        rows.append(
            (
                f"(b) transitions/s, {result['executions']} concurrent 5-state executions"
                f"{label} (raw: {result['noops']} no-op tasks/s)",
                ours.show(0),
                raw.show(0),
                f"{ratio:.2f}x",
                "≥ 0.6x",
                _met(ratio >= 0.6),
            )
        )
    return rows


def _parked(result: dict[str, Any]) -> list[Row]:
    ours, raw = result["stepline"], result["raw"]
    growth = ours["rss_after_mib"] - ours["rss_before_mib"]
    raw_growth = raw["rss_after_mib"] - raw["rss_before_mib"]
    raw_per_item = raw_growth * 1024 / raw["count"]
    scaled = raw_per_item * ours["parked"] / 1024
    counts = ", ".join(f"{k} {v:,}" for k, v in ours["counts"].items())
    return [
        (
            f"(c) worker RSS growth, {ours['parked']:,} executions parked in a 1-year Wait "
            f"(raw: {raw['count']:,} countdown tasks)",
            f"{growth:+.1f} MiB ({ours['rss_before_mib']:.0f} → {ours['rss_after_mib']:.0f}; "
            f"PSS {ours['pss_after_mib'] - ours['pss_before_mib']:+.1f})",
            f"{raw_growth:+.1f} MiB ({raw_per_item:.1f} KiB each; ≈ {scaled:+.0f} MiB "
            f"at {ours['parked']:,})",
            f"{growth / scaled:.3f}x" if scaled > 0 else "—",
            "< 50 MB",
            _met(growth * 1.048576 < 50),
        ),
        (
            "(c) time to start and park them",
            f"{ours['start_seconds']:.0f} s to start ({ours['starts_per_s']:.0f}/s), "
            f"{ours['park_seconds']:.0f} s until all parked",
            f"{raw['seconds']:.0f} s to publish and receive",
            "—",
            "—",
            "info",
        ),
        ("(c) rows in the store", counts, "—", "—", "—", "info"),
    ]


def _map(result: dict[str, Any]) -> list[Row]:
    ours = _summary(result["seconds"])
    raw = _summary(result["raw_seconds"])
    limit = result["max_concurrency"]
    items = result["items"]
    peak = max(result["peak_in_flight_handlers"], result["peak_running_children"])
    return [
        (
            f"(d) wall time, Distributed Map over {items:,} items, MaxConcurrency {limit} "
            f"(raw: {items:,} no-op tasks), s",
            ours.show(1),
            raw.show(1),
            f"{ours.median / raw.median:.1f}x",
            "—",
            "info",
        ),
        (
            "(d) peak in-flight: handlers running at once (Redis) / RUNNING children (store)",
            f"{result['peak_in_flight_handlers']} / {result['peak_running_children']}",
            "—",
            "—",
            f"≤ {limit}",
            _met(peak <= limit),
        ),
        (
            "(d) peak worker RSS (main + children), MiB",
            f"{result['peak_rss_mib']:.0f}",
            "—",
            "—",
            "< 500 MB",
            _met(result["peak_rss_mib"] * 1.048576 < 500),
        ),
    ]
