"""Each peer in its own virtualenv under ``benchmarks/.peers/``, installed from PyPI once."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PEERS_DIR = Path(__file__).resolve().parent.parent / ".peers"
DRIVERS = Path(__file__).resolve().parent / "drivers"


@dataclass(frozen=True)
class Engine:
    """An engine the benchmark drives: its interpreter and its driver script."""

    name: str
    python: Path
    driver: Path
    requirement: str | None = None  # pinned PyPI requirement of a peer; None for stepline


PEERS = (
    Engine(
        "local-workflow-engine",
        PEERS_DIR / "local-workflow-engine" / "bin" / "python",
        DRIVERS / "lwe_driver.py",
        "local-workflow-engine==1.0.4",
    ),
    Engine(
        "pyaslengine",
        PEERS_DIR / "pyaslengine" / "bin" / "python",
        DRIVERS / "pyaslengine_driver.py",
        "pyaslengine==0.8.0",
    ),
)
STEPLINE = Engine("stepline", Path(sys.executable), DRIVERS / "stepline_driver.py")


def ensure_installed(engine: Engine) -> None:
    """Create the peer's virtualenv and pip-install it, unless that was done before."""
    if engine.requirement is None or engine.python.exists():
        return
    home = engine.python.parent.parent
    print(f"installing {engine.requirement} into {home} ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(home)], check=True)
    pip = [str(engine.python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, engine.requirement], check=True)
