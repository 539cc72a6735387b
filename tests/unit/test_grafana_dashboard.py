"""deploy/grafana/stepline.json queries only metrics stepline exposes, by their exposed names."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from engine._observe.metrics import StoreGauges, exposition, metrics_registry
from engine._store.repository import Backlog

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "stepline.json"
_NAMES = re.compile(r"\bstepline_[a-z_]+\b")


def exposed_names() -> set[str]:
    """Every sample name a scrape can show (counters, histograms' series, the gauges)."""
    backlog = Backlog(1, 1, 1, 1.0, {"arn:aws:states:us-east-1:1:stateMachine:m": 1})
    gauges = StoreGauges(lambda _: backlog, lambda: datetime.now(UTC))
    body, _ = exposition(metrics_registry(gauges=gauges))
    names = set()
    for family in text_string_to_metric_families(body.decode()):
        names.add(family.name)
        suffixes = {
            "counter": ["_total"],
            "histogram": ["_bucket", "_count", "_sum"],
        }.get(family.type, [""])
        names.update(family.name + suffix for suffix in suffixes)
    return names


def expressions(dashboard: dict[str, Any]) -> list[str]:
    """Every PromQL expression of the dashboard's panels and variables."""
    found = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    return found + [v["definition"] for v in dashboard["templating"]["list"] if "definition" in v]


def test_every_metric_the_dashboard_queries_is_exposed() -> None:
    # Given the dashboard and what a scrape shows
    dashboard = json.loads(DASHBOARD.read_text())
    queried = {name for expr in expressions(dashboard) for name in _NAMES.findall(expr)}
    # Then the dashboard queries something, and nothing that is not exposed
    assert len(queried) >= 10
    assert queried - exposed_names() == set()


def test_the_check_finds_a_misspelt_metric() -> None:
    # Given a name stepline does not expose
    # Then the check would see it
    assert "stepline_execution_started_total" not in exposed_names()
