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
    """One run against the control run, in the report's columns.

    ``recovery_s`` is the hand-over median for a fault that strikes a worker (from the
    strike until what the worker held was sent again or consumed), and otherwise the
    longest stall: the longest time after the fault with no new history event.
    """

    fault: str
    executions_run: int
    completed: int
    statuses_as_control: int
    histories_identical: int
    duplicated_transitions: int
    duplicate_handler_calls: int
    handler_calls: int
    leftover_rows: int
    recovery_s: float | None
    strikes_on_work: int
    handover_median_s: float | None
    handover_max_s: float | None
    consumed_max_s: float | None
    longest_stall_s: float
    fault_to_done_s: float
    control_fault_to_done_s: float
    wave_s: float
    unexpected_deaths: list[str]

    @classmethod
    def compare(cls, run: Run, control: Run) -> Row:
        """``run``'s row, its histories and timings measured against ``control``'s."""
        names = list(control.statuses)
        handover = _summary(run.handovers)
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
            recovery_s=handover[0] if run.handovers else round(run.longest_stall, 1),
            strikes_on_work=len(run.handovers),
            handover_median_s=handover[0],
            handover_max_s=handover[1],
            consumed_max_s=_summary(run.consumed)[1],
            longest_stall_s=round(run.longest_stall, 1),
            fault_to_done_s=round(run.fault_to_done, 1),
            control_fault_to_done_s=round(control.fault_to_done, 1),
            wave_s=round(run.wave_seconds, 1),
            unexpected_deaths=[death.summary() for death in run.unexpected_deaths],
        )


def _summary(seconds: list[float | None]) -> tuple[float | None, float | None]:
    """Median and maximum, rounded; the maximum is None if one never came."""
    known = [value for value in seconds if value is not None]
    if not known:
        return None, None
    highest = None if len(known) < len(seconds) else round(max(known), 1)
    return round(statistics.median(known), 1), highest


COLUMNS = (
    ("fault", "fault"),
    ("executions_run", "run"),
    ("completed", "completed"),
    ("histories_identical", "identical"),
    ("duplicated_transitions", "dup transitions"),
    ("duplicate_handler_calls", "dup handler calls"),
    ("leftover_rows", "rows left"),
    ("recovery_s", "recovery s"),
    ("handover_max_s", "handover max s"),
    ("consumed_max_s", "consumed max s"),
    ("longest_stall_s", "stall s"),
    ("fault_to_done_s", "fault->done s"),
    ("wave_s", "wave s"),
)

NOTES = """\
recovery s: a fault on a worker: median hand-over (strike -> each message the worker held
  sent again or consumed); any other fault: the longest stall (no new history event).
consumed max s: strike -> all of them consumed (includes waiting in the queue's backlog).
fault->done s: strike -> the last execution ended (control run: from the same moment)."""


def table(rows: list[Row]) -> str:
    """The rows as a fixed-width text table, one line per run, deaths and notes below."""
    cells = [[title for _, title in COLUMNS]]
    cells += [[_cell(getattr(row, key)) for key, _ in COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    deaths = [f"  {row.fault}: {death}" for row in rows for death in row.unexpected_deaths]
    if deaths:
        lines += ["", "processes that died on their own (not killed by the suite):", *deaths]
    return "\n".join([*lines, "", NOTES])


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def write(rows: list[Row], default_folder: Path) -> Path:
    """Write the rows as JSON to ``$STEPLINE_CHAOS_REPORT`` (or a file in ``default_folder``)."""
    path = Path(os.environ.get(REPORT_ENV) or default_folder / "chaos-report.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(row) for row in rows], indent=2) + "\n")
    return path
