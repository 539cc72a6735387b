"""Record the golden checkpoints: ``python -m tests.golden.record --write [NAME ...]``.

Each scenario runs on a fresh SQLite store until its pause point; the rows are dumped, a
copy loaded from the dump is resumed to the end, and both go to
``tests/golden/checkpoints/NAME.json``. Record only when the stored format changes on
purpose (a new ``FORMAT_VERSION``): add new files, and keep the old ones, which the test
must go on resuming. Without ``--write`` it only says whether a recording would differ.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from engine._store.checkpoint import FORMAT_VERSION
from engine._store.db import make_engine
from engine._store.migrate import head, upgrade
from engine._store.repository import Store
from tests.golden.scenarios import GOLDEN, SCENARIOS, Scenario, resume, run_until_paused

Json = Any


def _fresh_store(directory: Path, name: str) -> Store:
    url = f"sqlite:///{directory / name}.db"
    upgrade(url)
    return Store(make_engine(url))


def record(scenario: Scenario, directory: Path) -> dict[str, Json]:
    """The golden checkpoint of ``scenario``: the paused rows and the history it ends with."""
    paused = _fresh_store(directory, f"{scenario.name}-paused")
    golden = run_until_paused(paused, scenario)
    paused.engine.dispose()
    resumed = _fresh_store(directory, f"{scenario.name}-resumed")
    golden["history"] = resume(resumed, golden)
    resumed.engine.dispose()
    return {"checkpoint_format": FORMAT_VERSION, "schema_revision": head(), **golden}


def main(argv: list[str]) -> int:
    """Record every scenario (or those named); write them with ``--write``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="scenarios to record (default: all)")
    parser.add_argument("--write", action="store_true", help="write the files")
    options = parser.parse_args(argv)
    chosen = [s for s in SCENARIOS if not options.names or s.name in options.names]
    GOLDEN.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as directory:
        for scenario in chosen:
            golden = record(scenario, Path(directory))
            path = GOLDEN / f"{scenario.name}.json"
            # Not sort_keys: the key order inside stored JSON values is part of what resumes.
            text = json.dumps(golden, indent=1, ensure_ascii=False) + "\n"
            if options.write:
                path.write_text(text, encoding="utf-8")
                print(f"wrote {path}")
            else:  # seeds and revision ids are random: compare what the run ends with
                old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
                same = old.get("history") == golden["history"]
                print(f"{path}: history {'unchanged' if same else 'would change'} (--write)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
