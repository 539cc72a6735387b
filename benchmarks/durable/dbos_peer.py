"""DBOS Transact, the durable-execution peer: in its own virtualenv, driven in a subprocess."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from benchmarks.fleet import Services
from benchmarks.inprocess.peers import PEERS_DIR, Engine, ensure_installed

DBOS = Engine(
    "dbos",
    PEERS_DIR / "dbos" / "bin" / "python",
    Path(__file__).resolve().parent / "drivers" / "dbos_driver.py",
    "dbos==3.4.0",
)
QUEUE_POLLING_SECONDS = 0.05
"""How often DBOS's queue runner looks for work (its default, 1 s, would time the poll)."""


def install() -> None:
    """Create benchmarks/.peers/dbos and pip-install DBOS, unless that was done before."""
    ensure_installed(DBOS)


def database_url(services: Services) -> str:
    """DBOS's system database: its own database on the same PostgreSQL server."""
    server = services.postgres.replace("postgresql+psycopg://", "postgresql://")
    return server.rsplit("/", 1)[0] + f"/{services.database}"


def measure(
    services: Services, steps: int, runs: int, queue_workflows: int, queue_steps: int
) -> dict[str, Any]:
    """One sample from a fresh DBOS process on a freshly created database."""
    services.recreate_database()
    job = {
        "database_url": database_url(services),
        "steps": steps,
        "warmup": 3,
        "runs": runs,
        "queue_workflows": queue_workflows,
        "queue_steps": queue_steps,
        "queue_polling_s": QUEUE_POLLING_SECONDS,
    }
    done = subprocess.run(
        [str(DBOS.python), str(DBOS.driver)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        check=False,
        timeout=1200,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the DBOS driver failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result
