"""The suite's report: one row per run, compared with the control run, as a table and JSON."""

from __future__ import annotations

import json
import os
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path

from tests.chaos.histories import extra_events
from tests.chaos.runs import Run

REPORT_ENV = "STEPLINE_CHAOS_REPORT"


@dataclass(frozen=True)
class Row:
    """One run against the control run, in the report's columns."""

    fault: str
    executions_run: int
    completed: int
    statuses_as_control: int
    histories_identical: int
    duplicated_transitions: int
    duplicate_handler_calls: int
    handler_calls: int
    leftover_rows: int
    recovery_s: float
    fault_to_done_s: float
    longest_stall_s: float
    handover_median_s: float | None
    handover_max_s: float | None
    handovers: int
    wave_s: float
    unexpected_deaths: list[str]

    @classmethod
    def compare(cls, run: Run, control: Run) -> Row:
        """``run``'s row, its histories and timings measured against ``control``'s."""
        names = list(control.statuses)
        handovers = [seconds for seconds in run.handovers if seconds is not None]
        lost = len(run.handovers) - len(handovers)
        return cls(
            fault=run.fault,
            executions_run=len(run.statuses),
            completed=sum(status != "RUNNING" for status in run.statuses.values()),
            statuses_as_control=sum(run.statuses.get(n) == control.statuses[n] for n in names),
            histories_identical=sum(run.shapes.get(n) == control.shapes[n] for n in names),
            duplicated_transitions=sum(
                extra_events(run.shapes[n], control.shapes[n]) for n in names if n in run.shapes
            ),
            duplicate_handler_calls=run.duplicate_calls,
            handler_calls=sum(run.calls.values()),
            leftover_rows=run.leftovers.total(),
            recovery_s=round(run.fault_to_done - control.fault_to_done, 1),
            fault_to_done_s=round(run.fault_to_done, 1),
            longest_stall_s=round(run.longest_stall, 1),
            handover_median_s=_rounded(statistics.median(handovers) if handovers else None),
            handover_max_s=_rounded(max(handovers) if handovers and not lost else None),
            handovers=len(run.handovers),
            wave_s=round(run.wave_seconds, 1),
            unexpected_deaths=[death.summary() for death in run.unexpected_deaths],
        )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


COLUMNS = (
    ("fault", "fault"),
    ("executions_run", "run"),
    ("completed", "completed"),
    ("histories_identical", "identical"),
    ("duplicated_transitions", "dup transitions"),
    ("duplicate_handler_calls", "dup calls"),
    ("leftover_rows", "left rows"),
    ("recovery_s", "recovery s"),
    ("fault_to_done_s", "fault->done s"),
    ("longest_stall_s", "stall s"),
    ("handover_median_s", "handover med s"),
    ("handover_max_s", "handover max s"),
    ("wave_s", "wave s"),
)


def table(rows: list[Row]) -> str:
    """The rows as a fixed-width text table, one line per run, deaths listed below."""
    cells = [[title for _, title in COLUMNS]]
    cells += [[_cell(getattr(row, key)) for key, _ in COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    deaths = [f"  {row.fault}: {death}" for row in rows for death in row.unexpected_deaths]
    if deaths:
        lines += ["", "processes that died on their own (not killed by the suite):", *deaths]
    notes = (
        "recovery s: fault->done minus the control's; handover: from a strike on a worker "
        "until every message it held was consumed"
    )
    return "\n".join([*lines, notes])


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def write(rows: list[Row], default_folder: Path) -> Path:
    """Write the rows as JSON to ``$STEPLINE_CHAOS_REPORT`` (or a file in ``default_folder``)."""
    path = Path(os.environ.get(REPORT_ENV) or default_folder / "chaos-report.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(row) for row in rows], indent=2) + "\n")
    return path
