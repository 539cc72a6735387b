"""Summaries of repeated measurements: median and spread, as docs/celery-facts.md gives them."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Summary:
    """Median, extremes and spread ((max - min) / median, in %) of a few runs."""

    median: float
    low: float
    high: float
    runs: int

    @property
    def spread_pct(self) -> float:
        return (self.high - self.low) / self.median * 100 if self.median else 0.0

    def show(self, digits: int = 1) -> str:
        if self.runs == 1:
            return f"{self.median:.{digits}f} (1 run)"
        return (
            f"{self.median:.{digits}f} ({self.low:.{digits}f}–{self.high:.{digits}f}, "
            f"spread {self.spread_pct:.0f}%)"
        )

    def as_dict(self) -> dict[str, float]:
        return {"median": self.median, "low": self.low, "high": self.high, "runs": self.runs}


def summarise(values: list[float]) -> Summary:
    """The summary of ``values`` (at least one)."""
    return Summary(statistics.median(values), min(values), max(values), len(values))
