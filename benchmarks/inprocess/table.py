"""The Markdown table of the in-process targets: stepline beside each peer, and the ratios."""

from __future__ import annotations

from benchmarks.inprocess.scenarios import SCENARIOS, Scenario
from benchmarks.stats import Summary

PEER_NAMES = ("local-workflow-engine", "pyaslengine")
# (scenario, peer): the speed-up issue 12 asks for; every other pair only needs > 1x.
TARGETS = {
    ("pass_chain", "local-workflow-engine"): 5.0,
    ("five_states", "local-workflow-engine"): 5.0,
    ("map_task", "pyaslengine"): 5.0,
}
CLI_TARGET_MS = 100.0


def speed_up(scenario: Scenario, stepline: Summary, peer: Summary) -> float:
    """How many times faster stepline is (ratio of medians; rates and times both handled)."""
    if scenario.unit == "executions/s":
        return stepline.median / peer.median
    return peer.median / stepline.median


def markdown(summaries: dict[str, dict[str, Summary]], cli: Summary) -> str:
    """One row per scenario and peer, then the CLI's CPU time."""
    digits = {"ms/transition": 3, "executions/s": 0, "ms/execution": 1}
    lines = [
        "| Scenario | stepline | peer | peer's figure | stepline speed-up | target | met |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for scenario in SCENARIOS:
        by_engine = summaries[scenario.key]
        mine = by_engine["stepline"]
        for peer in PEER_NAMES:
            if peer not in by_engine:
                continue
            ratio = speed_up(scenario, mine, by_engine[peer])
            target = TARGETS.get((scenario.key, peer), 1.0)
            met = "yes" if ratio >= target else "**no**"
            places = digits[scenario.unit]
            lines.append(
                f"| {scenario.title} | {mine.show(places)} | {peer} | "
                f"{by_engine[peer].show(places)} | {ratio:.2f}x | ≥ {target:g}x | {met} |"
            )
    met = "yes" if cli.median < CLI_TARGET_MS else "**no**"
    lines.append(
        f"| `stepline run --local` one-shot, CPU ms (user + system) | {cli.show(0)} | — | — "
        f"| — | < {CLI_TARGET_MS:g} ms | {met} |"
    )
    return "\n".join(lines)
